@testable import CRMAnalytics
import CRMCore
@testable import CRMWeb
import Foundation
import Testing

/// Fixed fixtures, so pages render the same on every run.
enum Fixture {
    static let instant = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-19 in Shanghai
    static let viewer = Viewer(id: 3, name: "李销售", role: .sales)

    static func context(_ language: UILanguage, viewer: Viewer? = Fixture.viewer, path: String = "/") -> PageContext {
        PageContext(language: language, viewer: viewer, csrfToken: "token-123", path: path)
    }

    static func customer(name: String = "张伟", style: PersonalityStyle? = .analytical) -> Customer {
        Customer(id: Customer.ID(42), kind: .person, name: name, roles: [.customer], email: "zhang.wei@example.com", phone: "+8613800138000",
                 profile: CustomerProfile(gender: .male, hobbies: ["钓鱼"], preferredChannel: .wechat,
                                          contactWindows: [ContactWindow(weekday: 2, start: "09:00", end: "11:30")],
                                          personalityStyle: style, personalityEvidence: "办公室整洁"),
                 tags: ["VIP"], ownerID: User.ID(3), createdAt: instant, updatedAt: instant, version: 4)
    }

    static func analysis(tier: CustomerTier = .gold) -> CustomerAnalysis {
        CustomerAnalysis(id: 42, tier: tier, valueLevel: tier.threeLevel, loyaltyStage: .loyal, buyingType: .relational, trajectory: .topProfitNow,
                         recencyScore: 5, frequencyScore: 4, monetaryScore: 5, rfmSegment: .champions, expectedPurchases: 2.4,
                         probabilityAlive: 0.93, clvMinor: 1_234_500, churnRisk: .low, silentChurn: false,
                         windowRevenueMinor: 500_000, windowProfitMinor: 120_000)
    }

    static func page360(_ customer: Customer = customer()) -> Customer360Page {
        let order = Order(id: Order.ID(7), customerID: Customer.ID(42), orderDate: CalendarDate("2026-10-02")!, channel: "store", currency: .cny,
                          lines: [OrderLine(productID: Product.ID(1), quantity: 2, unitPrice: 25_000, discount: 1_000, unitCost: 15_000, onPromotion: false)],
                          externalID: "SO-1001", createdAt: instant, updatedAt: instant, version: 1)
        let call = Interaction(id: Interaction.ID(9), customerID: Customer.ID(42), kind: .call, direction: .outbound, subject: "续约", notes: "客户要书面方案",
                               outcome: "约下周拜访", userID: User.ID(3), occurredAt: instant, createdAt: instant)
        let summary = PurchaseSummary(customerID: Customer.ID(42), currency: .cny, firstPurchase: CalendarDate("2025-01-05")!, lastPurchase: CalendarDate("2026-10-02")!,
                                      orderCount: 6, purchaseDays: 6, revenue: 1_250_050, profit: 300_000, promotionRevenue: 0, repeatRevenue: 1_000_000)
        return Customer360Page(
            customer: customer, ownerName: "李销售",
            contacts: [.init(customerID: 50, name: "华东医疗有限公司", jobTitle: "采购经理", buyingRole: .decisionMaker, influence: 80)],
            summaries: [summary], analysis: analysis(), analysisCurrency: "CNY", orders: [order], interactions: [(call, userName: "李销售")],
            openTasks: [], consents: [], tierChanges: [(on: CalendarDate("2026-11-01")!, measure: "tier", before: "iron", after: "gold")],
            changes: nil, canEdit: true, assignees: [(3, "李销售"), (4, "王销售")], today: CalendarDate("2026-11-19")!)
    }

    static func dashboard() -> CustomerBaseDashboard {
        CustomerBaseDashboard(
            asOf: "2026-11-19", currency: "CNY", customers: 1000, buyers: 800, measure: .profit,
            tiers: [.init(tier: "platinum", customers: 10, revenueMinor: 9_000_000, profitMinor: 3_000_000, revenueShare: 0.3, profitShare: 0.35),
                    .init(tier: "gold", customers: 40, revenueMinor: 6_000_000, profitMinor: 2_000_000, revenueShare: 0.2, profitShare: 0.22),
                    .init(tier: "iron", customers: 150, revenueMinor: 9_000_000, profitMinor: 2_500_000, revenueShare: 0.3, profitShare: 0.28),
                    .init(tier: "lead", customers: 800, revenueMinor: 6_000_000, profitMinor: 1_300_000, revenueShare: 0.2, profitShare: 0.15)],
            valueLevels: [],
            pareto: (1...10).map { .init(percent: $0 * 10, customers: $0 * 100, revenueShare: min(1, 0.5 + Double($0) * 0.05), profitShare: min(1, 0.55 + Double($0) * 0.045)) },
            revenueShareOfTop20Percent: 0.6, customersFor80PercentOfRevenue: 312,
            rfmSegments: [.init(key: "champions", customers: 120), .init(key: "at_risk", customers: 60)],
            rfmGrid: (0..<5).map { r in (0..<5).map { c in (r + 1) * (c + 2) } },
            loyaltyStages: [], buyingTypes: [], trajectories: [], churnRisk: [], silentChurn: 25,
            clvDistribution: (0..<10).map { .init(fromMinor: Int64($0) * 10_000, toMinor: Int64($0 + 1) * 10_000, customers: 80) },
            repeatModel: nil, spendModel: nil)
    }
}

