@testable import CRMCore
import Foundation
import Testing

@Suite("Domain values")
struct CoreTests {
    @Test func moneyParsesAndPrintsExactly() throws {
        #expect(Money.parseMinorUnits("12.5", digits: 2) == 1250)
        #expect(Money.parseMinorUnits("-0.01", digits: 2) == -1)
        #expect(Money.parseMinorUnits("1,000", digits: 2) == nil)
        #expect(Money.parseMinorUnits("1.234", digits: 2) == nil, "more decimals than the currency has")
        #expect(Money.parseMinorUnits("99999999999999999999", digits: 2) == nil, "overflow is refused, not wrapped")
        #expect(Money.parseMinorUnits("92233720368547758.07", digits: 2) == .max && Money.parseMinorUnits("92233720368547758.08", digits: 2) == nil)
        #expect(Money.parseMinorUnits(" .5", digits: 2) == 50 && Money.parseMinorUnits("7.", digits: 2) == 700)
        #expect(Money.parseMinorUnits(".", digits: 2) == nil && Money.parseMinorUnits("-", digits: 2) == nil && Money.parseMinorUnits("1.2.3", digits: 2) == nil)
        #expect(Money.parseMinorUnits("12", digits: 0) == 12 && Money.parseMinorUnits("12.5", digits: 0) == nil)
        #expect("\(DomainError.invalid("/columns/kind", "is required"))" == "/columns/kind is required", "the command line prints this")
        #expect(Normalise.name("SKU-1 x") == "SKU-1 x" && Normalise.name(" A  B ") == "A B" && Normalise.name("ＳＫＵ－１") == "SKU-1")
        #expect(Money(minorUnits: -123_456, currency: .cny).description == "-1234.56 CNY")
        #expect(Money(minorUnits: 500, currency: Currency("jpy")!).description == "500 JPY")
        #expect(throws: MoneyError.currencyMismatch(.cny, .usd)) {
            try Money(minorUnits: 1, currency: .cny).adding(Money(minorUnits: 1, currency: .usd))
        }
        #expect(throws: MoneyError.overflow) {
            try Money(minorUnits: .max, currency: .cny).adding(Money(minorUnits: 1, currency: .cny))
        }
    }

    @Test(arguments: ["1970-01-01", "2000-02-29", "2026-11-22", "1969-12-31", "2100-03-01", "0001-01-01", "0999-12-31", "9999-12-31"])
    func calendarDatesRoundTripThroughDayNumbers(text: String) throws {
        let date = try #require(CalendarDate(text))
        #expect(CalendarDate(daysSinceEpoch: date.daysSinceEpoch) == date)
        #expect(date.description == text)
    }

    @Test func calendarDatesRejectImpossibleDays() {
        #expect(CalendarDate("2026-02-29") == nil)
        #expect(CalendarDate("2026-13-01") == nil)
        #expect(CalendarDate("26-1-1") == nil)
        #expect(CalendarDate("1970-01-02")?.daysSinceEpoch == 1)
        #expect(CalendarDate("2026-01-31")!.adding(days: 1).description == "2026-02-01")
    }

    /// The byte-level fast paths give what the Unicode-aware definitions give, on random
    /// mixes of ASCII, ideographs, full-width forms, other cased letters and spaces.
    @Test func fastNormalisationAgreesWithTheDefinitions() {
        func searchKey(_ raw: String) -> String { Normalise.name(raw).lowercased().filter { !$0.isWhitespace } }
        func email(_ raw: String) -> String? {
            let value = Normalise.name(raw).lowercased()
            // An `@`, `.` or space joined by a combining mark is no longer one, and no address has such.
            for d in ["@", ".", " "] as [Unicode.Scalar] where value.unicodeScalars.count(where: { $0 == d }) != value.count(where: { $0 == Character(d) }) {
                return nil
            }
            let parts = value.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !value.contains(" " as Character), parts[1].contains("." as Character),
                  !parts[1].hasPrefix("."), !parts[1].hasSuffix("."), !parts[1].contains("..") else { return nil }
            return value
        }
        // With a combining mark, which joins the character before it (an `@` so joined is no `@`).
        let pool = Array("aZ.@ 张伟·ＡＢ１　ÉßİΣ-9\t") + [Character("\u{301}")]
        var differing: [String] = []
        for _ in 0..<20_000 {
            let text = String((0..<Int.random(in: 0...9)).map { _ in pool.randomElement()! })
            if Normalise.searchKey(text) != searchKey(text) || Normalise.email(text) != email(text) { differing.append(text) }
        }
        #expect(differing.isEmpty, "\(differing.prefix(5))")
        #expect(Normalise.searchKey("Zhang WEI 张伟") == "zhangwei张伟" && Normalise.email("Li.Na@Example.COM") == "li.na@example.com")
    }

    @Test func normalisationFoldsWhatPeopleType() {
        #expect(Normalise.name("  张　伟 ") == "张 伟", "ideographic space folded and trimmed")
        #expect(Normalise.name("ＡＢＣ１２３") == "ABC123")
        #expect(Normalise.email(" Li.Na@Example.COM ") == "li.na@example.com")
        #expect(Normalise.email("li.na@example") == nil)
        for bad in ["a@b@c.com", "@example.com", "a@.example.com", "a@example.com.", "a@example..com", "a b@example.com", "a@com"] {
            #expect(Normalise.email(bad) == nil, "\(bad)")
        }
        #expect(Normalise.email("a b@example.com") == nil)
        #expect(Normalise.email("a@\u{301}example.com") == nil && Normalise.email("a@example.\u{301}com") == nil)
        #expect(Normalise.email("jos\u{E9}@example.com") == "jos\u{E9}@example.com" && Normalise.email("jose\u{301}@example.com") != nil)
        #expect(Normalise.phone("138-1234-5678") == "+8613812345678")
        #expect(Normalise.phone("010 6552 9988") == "+861065529988", "trunk 0 dropped")
        #expect(Normalise.phone("+1 (415) 555-0100") == "+14155550100")
        #expect(Normalise.phone("0044 20 7946 0018") == "+442079460018")
        #expect(Normalise.phone("555-0100", defaultCountryCode: "1") == "+15550100")
        #expect(Normalise.phone("call me") == nil)
        #expect(Normalise.phone("12") == nil)
    }

    @Test func trimmingKeepsInnerSpaceAndEveryScript() {
        #expect(Normalise.trimmed(" \t李 娜\u{3000}\r\n") == "李 娜", "tab, ideographic space and line ends go")
        #expect(Normalise.trimmed("VIP") == "VIP")
        #expect(Normalise.trimmed(" \n\u{3000} ").isEmpty)
        #expect(Normalise.trimmed("") == "")
        #expect(Normalise.trimmed(" 👩‍💼 ") == "👩‍💼", "a cluster of scalars stays whole")
        #expect(CustomerImportRow.split(" 华东 ; 决策周期长，VIP 、 ") == ["华东", "决策周期长", "VIP"])
    }

    @Test func searchGramsCoverEverySubstring() {
        let grams = SearchGrams.grams(of: ["张三丰", "John"])
        #expect(grams == ["张", "三", "丰", "张三", "三丰", "jo", "oh", "hn"], "single Latin letters are not indexed")
        #expect(SearchGrams.queryGrams("张") == ["张"])
        #expect(SearchGrams.queryGrams("j").isEmpty && SearchGrams.queryGrams("7").isEmpty)
        #expect(SearchGrams.queryGrams("张三丰") == ["张三", "三丰"])
        #expect(SearchGrams.queryGrams("ＪＯ") == ["jo"])
        #expect(Set(SearchGrams.queryGrams("张三丰")).isSubset(of: grams))
    }

    /// Names and grams take shortcuts for plain text (ASCII, Chinese characters); every
    /// string of up to three pieces, plain or not, must come out as the long way gives it.
    @Test func shortcutsForPlainTextGiveWhatTheLongWayGives() {
        let pieces = ["a", "Z", "1", "-", "@", " ", "  ", "张", "伟", "·", "\u{3400}", "é", "e\u{301}", "Ａ", "\u{3000}", "ﬁ", "\u{FA11}", "한", "ｶ", "👩‍💼"]
        var texts = pieces
        for a in pieces { for b in pieces { texts.append(a + b); for c in pieces { texts.append(a + b + c) } } }
        func nameTheLongWay(_ raw: String) -> String {
            raw.precomposedStringWithCompatibilityMapping.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
        }
        func gramsTheLongWay(_ key: String) -> Set<String> {
            let chars = Array(key)
            var grams = Set<String>()
            for (i, c) in chars.enumerated() {
                if SearchGrams.isIdeograph(c) { grams.insert(String(c)) }
                if i + 1 < chars.count { grams.insert(String([c, chars[i + 1]])) }
            }
            return grams
        }
        var wrongNames: [String] = [], wrongGrams: [String] = []
        for text in texts {
            if Normalise.name(text) != nameTheLongWay(text) { wrongNames.append(text) }
            let key = Normalise.searchKey(text)
            if SearchGrams.grams(ofKeys: [key]) != gramsTheLongWay(key) { wrongGrams.append(text) }
        }
        #expect(texts.count == 8_420)
        #expect(wrongNames.isEmpty, "\(wrongNames.prefix(5))")
        #expect(wrongGrams.isEmpty, "\(wrongGrams.prefix(5))")
    }

    @Test func orderTotalsCountDiscountsAndPromotions() {
        let lines = [
            OrderLine(productID: .init(1), quantity: 2, unitPrice: 1_000, discount: 200, unitCost: 600),
            OrderLine(productID: .init(2), quantity: 1, unitPrice: 500, unitCost: 100, onPromotion: true),
            OrderLine(productID: .init(3), quantity: 1, unitPrice: 300, unitCost: 100),
            OrderLine(productID: .init(3), quantity: -1, unitPrice: 300, unitCost: 100),
        ]
        let totals = OrderTotals(lines: lines)
        #expect(totals.revenue == 1_800 + 500 + 300 - 300)
        #expect(totals.cost == 1_200 + 100 + 100 - 100)
        #expect(totals.profit == totals.revenue - totals.cost)
        #expect(totals.promotionRevenue == 1_800 + 500)
    }

    @Test func purchaseSummaryCountsDaysNotOrders() {
        let d = { CalendarDate($0)! }
        let t = { (r: Int64) in OrderTotals(revenue: r, cost: r / 2, promotionRevenue: 0) }
        let s = PurchaseSummary.compute(customerID: .init(1), orders: [
            (d("2026-03-01"), .cny, t(100)), (d("2026-03-01"), .cny, t(50)), (d("2026-04-01"), .cny, t(70)), (d("2026-01-01"), .usd, t(9)),
        ])
        #expect(s.map(\.currency) == [.cny, .usd])
        #expect(s[0].orderCount == 3 && s[0].purchaseDays == 2 && s[0].repeatCount == 1)
        #expect(s[0].repeatRevenue == 70 && s[0].revenue == 220 && s[0].profit == 110)
    }

    @Test func auditDiffNamesChangedFieldsOnly() {
        let now = Date(timeIntervalSince1970: 0)
        var a = Customer(id: .init(1), kind: .person, name: "张伟", roles: [.customer], createdAt: now, updatedAt: now, version: 1)
        var b = a
        b.email = "z@example.com"
        b.profile.hobbies = ["茶道", "登山"]
        b.version = 2
        #expect(FieldChange.diff(a, b) == [
            FieldChange(field: "email", before: nil, after: "z@example.com"),
            FieldChange(field: "profile.hobbies", before: "", after: "茶道, 登山"),
        ])
        a.name = "李娜"
        #expect(FieldChange.diff(a, a).isEmpty)
    }

    @Test func permissionMatrixFollowsTheRoles() {
        let me = User.ID(1), other = User.ID(2)
        func actor(_ role: UserRole, scope: APIToken.Scope? = nil) -> Actor { Actor(userID: me, name: "x", role: role, tokenScope: scope) }
        #expect(AccessPolicy.allows(actor(.sales), .editCustomer(ownerID: me)))
        #expect(!AccessPolicy.allows(actor(.sales), .editCustomer(ownerID: other)))
        #expect(!AccessPolicy.allows(actor(.sales), .editCustomer(ownerID: nil)))
        #expect(AccessPolicy.allows(actor(.manager), .editCustomer(ownerID: other)))
        #expect(!AccessPolicy.allows(actor(.manager), .manageUsers))
        #expect(AccessPolicy.allows(actor(.service), .writeRecord(.interaction, customerOwnerID: other)))
        #expect(!AccessPolicy.allows(actor(.service), .writeRecord(.order, customerOwnerID: other)))
        #expect(AccessPolicy.allows(actor(.marketing), .writeRecord(.consent, customerOwnerID: other)))
        #expect(!AccessPolicy.allows(actor(.admin, scope: .read), .createCustomer), "a read token never writes")
        #expect(AccessPolicy.allows(actor(.admin, scope: .read), .readAudit))
        #expect(AccessPolicy.allows(actor(.service), .manageTokens(ofUser: me)))
        #expect(!AccessPolicy.allows(actor(.manager), .manageTokens(ofUser: other)))
    }

    @Test func customFieldsValidateByKind() {
        let defs = [CustomFieldDefinition(key: "budget", label: "Budget", kind: .number, required: true),
                    CustomFieldDefinition(key: "since", label: "Since", kind: .date),
                    CustomFieldDefinition(key: "tier", label: "Tier", kind: .choice, options: ["A", "B"])]
        #expect(CustomFieldDefinition.validate(["budget": .number(1), "since": .text("2026-01-01"), "tier": .text("A")], against: defs).isEmpty)
        let issues = CustomFieldDefinition.validate(["since": .text("yesterday"), "tier": .text("C"), "x": .text("")], against: defs)
        #expect(issues.map(\.pointer) == ["/customFields/since", "/customFields/tier", "/customFields/x", "/customFields/budget"])
    }

    @Test func headersAreRecognisedIncludingCustomFields() throws {
        let region = CustomFieldDefinition(key: "region", label: "Region", labelZh: "区域", kind: .choice, options: ["华东"])
        #expect(CustomerImportMapping.recognised("区域", customFields: [region]) == .custom("region"))
        #expect(CustomerImportMapping.recognised("邮箱") == .email)
        #expect(CustomerImportMapping.recognised("备注") == nil)
        #expect(CustomerImportField.custom("region")?.customKey == "region")
        let names = CustomerImportMapping.fieldNames(customFields: [region])
        #expect(names.first == "name" && names.last == "custom.region" && names.contains("email"))
        let mapping = try CustomerImportMapping(headers: ["姓名", "区域"], customFields: [region])
        #expect(mapping.column(of: .custom("region")) == 1)
    }

    @Test func orderLineCellsReadAmountsCurrenciesAndTheCustomer() throws {
        let mapping = try OrderImportMapping(headers: ["订单号", "邮箱", "日期", "商品编码", "数量", "单价", "币种"])
        let good = OrderImportRow.parse(["O-1", "A@Example.com", "2026/3/1", "SKU-1", "2", "¥1,000.5", ""], row: 2, mapping: mapping,
                                        defaultCurrency: .cny)
        let row = try good.get()
        #expect(row.customer == .email("a@example.com") && row.unitPrice == 100_050 && row.currency == .cny && row.unitCost == nil)
        let yen = try OrderImportRow.parse(["O-2", "a@example.com", "2026-03-01", "S", "1", "500", "jpy"], row: 3, mapping: mapping,
                                           defaultCurrency: .cny).get()
        #expect(yen.currency == Currency("JPY") && yen.unitPrice == 500)
        guard case .failure(let bad) = OrderImportRow.parse(["O-3", "not-mail", "2026-03-01", "S", "1", "1.001", "元"], row: 4,
                                                            mapping: mapping, defaultCurrency: .cny) else {
            Issue.record("a row with a bad e-mail, amount and currency was accepted")
            return
        }
        #expect(bad.problems.map(\.column) == ["邮箱", "币种", "单价"])
        #expect(bad.problems.map(\.reason) == ["is not an e-mail address", "is not an ISO 4217 currency code (CNY, USD …)",
                                              "must be an amount from 0 with at most 2 decimals"])
    }
}

