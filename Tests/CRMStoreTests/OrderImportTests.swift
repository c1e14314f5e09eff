import CRMCore
@testable import CRMStore
import CRMTestSupport
import Foundation
import SQLKit
import Synchronization
import Testing

@Suite("Order and product import from CSV")
struct OrderImportTests {
    typealias Collected = CustomerImportTests.Collected

    static func source(_ text: String) throws -> CSVRowSource { try CustomerImportTests.source(text) }
    static func count(_ store: Store, _ table: String) async throws -> Int64 { try await CustomerImportTests.count(store, table) }

    /// Two customers (one found by external id, one by e-mail) and two products.
    static func seed(_ store: Store, _ users: TestUsers) async throws -> (a: Customer, b: Customer, p1: Product, p2: Product) {
        var a = makeCustomerInput("张伟")
        a.externalID = "C-1"
        var b = makeCustomerInput("李娜", email: "li.na@example.com")
        b.externalID = "C-2"
        let p1 = try await store.products.create(makeProductInput("SKU-1", price: 10_000, cost: 6_000), by: users.admin)
        let p2 = try await store.products.create(makeProductInput("SKU-2", price: 2_500, cost: 1_000), by: users.admin)
        return (try await store.customers.create(a, by: users.admin), try await store.customers.create(b, by: users.admin), p1, p2)
    }

    static let lines = """
        订单号,客户编号,邮箱,日期,商品编码,数量,单价,折扣,成本,促销,渠道
        O-1,C-1,,2026-03-01,SKU-1,2,100.00,,,,store
        O-1,C-1,,2026-03-01,SKU-2,1,25,5.00,,是,store
        O-2,,LI.NA@example.com,2026/3/5,SKU-2,4,"1,000.50",,800,,online
        O-3,C-1,,2026-04-10,SKU-1,-1,100,,,,store

        """

