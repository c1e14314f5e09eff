import CRMAnalytics
import CRMCore
import CRMStore
import CRMTestSupport
import Foundation
import SQLKit
import Testing

@Suite("Purchase months and stored analytics")
struct AnalyticsStoreTests {
    static func months(_ store: Store, _ c: Customer.ID) async throws -> [String: [Int64]] {
        try await store.database.read { db in
            let rows = try await db.raw("SELECT month, order_count, revenue, profit FROM purchase_months WHERE customer_id = \(bind: c.rawValue)").all()
            var out: [String: [Int64]] = [:]
            for r in rows {
                out[try r.decode(column: "month", as: String.self)] = [try r.decode(column: "order_count", as: Int64.self),
                                                                        try r.decode(column: "revenue", as: Int64.self),
                                                                        try r.decode(column: "profit", as: Int64.self)]
            }
            return out
        }
    }

    @Test(arguments: TestBackend.available)
    func monthlyBucketsFollowEveryOrderWriteAndVerifyCatchesDamage(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let c = try await store.customers.create(makeCustomerInput("月度"), by: users.admin)
            let p = try await store.products.create(makeProductInput(), by: users.admin)
            _ = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id, date: "2026-03-10", quantity: 2), by: users.admin)
            let moving = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id, date: "2026-03-28"), by: users.admin)
            _ = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id, date: "2026-05-01", discount: 1_000), by: users.admin)
            #expect(try await Self.months(store, c.id) == ["2026-03": [2, 30_000, 12_000], "2026-05": [1, 9_000, 3_000]])

            _ = try await store.orders.update(moving.id, with: makeOrderInput(customer: c.id, product: p.id, date: "2026-04-02"),
                                              ifVersion: moving.version, by: users.admin)
            #expect(try await Self.months(store, c.id) == ["2026-03": [1, 20_000, 8_000], "2026-04": [1, 10_000, 4_000], "2026-05": [1, 9_000, 3_000]])
            #expect(try await store.summaries.verify().isEmpty)

            try await store.database.write { db in
                try await db.raw("UPDATE purchase_months SET profit = profit + 1 WHERE customer_id = \(bind: c.id.rawValue) AND month = '2026-04'").run()
            }
            #expect(try await store.summaries.verify() == [c.id])
            try await store.summaries.repair([c.id])
            #expect(try await store.summaries.verify().isEmpty)
        }
    }

    /// The check goes through the customers a range of ids at a time; whatever the range,
    /// it finds the same damage, at the edges of a range too.
    @Test(arguments: TestBackend.available)
    func verifyFindsTheSameDamageWhateverItsPassSize(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let p = try await store.products.create(makeProductInput(), by: users.admin)
            var customers: [Customer.ID] = []
            for k in 1...4 {
                let c = try await store.customers.create(makeCustomerInput("核对\(k)"), by: users.admin)
                _ = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id, date: "2026-03-1\(k)"), by: users.admin)
                customers.append(c.id)
            }
            #expect(try await store.summaries.verify(customersPerPass: 1).isEmpty)
            try await store.database.write { [customers] db in
                try await db.raw("UPDATE purchase_summaries SET revenue = revenue + 1 WHERE customer_id = \(bind: customers[0].rawValue)").run()
                try await db.raw("DELETE FROM purchase_summaries WHERE customer_id = \(bind: customers[1].rawValue)").run()
                try await db.raw("UPDATE purchase_months SET order_count = 2 WHERE customer_id = \(bind: customers[3].rawValue)").run()
            }
            let damaged = [customers[0], customers[1], customers[3]]
            for perPass in [1, 2, 3, 100_000] as [Int64] {
                #expect(try await store.summaries.verify(customersPerPass: perPass) == damaged, "\(perPass) customers per pass")
            }
        }
    }

    @Test(arguments: TestBackend.available)
    func inputsResultsFiltersAndHistory(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let p = try await store.products.create(makeProductInput(price: 10_000, cost: 6_000), by: users.admin)
            // Buyers: customer k buys k times, one order a month ending in 2026-10, so profits differ.
            var buyers: [Customer.ID] = []
            for k in 1...12 {
                let c = try await store.customers.create(makeCustomerInput("买家\(k)"), by: users.admin)
                buyers.append(c.id)
                for m in 0..<k {
                    let month = 10 - m % 10, year = m < 10 ? 2026 : 2025
                    _ = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id, date: String(format: "%04d-%02d-15", year, month),
                                                                     promotion: k == 3), by: users.admin)
                }
            }
            // An order from the previous window only (2025-06 is outside 2025-12…2026-11).
            _ = try await store.orders.create(makeOrderInput(customer: buyers[0], product: p.id, date: "2025-06-01", quantity: 5), by: users.admin)
            // An order in the as-of month itself, which has only just begun: not in the window.
            _ = try await store.orders.create(makeOrderInput(customer: buyers[1], product: p.id, date: "2026-11-05"), by: users.admin)
            let prospect = try await store.customers.create(makeCustomerInput("潜在", roles: [.prospect]), by: users.admin)
            _ = try await store.customers.create(makeCustomerInput("供应商", roles: [.supplier]), by: users.admin)
            let dollars = try await store.customers.create(makeCustomerInput("Dollar Buyer"), by: users.admin)
            var usd = makeOrderInput(customer: dollars.id, product: p.id, date: "2026-10-01")
            usd.currency = Currency("USD")!
            _ = try await store.orders.create(usd, by: users.admin)

            var settings = AnalyticsSettings()
            settings.windowMonths = 12
            let asOf = CalendarDate("2026-11-20")!
            let inputs = try await store.analytics.inputs(asOf: asOf, settings: settings)
            #expect(inputs.map(\.id) == (buyers + [prospect.id]).map(\.rawValue),
                    "suppliers without purchases, and buyers only in another currency, are not analysed")
            let first = try #require(inputs.first)
            #expect(first.orderCount == 2 && first.purchaseDays == 2 && first.revenueMinor == 60_000)
            #expect(first.windowRevenueMinor == 10_000 && first.windowProfitMinor == 4_000 && first.previousWindowProfitMinor == 20_000)
            #expect(first.firstPurchaseDay == CalendarDate("2025-06-01")!.daysSinceEpoch)
            #expect(inputs[1].orderCount == 3 && inputs[1].windowRevenueMinor == 20_000, "2026-09 and 10 count, 2026-11 not yet")
            let twelve = inputs[11]
            #expect(twelve.windowRevenueMinor == 100_000 && twelve.previousWindowProfitMinor == 8_000,
                    "the window is 2025-11…2026-10 (whole months before the as-of month): 2025-09 and 10 are before it")
            #expect(inputs[12].orderCount == 0 && inputs[12].firstPurchaseDay == nil)

            // A first run, then one with revenue-ranked, wider tiers: the changes are recorded.
            let analysis = CustomerBaseAnalysis(inputs, asOfDay: asOf.daysSinceEpoch, settings: settings)
            let run = try await store.analytics.store(analysis, asOf: asOf, settings: settings, startedAt: Date(), by: users.manager)
            let stored = try await store.analytics.analyses(of: (buyers + [prospect.id]))
            #expect(stored.count == 13)
            for a in analysis.customers { #expect(stored[Customer.ID(a.id)]?.analysis == a && stored[Customer.ID(a.id)]?.runID == run.id) }
            #expect(try await store.analytics.latestRun()?.dashboard == analysis.dashboard)

            let platinum = try await store.customers.list(.init(tier: .platinum)).items.map(\.id.rawValue)
            #expect(platinum == analysis.customers.filter { $0.tier == .platinum }.map(\.id) && !platinum.isEmpty)
            let potential = try await store.customers.list(.init(loyaltyStage: .potential)).items.map(\.id)
            #expect(potential == [prospect.id])
            // Filtering by a check per customer (chosen when many match) pages the same as by a list.
            let checking = CustomerRepository(database: store.database, analyticsListLimit: 1)
            for query in [CustomerRepository.Query(tier: .lead, sort: .name, limit: 3), .init(loyaltyStage: .potential),
                          .init(tier: .platinum, churnRisk: .high), .init(rfmSegment: .champions, sort: .updatedAtDescending, limit: 2)] {
                var byList: [Customer.ID] = [], byCheck: [Customer.ID] = []
                var cursor: String?, checkCursor: String?
                repeat {
                    var q = query; q.cursor = cursor
                    let page = try await store.customers.list(q)
                    byList += page.items.map(\.id); cursor = page.nextCursor
                } while cursor != nil
                repeat {
                    var q = query; q.cursor = checkCursor
                    let page = try await checking.list(q)
                    byCheck += page.items.map(\.id); checkCursor = page.nextCursor
                } while checkCursor != nil
                #expect(byList == byCheck)
            }
            #expect(try await checking.list(.init(tier: .lead, limit: 500)).items.count == analysis.customers.filter { $0.tier == .lead }.count)

            var wider = settings
            wider.goldShare = 0.30
            wider.ironShare = 0.30
            let second = CustomerBaseAnalysis(inputs, asOfDay: asOf.daysSinceEpoch, settings: wider)
            let run2 = try await store.analytics.store(second, asOf: asOf, settings: wider, startedAt: Date(), by: nil)
            var expectedChanges: [Int64: (String, String)] = [:]
            for (a, b) in zip(analysis.customers, second.customers) where a.tier != b.tier { expectedChanges[a.id] = (a.tier.rawValue, b.tier.rawValue) }
            #expect(!expectedChanges.isEmpty)
            for id in buyers {
                let history = try await store.analytics.history(of: id).filter { $0.measure == .tier }
                if let (before, after) = expectedChanges[id.rawValue] {
                    #expect(history.map(\.before) == [before] && history.map(\.after) == [after] && history.first?.runID == run2.id)
                } else {
                    #expect(history.isEmpty)
                }
            }
        }
    }

    /// Results are written as SQL literals: the extremes of each kind of value must come back
    /// as they went in (negative and the largest numbers, absent values), and a value the
    /// maths could not give (NaN, infinity) as absent.
    @Test(arguments: TestBackend.available)
    func extremeResultsRoundTrip(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let a = try await store.customers.create(makeCustomerInput("甲"), by: users.admin)
            let b = try await store.customers.create(makeCustomerInput("乙"), by: users.admin)
            let asOf = CalendarDate("2026-11-20")!
            var analysis = CustomerBaseAnalysis([CustomerSummaryInput(id: a.id.rawValue), CustomerSummaryInput(id: b.id.rawValue)],
                                                asOfDay: asOf.daysSinceEpoch)
            analysis.customers[0].windowRevenueMinor = .max
            analysis.customers[0].windowProfitMinor = .min
            analysis.customers[0].clvMinor = -1
            analysis.customers[0].expectedPurchases = 1e-300
            analysis.customers[0].probabilityAlive = 0.123456789012345
            analysis.customers[0].recencyScore = 5
            analysis.customers[0].rfmSegment = .atRisk
            analysis.customers[0].silentChurn = true
            analysis.customers[1].expectedPurchases = .nan
            analysis.customers[1].probabilityAlive = .infinity
            analysis.customers[1].clvMinor = nil
            analysis.customers[1].windowProfitMinor = 0
            _ = try await store.analytics.store(analysis, asOf: asOf, settings: AnalyticsSettings(), startedAt: Date(), by: users.admin)
            let stored = try await store.analytics.analyses(of: [a.id, b.id])
            #expect(stored[a.id]?.analysis == analysis.customers[0])
            var unknown = analysis.customers[1]
            unknown.expectedPurchases = nil
            unknown.probabilityAlive = nil
            #expect(stored[b.id]?.analysis == unknown)
        }
    }

    @Test(arguments: TestBackend.available)
    func onlyAdminsChangeSettingsAndBadOnesAreNamed(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            var settings = AnalyticsSettings()
            settings.platinumShare = 0.02
            await #expect(throws: DomainError.self) { try await store.analytics.saveSettings(settings, by: users.manager) }
            var bad = settings
            bad.platinumShare = 1.5
            bad.windowMonths = 0
            do {
                _ = try await store.analytics.saveSettings(bad, by: users.admin)
                Issue.record("bad settings were saved")
            } catch let error as DomainError {
                #expect(pointers(error) == ["/platinumShare", "/ironShare", "/windowMonths"])
            }
            #expect(try await store.analytics.settings() == AnalyticsSettings())
            _ = try await store.analytics.saveSettings(settings, by: users.admin)
            #expect(try await store.analytics.settings().platinumShare == 0.02)
            let audit = try await store.audit.list(.init(entity: "analytics_settings"), by: users.admin)
            #expect(audit.items.count == 1)
        }
    }
}
