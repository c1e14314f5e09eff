import CRMCore
import Foundation
import Testing

@Suite("Duplicate rules")
struct DuplicateRulesTests {
    @Test func jaroWinklerMatchesPublishedExamples() {
        // Winkler's (1990) examples, as printed to three decimals.
        #expect((DuplicateRules.jaroWinkler("MARTHA", "MARHTA") * 1000).rounded() / 1000 == 0.961)
        #expect((DuplicateRules.jaroWinkler("DWAYNE", "DUANE") * 1000).rounded() / 1000 == 0.84)
        #expect((DuplicateRules.jaroWinkler("DIXON", "DICKSONX") * 1000).rounded() / 1000 == 0.813)
        #expect(DuplicateRules.jaroWinkler("abc", "xyz") == 0)
        #expect(DuplicateRules.jaroWinkler("same", "same") == 1)
    }

    @Test func chineseNamesMustBeEqualLatinNamesSimilar() {
        #expect(DuplicateRules.nameSimilarity("张伟", "张 伟") == 1)
        #expect(DuplicateRules.nameSimilarity("张伟", "张玮") == nil)
        #expect(DuplicateRules.nameSimilarity("ＪＯＨＮ Smith", "john smith") == 1)
        let s = DuplicateRules.nameSimilarity("Jonathan Smith", "Jonathon Smith")
        #expect(s != nil && s! > DuplicateRules.latinThreshold && s! < 1)
        #expect(DuplicateRules.nameSimilarity("John Smith", "Mary Jones") == nil)
    }

    @Test func evidenceAddsUpToAtMostOne() {
        #expect(DuplicateRules.score([.sameEmail], nameSimilarity: nil) == 0.7)
        #expect(DuplicateRules.score([.similarName], nameSimilarity: 0.94) == 0.47)
        #expect(DuplicateRules.score([.sameEmail, .samePhone, .similarName], nameSimilarity: 1) == 1)
    }
}

@Suite("Audit of created customers")
struct CreatedAuditTests {
    @Test func theDirectAuditIsTheGeneralDiff() {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        var profile = CustomerProfile(gender: .female, birthday: CalendarDate("1988-02-29"), hobbies: ["茶", "golf"], familyNotes: "两个孩子",
                                      preferredChannel: .wechat, personalityStyle: .amiable, personalityEvidence: "笑容", industry: "制造业")
        let rich = Customer(id: Customer.ID(7), kind: .person, name: "张伟", roles: [.customer, .prospect], email: "z@example.com", phone: "+8613800000000",
                            profile: profile, tags: ["VIP", "a \"quoted\" tag"], source: "展会", ownerID: User.ID(3),
                            customFields: ["store": .text("北京"), "since": .text("2020-01-01")], externalID: "E-7",
                            archivedAt: nil, createdAt: now, updatedAt: now, version: 1)
        #expect(FieldChange.created(rich) == FieldChange.diff(nil as Customer?, rich))
        let bare = Customer(id: Customer.ID(8), kind: .organisation, name: "华为", roles: [.customer], profile: CustomerProfile(),
                            tags: [], source: nil, ownerID: nil, customFields: [:], externalID: nil, archivedAt: nil,
                            createdAt: now, updatedAt: now, version: 1)
        #expect(FieldChange.created(bare) == FieldChange.diff(nil as Customer?, bare))
        profile.contactWindows = [ContactWindow(weekday: 1, start: "09:00", end: "11:00")]
        var windowed = rich
        windowed.profile = profile
        windowed.customFields["size"] = .number(2.5)
        #expect(FieldChange.created(windowed) == FieldChange.diff(nil as Customer?, windowed))

        // Orders, as the API writes them (the fast path serves every created order).
        let lines = [OrderLine(productID: Product.ID(1), quantity: 2, unitPrice: 12_345, discount: 45, unitCost: 8_000, onPromotion: true),
                     OrderLine(productID: Product.ID(9), quantity: 1, unitPrice: 99, unitCost: 0)]
        for (channel, external) in [(String?.none, String?.none), ("门店 \"east\"", "SO-1")] {
            let order = Order(id: Order.ID(5), customerID: Customer.ID(7), orderDate: CalendarDate("2026-03-01")!, channel: channel,
                              currency: .cny, lines: lines, externalID: external, createdAt: now, updatedAt: now, version: 1)
            #expect(FieldChange.created(order) == FieldChange.diff(nil as Order?, order))
        }
    }
}