@Suite("Instants")
struct InstantTests {
    let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// Instants to check, from 1601 to 9999: whole milliseconds (as stored), and then the
    /// same with a fraction of a millisecond (`Date()`). Seeded, so a failure can be repeated.
    func instants() -> (whole: [Date], fractional: [Date]) {
        var state: UInt64 = 20261127
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 11 }
        var whole = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -0.001), Date(timeIntervalSince1970: 951_782_400),
                     Date(timeIntervalSince1970: 4_107_542_399.999)]
        var fractional = [Date(timeIntervalSince1970: 1_798_675_200.0005), Date(timeIntervalSince1970: -0.0004)]
        for _ in 0..<20_000 {
            let milliseconds = Int64(next() % 265_046_774_400_000) - 11_644_473_600_000
            whole.append(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            fractional.append(Date(timeIntervalSince1970: Double(milliseconds) / 1000 + Double(next() % 1000) / 1_000_000))
        }
        return (whole, fractional)
    }

    @Test
    func readsEveryWrittenInstantAsTheFormatStyleDoes() throws {
        let (whole, fractional) = instants()
        for date in whole + fractional {
            let text = style.format(date)
            // The same instant; at most a bit apart (one in about 100,000).
            let read = try #require(Instant.parseUTCWithMilliseconds(text), "\(text)")
            #expect(abs(read.timeIntervalSince(try style.parse(text))) <= read.timeIntervalSinceReferenceDate.ulp, "\(text)")
        }
        // Other spellings still go to the format style.
        #expect(Instant.parse("2026-11-27T17:58:24.123+08:00") == Instant.parse("2026-11-27T09:58:24.123Z"))
        #expect(Instant.parse("2026-11-27T09:58:24Z") == Instant.parse("2026-11-27T09:58:24.000Z"))
        for text in ["2026-02-29T00:00:00.000Z", "2026-11-27T24:00:00.000Z", "2026-11-27T09:58:24.12xZ", "yesterday", ""] {
            #expect(Instant.parseUTCWithMilliseconds(text) == nil, "\(text)")
        }
    }

    @Test
    func writesTheNearestMillisecondAndReadsItBack() throws {
        let (whole, fractional) = instants()
        for date in whole where abs(date.timeIntervalSince1970) < 8_000_000_000 {
            // Years 1717–2223, where a Date holds a millisecond to within a microsecond.
            // The format style truncates, and a whole millisecond is often a hair below it in
            // binary; a tenth of a millisecond more puts it inside the millisecond it means.
            #expect(Instant.format(date) == style.format(date.addingTimeInterval(0.000_1)), "\(date.timeIntervalSince1970)")
        }
        for date in whole + fractional {
            let text = Instant.format(date)
            let read = try #require(Instant.parse(text), "\(text)")
            #expect(abs(read.timeIntervalSince(date)) <= 0.0005 + 4 * date.timeIntervalSinceReferenceDate.ulp, "\(text) \(date.timeIntervalSince1970)")
            #expect(Instant.format(read) == text, "\(text)")
        }
    }
}