@Suite("Strings in both languages")
struct StringsTests {
    @Test func everyKeyAndDomainTermHasBothTranslations() {
        #expect(Strings.missingTranslations() == [])
    }

    @Test func domainTermsUseTheChineseOfTheSpecification() {
        let zh = Strings(.zhHans)
        #expect(zh.term(CustomerTier.platinum) == "白金客户" && zh.term(LoyaltyStage.loyal) == "忠诚客户")
        #expect(zh.term(PersonalityStyle.driver) == "主观型" && zh.term(BuyingRole.insideCoach) == "内线")
        #expect(Strings(.en).term(CustomerTier.lead) == "Lead")
    }

    @Test(arguments: [
        ("en-GB,en;q=0.9,zh-CN;q=0.8", UILanguage.en), ("zh-CN,zh;q=0.9,en;q=0.8", .zhHans), ("fr-FR,en;q=0.5", .en),
        ("de, zh-TW;q=0.4, en;q=0.3", .zhHans), ("en;q=0, zh;q=0.1", .zhHans), ("", .zhHans),
    ])
    func acceptLanguageChoosesTheBrowsersPreference(header: String, expected: UILanguage) {
        #expect(UILanguage.preferred(acceptLanguage: header) == expected)
    }

    @Test func moneyIsShownExactlyFromMinorUnits() {
        let s = Strings(.zhHans)
        #expect(s.money(123_456_789, currency: "CNY") == "¥1,234,567.89")
        #expect(s.money(-5, currency: "USD") == "−$0.05")
        #expect(s.moneyRounded(149_950, currency: "CNY") == "¥1,500")
        #expect(s.count(1_000_000) == "1,000,000")
    }
}

@Suite("Pages")
struct PageTests {
    @Test func customer360Snapshot() {
        assertSnapshot(Fixture.page360().render(Fixture.context(.zhHans, path: "/customers/42")), named: "customer-360-zh")
        assertSnapshot(Fixture.page360().render(Fixture.context(.en, path: "/customers/42")), named: "customer-360-en")
    }

    @Test func dashboardSnapshot() {
        let page = DashboardPage(dashboard: Fixture.dashboard(), tasksDue: [], silentChurners: [
            .init(id: 5, name: "陈静", kind: .person, tier: .iron, ownerName: "李销售"),
        ])
        assertSnapshot(page.render(Fixture.context(.zhHans)), named: "dashboard-zh")
    }

    @Test func customerListSnapshot() {
        let page = CustomerListPage(filters: .init(query: ["q": "张", "tier": "gold"]), rows: [
            .init(id: 42, name: "张伟", kind: .person, email: "zhang.wei@example.com", tier: .gold, loyaltyStage: .loyal,
                  rfmSegment: .champions, churnRisk: .low, ownerName: "李销售"),
        ], nextCursor: "abc", owners: [(3, "李销售")], canCreate: true)
        assertSnapshot(page.render(Fixture.context(.en, path: "/customers")), named: "customer-list-en")
    }

    @Test func signInSnapshot() {
        assertSnapshot(SignInPage(problem: "用户名或密码不正确").render(Fixture.context(.zhHans, viewer: nil, path: "/login")), named: "sign-in-zh")
    }