    /// Customers who only gained orders wait in the summary backlog until the import ends;
    /// an import that fails part-way still summarises the batches it committed.
    @Test(arguments: TestBackend.available)
    func anImportStoppedPartWaySummarisesWhatItCommitted(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let (a, b, _, _) = try await Self.seed(store, users)
            struct Stop: Error {}
            // An order a commit: O-1, O-2 and O-3 are committed; the unknown customer of O-4 stops it.
            let file = Self.lines + "O-4,C-9,,2026-05-01,SKU-1,1,10,,,,store\n"
            await #expect(throws: Stop.self) {
                _ = try await store.orderImport.run(try Self.source(file), options: OrderImportOptions(batchSize: 1), by: users.admin,
                                                    problems: { _ in throw Stop() })
            }
            #expect(try await store.orders.list(.init(customerID: a.id)).items.count == 2)
            #expect(try await store.summaries.summaries(of: a.id).first?.orderCount == 2)
            #expect(try await store.summaries.summaries(of: b.id).first?.orderCount == 1)
            #expect(try await store.summaries.verify().isEmpty)
            #expect(try await Self.count(store, "purchase_summary_backlog") == 0)
        }
    }

    /// A backlog a killed import left behind is settled exactly, and emptied.
    @Test(arguments: TestBackend.available)
    func theBacklogIsSettledFromTheOrders(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let (a, b, _, _) = try await Self.seed(store, users)
            _ = try await store.orderImport.run(try Self.source(Self.lines), options: OrderImportOptions(), by: users.admin)
            let exact = try await store.summaries.summaries(of: a.id)
            // As if the last batch had committed its orders and died before settling: the summaries are behind.
            try await store.database.write { db in
                try await db.raw("UPDATE purchase_summaries SET revenue = 1, order_count = 1").run()
                try await db.raw("DELETE FROM purchase_months").run()
                try await PurchaseSummaries.postpone(db, [a.id.rawValue, b.id.rawValue])
            }
            #expect(Set(try await store.summaries.verify()) == [a.id, b.id])
            #expect(try await store.summaries.settleBacklog(perTransaction: 1) == 2)
            #expect(try await store.summaries.verify().isEmpty)
            #expect(try await store.summaries.summaries(of: a.id) == exact)
            #expect(try await store.summaries.settleBacklog() == 0)
        }
    }

    /// Settling makes one pass: a customer put back behind it after every transaction (as a
    /// concurrent import would) does not keep it going; that customer is left in the backlog.
    @Test(arguments: TestBackend.available)
    func settlingEndsThoughAnotherImportKeepsAdding(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let (a, b, _, _) = try await Self.seed(store, users)
            _ = try await store.orderImport.run(try Self.source(Self.lines), options: OrderImportOptions(), by: users.admin)
            try await store.database.write { db in try await PurchaseSummaries.postpone(db, [a.id.rawValue, b.id.rawValue]) }
            struct KeptGoing: Error {}
            let transactions = Mutex(0)
            let settled = try await store.summaries.settleBacklog(perTransaction: 1) {
                guard transactions.withLock({ $0 += 1; return $0 }) < 20 else { throw KeptGoing() }
                try await store.database.write { db in try await PurchaseSummaries.postpone(db, [min(a.id.rawValue, b.id.rawValue)]) }
            }
            #expect(settled == 2)
            #expect(try await store.summaries.verify().isEmpty)
            #expect(try await Self.count(store, "purchase_summary_backlog") == 1)
        }
    }

    @Test(arguments: TestBackend.available)
    func importsOrdersKeepsSummariesExactAndReRunsChangeNothing(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let (a, b, p1, p2) = try await Self.seed(store, users)
            let report = try await store.orderImport.run(try Self.source(Self.lines), options: OrderImportOptions(batchSize: 2), by: users.admin)
            #expect(report.committed && report.rows == 4 && report.failed == 0 && report.problems.isEmpty)
            #expect(report.created == 3 && report.linesWritten == 4 && report.ignoredColumns.isEmpty)

            let ofA = try await store.orders.list(.init(customerID: a.id)).items.sorted { $0.orderDate < $1.orderDate }
            #expect(ofA.map(\.externalID) == ["O-1", "O-3"])
            let first = try #require(ofA.first)
            #expect(first.lines == [
                OrderLine(productID: p1.id, quantity: 2, unitPrice: 10_000, discount: 0, unitCost: 6_000, onPromotion: false),
                OrderLine(productID: p2.id, quantity: 1, unitPrice: 2_500, discount: 500, unitCost: 1_000, onPromotion: true),
            ], "an order cut by the batch boundary is imported whole; empty cost means the product's")
            #expect(first.channel == "store" && first.currency == .cny)
            let ofB = try await store.orders.list(.init(customerID: b.id)).items
            #expect(ofB.map(\.externalID) == ["O-2"] && ofB.first?.lines.first?.unitPrice == 100_050 && ofB.first?.lines.first?.unitCost == 80_000)
            #expect(ofB.first?.orderDate == CalendarDate("2026-03-05"))

            let summary = try #require(try await store.summaries.summaries(of: a.id).first)
            #expect(summary.orderCount == 2 && summary.revenue == 20_000 + 2_000 - 10_000 && summary.promotionRevenue == 2_000)
            #expect(try await store.summaries.verify().isEmpty, "every summary matches its orders")
            let audited = try await store.audit.list(.init(entity: "order", entityID: "\(first.id)"), by: users.admin).items
            // Audited by the row of its first line; the values are the order's own.
            #expect(audited.map(\.action) == [.create] && audited.first?.changes == [FieldChange(field: "import.row", before: nil, after: "2")])

            let again = try await store.orderImport.run(try Self.source(Self.lines), options: OrderImportOptions(), by: users.admin)
            #expect(again.created == 0 && again.updated == 0 && again.unchanged == 3 && again.linesWritten == 0)
            #expect(try await Self.count(store, "orders") == 3)
            #expect(try await Self.count(store, "order_lines") == 4)

            // A changed line replaces that order, and the summary follows.
            let changed = Self.lines.replacingOccurrences(of: "O-3,C-1,,2026-04-10,SKU-1,-1", with: "O-3,C-2,,2026-04-10,SKU-1,-1")
            let third = try await store.orderImport.run(try Self.source(changed), options: OrderImportOptions(), by: users.admin)
            #expect(third.updated == 1 && third.unchanged == 2 && third.customersSummarised == 2)
            #expect(try await store.orders.list(.init(customerID: b.id)).items.count == 2)
            #expect(try await store.summaries.summaries(of: a.id).first?.orderCount == 1)
            #expect(try await store.summaries.verify().isEmpty)
        }
    }

    /// New orders update the summary and month a customer already has in place (no delete
    /// first); an order moved away by a later import leaves no empty month behind.
    @Test(arguments: TestBackend.available)
    func laterBatchesAddToTheMonthAndSummaryAlreadyStored(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let (a, b, _, _) = try await Self.seed(store, users)
            let file = """
                order_id,customer,order_date,sku,quantity,unit_price,unit_cost
                O-1,C-1,2026-03-01,SKU-1,1,100,60
                O-2,C-1,2026-03-20,SKU-1,2,100,60
                O-3,C-1,2026-03-20,SKU-2,1,25,10
                O-4,C-1,2026-05-02,SKU-1,1,100,60

                """
            let report = try await store.orderImport.run(try Self.source(file), options: OrderImportOptions(batchSize: 1), by: users.admin)
            #expect(report.created == 4 && report.failed == 0)
            let summary = try #require(try await store.summaries.summaries(of: a.id).first)
            #expect(summary.orderCount == 4 && summary.purchaseDays == 3 && summary.revenue == 42_500)
            #expect(summary.repeatRevenue == 32_500 && summary.profit == 42_500 - 25_000)
            #expect(summary.firstPurchase == CalendarDate("2026-03-01") && summary.lastPurchase == CalendarDate("2026-05-02"))
            #expect(try await AnalyticsStoreTests.months(store, a.id) == ["2026-03": [3, 32_500, 32_500 - 19_000], "2026-05": [1, 10_000, 4_000]])

            // One batch: O-4 moves from C-1 to C-2 (both recomputed afresh), O-5 is new for C-3.
            var c = makeCustomerInput("王芳")
            c.externalID = "C-3"
            let third = try await store.customers.create(c, by: users.admin)
            let moved = file.replacingOccurrences(of: "O-4,C-1", with: "O-4,C-2") + "O-5,C-3,2026-04-01,SKU-1,1,100,60\n"
            let again = try await store.orderImport.run(try Self.source(moved), options: OrderImportOptions(), by: users.admin)
            #expect(again.updated == 1 && again.unchanged == 3 && again.created == 1)
            #expect(try await AnalyticsStoreTests.months(store, a.id) == ["2026-03": [3, 32_500, 32_500 - 19_000]])
            #expect(try await AnalyticsStoreTests.months(store, b.id) == ["2026-05": [1, 10_000, 4_000]])
            #expect(try await AnalyticsStoreTests.months(store, third.id) == ["2026-04": [1, 10_000, 4_000]])
            #expect(try await store.summaries.summaries(of: a.id).first?.lastPurchase == CalendarDate("2026-03-20"))
            #expect(try await store.summaries.verify().isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func eachBadRowGetsItsPreciseErrorAndItsOrderStaysOut(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            _ = try await Self.seed(store, users)
            let file = """
                order_id,customer,order_date,sku,quantity,unit_price
                O-1,C-1,2026-03-01,SKU-1,1,100
                O-2,C-1,2026-03-01,NOPE,1,100
                O-2,C-1,2026-03-01,SKU-1,1,100
                O-3,C-1,2026-13-01,SKU-1,1,100
                O-4,C-9,2026-03-01,SKU-1,1,100
                O-1,C-1,2026-03-01,SKU-2,1,100
                O-5,C-1,2026-03-01,SKU-1,1,100
                O-5,C-2,2026-03-01,SKU-2,1,100
                O-6,C-1,2026-03-01,SKU-1,x,100

                """
            let collected = Collected()
            let report = try await store.orderImport.run(try Self.source(file), options: OrderImportOptions(), by: users.admin,
                                                         problems: collected.sink)
            #expect(report.committed && report.created == 1 && report.failed == 8)
            let byRow = Dictionary(grouping: collected.all, by: \.row)
            #expect(byRow[3] == [ImportProblem(row: 3, column: "sku", value: "NOPE", reason: "unknown product: no product has SKU NOPE")])
            #expect(byRow[4] == [ImportProblem(row: 4, column: "order_id", value: "O-2", reason: "not imported: row 3 of the same order is refused")])
            #expect(byRow[5] == [ImportProblem(row: 5, column: "order_date", value: "2026-13-01", reason: "is not a date (YYYY-MM-DD)")])
            #expect(byRow[6] == [ImportProblem(row: 6, column: "customer", value: "C-9", reason: "no customer has external id C-9")])
            #expect(byRow[7] == [ImportProblem(row: 7, column: "order_id", value: "O-1",
                                               reason: "order O-1 was already given at row 2: the lines of one order must be on consecutive rows")])
            #expect(byRow[9] == [ImportProblem(row: 9, column: "customer", value: "C-2",
                                               reason: "differs from row 8, the order's first line: an order has one customer")])
            #expect(byRow[8]?.first?.reason == "not imported: row 9 of the same order is refused")
            #expect(byRow[10]?.first?.column == "quantity")
            #expect(try await Self.count(store, "orders") == 1)
            #expect(try await store.summaries.verify().isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func allOrNothingAndDryRunWriteNothing(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            _ = try await Self.seed(store, users)
            let bad = Self.lines + "O-9,C-1,2026-03-01,SKU-404,1,100,,,,,\n"
            let whole = try await store.orderImport.run(try Self.source(bad), options: OrderImportOptions(mode: .allOrNothing, batchSize: 2),
                                                        by: users.admin)
            #expect(!whole.committed && whole.failed == 1 && whole.created == 3)
            let dry = try await store.orderImport.run(try Self.source(Self.lines), options: OrderImportOptions(dryRun: true), by: users.admin)
            #expect(!dry.committed && dry.created == 3 && dry.failed == 0)
            for table in ["orders", "order_lines", "purchase_summaries", "purchase_months"] {
                #expect(try await Self.count(store, table) == 0, "\(table) is untouched")
            }
        }
    }

    @Test(arguments: TestBackend.available)
    func salespeopleImportOrdersOfTheirOwnCustomersOnly(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            var mine = makeCustomerInput("自己的", owner: users.sales.userID)
            mine.externalID = "MINE"
            var theirs = makeCustomerInput("别人的", owner: users.otherSales.userID)
            theirs.externalID = "THEIRS"
            _ = try await store.customers.create(mine, by: users.admin)
            let theirsID = try await store.customers.create(theirs, by: users.admin).id
            _ = try await store.products.create(makeProductInput("SKU-1"), by: users.admin)
            let file = "order_id,customer,order_date,sku,quantity,unit_price\nA,MINE,2026-01-01,SKU-1,1,1\nB,THEIRS,2026-01-01,SKU-1,1,1\n"
            let report = try await store.orderImport.run(try Self.source(file), options: OrderImportOptions(), by: users.sales)
            #expect(report.created == 1 && report.failed == 1)
            #expect(report.problems.first?.reason.contains("not yours") == true)
            // Order B stored under the other salesperson's customer may not be moved to one's own.
            let byAdmin = try await store.orderImport.run(try Self.source(file), options: OrderImportOptions(), by: users.admin)
            #expect(byAdmin.created == 1 && byAdmin.unchanged == 1)
            let moving = "order_id,customer,order_date,sku,quantity,unit_price\nB,MINE,2026-01-01,SKU-1,1,1\n"
            let moved = try await store.orderImport.run(try Self.source(moving), options: OrderImportOptions(), by: users.sales)
            #expect(moved.updated == 0 && moved.problems.map(\.reason) == [
                "order B belongs to customer \(theirsID), whose orders you may not change",
            ])
            await #expect(throws: DomainError.self) {
                _ = try await store.orderImport.run(try Self.source(file), options: OrderImportOptions(), by: users.marketing)
            }
        }
    }

    @Test func aFileWithoutACustomerColumnIsRefusedNamingIt() async throws {
        try await withTestStore(.sqlite) { store, users in
            let file = "order_id,order_date,sku,quantity,unit_price\nA,2026-01-01,SKU-1,1,1\n"
            let error = await #expect(throws: DomainError.self) {
                _ = try await store.orderImport.run(try Self.source(file), options: OrderImportOptions(), by: users.admin)
            }
            #expect(error.flatMap(pointers) == ["/columns/customer"])
            let noSKU = "order_id,customer,order_date,quantity,unit_price\nA,C,2026-01-01,1,1\n"
            let missing = await #expect(throws: DomainError.self) {
                _ = try await store.orderImport.run(try Self.source(noSKU), options: OrderImportOptions(), by: users.admin)
            }
            #expect(missing.flatMap(pointers) == ["/columns/sku"])
        }
    }

    @Test(arguments: TestBackend.available)
    func productsAreCreatedAndUpdatedBySKU(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let file = """
                商品编码,名称,类别,价格,成本
                A-1,茶杯,餐具,12.50,4
                A-2,茶壶,餐具,88,30.5
                A-1,重复,餐具,1,1
                A-3,坏价,餐具,abc,1

                """
            let collected = Collected()
            let report = try await store.productImport.run(try Self.source(file), by: users.admin, problems: collected.sink)
            #expect(report.created == 2 && report.failed == 2)
            #expect(collected.all == [
                ImportProblem(row: 4, column: "商品编码", value: "A-1", reason: "is the same as in row 2: one product per SKU"),
                ImportProblem(row: 5, column: "价格", value: "abc", reason: "must be an amount from 0 with at most 2 decimals"),
            ])
            let cup = try #require(try await store.products.list().items.first { $0.sku == "A-1" })
            #expect(cup.name == "茶杯" && cup.listPrice == Money(minorUnits: 1_250, currency: .cny) && cup.unitCost.minorUnits == 400)

            let repriced = "sku,name,category,list_price,unit_cost\nA-1,茶杯,餐具,13,4\nA-2,茶壶,餐具,88,30.5\n"
            let again = try await store.productImport.run(try Self.source(repriced), by: users.admin)
            #expect(again.updated == 1 && again.unchanged == 1 && again.created == 0)
            #expect(try await store.products.get(cup.id).listPrice.minorUnits == 1_300)
            await #expect(throws: DomainError.self) { _ = try await store.productImport.run(try Self.source(repriced), by: users.sales) }
        }
    }

    @Test(arguments: TestBackend.available)
    func interactionsImportInTheirTimeZoneAndReRunsSkipThem(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let (a, b, _, _) = try await Self.seed(store, users)
            let file = """
                客户编号,邮箱,类型,时间,方向,主题,内容,结果,跟进人
                C-1,,电话,2026-03-01 14:30,呼入,询价,问茶杯价格,已报价,sales
                ,li.na@example.com,visit,2026-03-02,,拜访,,,
                C-1,,传真,2026-03-03,,,,,
                C-1,,note,2026-03-04 25:00,,,,,
                C-9,,call,2026-03-05,,,,,
                C-1,,电话,2026-03-01 14:30,,询价,,,
                C-1,,call,2026-03-06,,,,,nobody

                """
            let collected = Collected()
            let report = try await store.interactionImport.run(try Self.source(file), by: users.admin, now: Date(timeIntervalSince1970: 1_790_000_000),
                                                               problems: collected.sink)
            #expect(report.created == 2 && report.failed == 5)
            #expect(collected.all.map(\.row) == [4, 5, 8, 6, 7])
            #expect(collected.all[0] == ImportProblem(row: 4, column: "类型", value: "传真",
                                                      reason: "must be one of call, visit, meeting, email, sms, letter, note (电话 / 拜访 / 会议 / 邮件 / 短信 / 信件 / 备注)"))
            #expect(collected.all[1].column == "时间" && collected.all[2] == ImportProblem(row: 8, column: "跟进人", value: "nobody", reason: "no user is called nobody"))
            #expect(collected.all[3] == ImportProblem(row: 6, column: "客户编号", value: "C-9", reason: "no customer has external id C-9"))
            #expect(collected.all[4].reason == "is the same interaction as row 2 (customer, kind, time and subject)")

            let call = try #require(try await store.interactions.list(.init(customerID: a.id)).items.first)
            #expect(call.kind == .call && call.direction == .inbound && call.subject == "询价" && call.outcome == "已报价")
            #expect(call.userID == users.sales.userID && call.occurredAt == Instant.parse("2026-03-01T06:30:00.000Z"), "14:30 in Shanghai")
            let visit = try #require(try await store.interactions.list(.init(customerID: b.id)).items.first)
            #expect(visit.kind == .visit && visit.direction == .outbound && visit.userID == users.admin.userID)

            let again = try await store.interactionImport.run(try Self.source(file), by: users.admin, now: Date(timeIntervalSince1970: 1_790_000_000))
            #expect(again.created == 0 && again.unchanged == 2)
            #expect(try await Self.count(store, "interactions") == 2)
        }
    }

    /// Instants used to be stored truncated, often a millisecond low; a file imported again
    /// must still find those interactions.
    @Test(arguments: TestBackend.available)
    func reRunsFindInteractionsStoredAMillisecondLow(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            _ = try await Self.seed(store, users)
            let file = """
                客户编号,邮箱,类型,时间,方向,主题,内容,结果,跟进人
                C-1,,call,2026-03-01T06:30:00.331Z,,询价,,,

                """
            let now = Date(timeIntervalSince1970: 1_790_000_000)
            #expect(try await store.interactionImport.run(try Self.source(file), by: users.admin, now: now).created == 1)
            try await store.database.write { try await $0.raw("UPDATE interactions SET occurred_at = '2026-03-01T06:30:00.330Z'").run() }
            let again = try await store.interactionImport.run(try Self.source(file), by: users.admin, now: now)
            #expect(again.created == 0 && again.unchanged == 1)
            #expect(try await Self.count(store, "interactions") == 1)
        }
    }
}
