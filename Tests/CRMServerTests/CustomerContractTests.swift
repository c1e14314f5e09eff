import CRMAPI
import CRMAnalytics
import CRMCore
import CRMStore
@testable import CRMServer
import Foundation
import Testing

@Suite("Customer mapping")
struct CustomerContractTests {
    /// The direct mapping must say exactly what the JSON round trip says, for every case of
    /// every enum a customer and its analysis carry, and with everything optional absent.
    @Test func directMappingEqualsTheRoundTrip() throws {
        let now = Date(timeIntervalSince1970: 1_790_000_000) // whole seconds: the round trip keeps milliseconds only
        func pick<E: CaseIterable>(_ k: Int) -> E { let all = Array(E.allCases); return all[k % all.count] }
        // Enough customers that every case of the longest enum appears.
        let rounds = [RFMSegment.allCases.count, ValueTrajectory.allCases.count, LoyaltyStage.allCases.count, CustomerTier.allCases.count,
                      CustomerRole.allCases.count, ContactChannel.allCases.count, PersonalityStyle.allCases.count, Gender.allCases.count].max()!
        for k in 0..<rounds {
            let profile = CustomerProfile(
                gender: pick(k), birthday: CalendarDate(year: 1990, month: k % 12 + 1, day: 15), hobbies: ["茶", "golf"], familyNotes: "两个孩子",
                preferredChannel: pick(k), timeZone: "Asia/Shanghai",
                contactWindows: [ContactWindow(weekday: k % 7 + 1, start: "09:00", end: "12:00")],
                doNotContact: [DoNotContactPeriod(from: CalendarDate("2026-02-01")!, to: CalendarDate("2026-02-10")!, reason: "春节")],
                personalityStyle: pick(k), personalityEvidence: "asks for data", industry: "制造业")
            let customer = Customer(
                id: Customer.ID(Int64(k + 1)), kind: pick(k), name: "张伟 \(k)", roles: [pick(k), pick(k + 1)], email: "z\(k)@example.com",
                phone: "+8613800000000", profile: profile, tags: ["VIP", "展会"], source: "展会", ownerID: User.ID(3),
                customFields: ["region": .text("华东"), "budget": .number(120_000.5)], externalID: "C-\(k)",
                archivedAt: k == 3 ? now : nil, createdAt: now, updatedAt: now.addingTimeInterval(60), version: Int64(k + 1))
            let analysis = StoredCustomerAnalysis(runID: 9, currency: "CNY", analysis: CustomerAnalysis(
                id: Int64(k + 1), tier: pick(k), valueLevel: pick(k), loyaltyStage: pick(k), buyingType: pick(k), trajectory: pick(k),
                recencyScore: k % 5 + 1, frequencyScore: 2, monetaryScore: 3, rfmSegment: pick(k), expectedPurchases: 1.2345678901,
                probabilityAlive: 0.5, clvMinor: -12, churnRisk: pick(k), silentChurn: k % 2 == 0, windowRevenueMinor: 100, windowProfitMinor: -5))
            let viaJSON: Components.Schemas.Customer = try Transcode.convert(APIImplementation.CustomerJSON(customer: customer, analysis: analysis))
            #expect(try Components.Schemas.Customer(customer, analysis: analysis) == viaJSON)
        }
        let bare = Customer(id: Customer.ID(1), kind: .organisation, name: "Acme", roles: [], createdAt: now, updatedAt: now, version: 1)
        let bareJSON: Components.Schemas.Customer = try Transcode.convert(APIImplementation.CustomerJSON(customer: bare, analysis: nil))
        #expect(try Components.Schemas.Customer(bare, analysis: nil) == bareJSON)
        let empty = StoredCustomerAnalysis(runID: 2, currency: "USD", analysis: CustomerAnalysis(
            id: 1, tier: .lead, valueLevel: .small, loyaltyStage: .potential, buyingType: nil, trajectory: .ordinary, recencyScore: nil,
            frequencyScore: nil, monetaryScore: nil, rfmSegment: nil, expectedPurchases: nil, probabilityAlive: nil, clvMinor: nil,
            churnRisk: nil, silentChurn: false, windowRevenueMinor: 0, windowProfitMinor: 0))
        let emptyJSON: Components.Schemas.Customer = try Transcode.convert(APIImplementation.CustomerJSON(customer: bare, analysis: empty))
        #expect(try Components.Schemas.Customer(bare, analysis: empty) == emptyJSON)
    }
}