    @Test func everythingTypedIsEscaped() {
        let html = Fixture.page360(Fixture.customer(name: #"<script>alert("x")</script>"#)).render(Fixture.context(.zhHans))
        #expect(!html.contains("<script>alert"))
        #expect(html.contains("&lt;script&gt;alert"))
    }

    /// Plot writes attribute values as given: every typed value in an attribute must be escaped.
    @Test func typedTextCannotLeaveItsAttribute() {
        let hostile = #"x" autofocus onfocus="alert(1)"#
        var fields = CustomerFormPage.Fields(Fixture.customer(name: hostile))
        fields.industry = hostile
        let form = CustomerFormPage(customerID: 42, version: 1, fields: fields, owners: [(3, hostile)]).render(Fixture.context(.en, path: "/x?\(hostile)"))
        let list = CustomerListPage(filters: .init(query: ["q": hostile, "tag": hostile]), rows: [], nextCursor: nil, owners: [(3, hostile)],
                                    canCreate: false).render(Fixture.context(.en, path: "/customers?q=\(hostile)"))
        let signIn = SignInPage(username: hostile, next: hostile).render(Fixture.context(.en, viewer: nil))
        let audit = AuditPage(filters: .init(query: ["entityID": hostile]), entries: [], nextCursor: nil).render(Fixture.context(.en))
        for html in [form, list, signIn, audit] {
            #expect(html.range(of: #"<[^>]*\sonfocus=""#, options: .regularExpression) == nil)
            #expect(html.contains("x&quot; autofocus onfocus=&quot;alert(1)"))
        }
    }

    @Test func emptyChoicesSubmitAnEmptyValue() {
        let html = CustomerListPage(filters: .init(), rows: [], nextCursor: nil, owners: [], canCreate: false).render(Fixture.context(.en))
        #expect(html.contains(#"<option value>Any</option>"#))  // an empty value, written short
    }

    @Test func timelineIsNewestFirstAcrossSources() {
        var page = Fixture.page360()
        page.changes = [
            .init(at: Fixture.instant.addingTimeInterval(60), actorName: "王经理", action: .update,
                  changes: [FieldChange(field: "industry", before: nil, after: "医疗")]),
            .init(at: Date(timeIntervalSince1970: 1_700_000_000), actorName: "李销售", action: .create,
                  changes: [FieldChange(field: "name", before: nil, after: "张伟")]),
        ]
        let audited = page.timeline(Strings(.zhHans)).filter { $0.kind == .change }
        #expect(audited.map(\.title) == ["修改 · 王经理", "创建 · 李销售"])
        #expect(audited.map(\.detail) == ["industry: — → 医疗", nil])
        let entries = Fixture.page360().timeline(Strings(.zhHans))
        #expect(entries.map(\.kind) == [.interaction, .tierChange, .order])
        #expect(entries.last?.title == "订单 SO-1001" && entries.last?.detail == "¥490.00 · 利润 ¥190.00")
    }

    @Test func playbookFollowsThePersonalityStyle() {
        let analytical = Fixture.page360().render(Fixture.context(.zhHans))
        #expect(analytical.contains("销售指南 · 分析型") && analytical.contains("书面方案，详尽细节，准确事实"))
        let none = Fixture.page360(Fixture.customer(style: nil)).render(Fixture.context(.en))
        #expect(!none.contains(#"id="playbook""#))
    }

    @Test func pyramidCarriesEachTiersCount() {
        let html = DashboardPage(dashboard: Fixture.dashboard(), tasksDue: [], silentChurners: []).render(Fixture.context(.en))
        for (tier, count) in [("platinum", 10), ("gold", 40), ("iron", 150), ("lead", 800)] {
            #expect(html.contains(#"data-tier="\#(tier)" data-customers="\#(count)""#))
        }
        #expect(html.contains("Platinum · 10") && html.contains("Lead · 800"))
    }

    @Test func settingsFormShowsSharesExactlyEnoughToSaveThemUnchanged() {
        var settings = AnalyticsSettings()
        settings.platinumShare = 0.00125
        settings.monthlyDiscountRate = 0.0075
        let fields = Dictionary(uniqueKeysWithValues: AdminPage.settingsFields(settings).map { ($0.name, $0.value) })
        #expect(fields["platinumShare"] == "0.125" && fields["goldShare"] == "4" && fields["monthlyDiscountRate"] == "0.75")
        let (again, problems) = AdminPage.applySettings(fields, to: settings)
        #expect(problems.isEmpty && again == settings)
    }

    @Test func customerFormReportsUnreadableDates() {
        var fields = CustomerFormPage.Fields()
        fields.name = "张伟"; fields.birthday = "1990-02-30"; fields.hobbies = "钓鱼，摄影、 跑步"
        let (input, problems) = fields.apply(to: CustomerInput(kind: .person, name: ""))
        #expect(problems == ["birthday": "must be a date YYYY-MM-DD"])
        #expect(input.profile.hobbies == ["钓鱼", "摄影", "跑步"])
        #expect(CustomerFormPage.field(forPointer: "/profile/birthday") == "birthday" && CustomerFormPage.field(forPointer: "/tags/2") == "tags")
    }
}
