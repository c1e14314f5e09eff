import CRMCore
import CRMStore
import CRMTestSupport
import Foundation
import SQLKit
import Testing

@Suite("Orders and purchase summaries")
struct OrderStoreTests {
    /// The reference: what the summary must be, computed in Swift from the stored orders.
    static func expectedSummaries(_ store: Store, _ customer: Customer.ID) async throws -> [PurchaseSummary] {
        let orders = try await store.orders.list(.init(customerID: customer, limit: 500)).items
        return PurchaseSummary.compute(customerID: customer, orders: orders.map { ($0.orderDate, $0.currency, $0.totals) })
    }

    @Test(arguments: TestBackend.available)
    func summaryFollowsEveryOrderWrite(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let c = try await store.customers.create(makeCustomerInput("钱多多"), by: users.admin)
            let p = try await store.products.create(makeProductInput(), by: users.admin)

            _ = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id, date: "2026-03-10", quantity: 2), by: users.admin)
            _ = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id, date: "2026-03-10", discount: 1_000), by: users.admin)
            let late = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id, date: "2026-05-01", promotion: true), by: users.admin)
            let stored = try await store.orders.get(late.id)
            #expect(stored == late, "the order create returns is the order stored: \(stored) vs \(late)")
            _ = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id, date: "2026-01-02", quantity: 3), by: users.admin)

            let summary = try #require(try await store.summaries.summaries(of: c.id).first)
            #expect(try await store.summaries.summaries(of: c.id) == (try await Self.expectedSummaries(store, c.id)))
            #expect(summary.firstPurchase == CalendarDate("2026-01-02"))
            #expect(summary.lastPurchase == CalendarDate("2026-05-01"))
            #expect(summary.orderCount == 4 && summary.purchaseDays == 3 && summary.repeatCount == 2)
            #expect(summary.revenue == 20_000 + 9_000 + 10_000 + 30_000)
            #expect(summary.profit == summary.revenue - 7 * 6_000)
            #expect(summary.promotionRevenue == 9_000 + 10_000, "discounted and promoted lines count as bought on promotion")
            #expect(summary.repeatRevenue == 20_000 + 9_000 + 10_000, "the backdated order became the first purchase")

            var moved = OrderInput(customerID: c.id, orderDate: CalendarDate("2026-06-01")!, currency: .cny, lines: late.lines)
            moved.lines[0].quantity = 5
            _ = try await store.orders.update(late.id, with: moved, ifVersion: late.version, by: users.admin)
            #expect(try await store.summaries.summaries(of: c.id) == (try await Self.expectedSummaries(store, c.id)))
            #expect(try await store.summaries.verify().isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func movingAnOrderRecomputesBothCustomers(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let a = try await store.customers.create(makeCustomerInput("甲"), by: users.admin)
            let b = try await store.customers.create(makeCustomerInput("乙"), by: users.admin)
            let p = try await store.products.create(makeProductInput(), by: users.admin)
            let order = try await store.orders.create(makeOrderInput(customer: a.id, product: p.id), by: users.admin)

            _ = try await store.orders.update(order.id, with: makeOrderInput(customer: b.id, product: p.id), ifVersion: 1, by: users.admin)

            #expect(try await store.summaries.summaries(of: a.id).isEmpty)
            #expect(try await store.summaries.summaries(of: b.id).map(\.orderCount) == [1])
        }
    }

    /// A customer of `users.sales`, one of `users.otherSales`, and a product.
    static func customersOfTwoSalesReps(_ store: Store, _ users: TestUsers) async throws -> (Customer, Customer, Product) {
        (try await store.customers.create(makeCustomerInput("我的", owner: users.sales.userID), by: users.admin),
         try await store.customers.create(makeCustomerInput("别人的", owner: users.otherSales.userID), by: users.admin),
         try await store.products.create(makeProductInput(), by: users.admin))
    }

    /// Moving an order needs the right to write orders of both customers, and the new one
    /// must exist; a refused move changes nothing.
    @Test(arguments: TestBackend.available)
    func aRefusedMoveLeavesTheOrderWhereItWas(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let (mine, theirs, p) = try await Self.customersOfTwoSalesReps(store, users)
            let order = try await store.orders.create(makeOrderInput(customer: mine.id, product: p.id), by: users.sales)
            let theirOrder = try await store.orders.create(makeOrderInput(customer: theirs.id, product: p.id), by: users.admin)

            await #expect(throws: DomainError.invalid("/customerID", "no customer has id 4242")) {
                try await store.orders.update(order.id, with: makeOrderInput(customer: Customer.ID(4242), product: p.id), ifVersion: 1, by: users.sales)
            }
            for (moving, to) in [(order, theirs.id), (theirOrder, mine.id)] {
                do {
                    _ = try await store.orders.update(moving.id, with: makeOrderInput(customer: to, product: p.id), ifVersion: 1, by: users.sales)
                    Issue.record("moving order \(moving.id) to customer \(to) was allowed")
                } catch let error as DomainError {
                    guard case .forbidden = error else { Issue.record("expected forbidden, got \(error)"); continue }
                }
            }
            #expect(try await store.orders.get(order.id) == order)
            #expect(try await store.orders.get(theirOrder.id) == theirOrder)
            #expect(try await store.summaries.verify().isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func verifyFindsAndRepairFixesADamagedSummary(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let c = try await store.customers.create(makeCustomerInput("孙悟空"), by: users.admin)
            let d = try await store.customers.create(makeCustomerInput("猪八戒"), by: users.admin)
            let p = try await store.products.create(makeProductInput(), by: users.admin)
            _ = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id), by: users.admin)
            _ = try await store.orders.create(makeOrderInput(customer: d.id, product: p.id), by: users.admin)
            try await store.database.write { db in
                try await db.raw("UPDATE purchase_summaries SET revenue = revenue + 1 WHERE customer_id = \(bind: c.id.rawValue)").run()
            }

            #expect(try await store.summaries.verify() == [c.id])
            try await store.summaries.repair([c.id])

            #expect(try await store.summaries.verify().isEmpty)
            #expect(try await store.summaries.summaries(of: c.id) == (try await Self.expectedSummaries(store, c.id)))
        }
    }

    @Test(arguments: TestBackend.available)
    func summariesStayExactUnderConcurrentOrderWrites(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            var customers: [Customer.ID] = []
            for n in 0..<3 { customers.append(try await store.customers.create(makeCustomerInput("并发\(n)"), by: users.admin).id) }
            let p = try await store.products.create(makeProductInput(), by: users.admin)
            let ids = customers

            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<60 {
                    group.addTask {
                        let day = String(format: "2026-02-%02d", 1 + i % 20)
                        _ = try await store.orders.create(
                            makeOrderInput(customer: ids[i % 3], product: p.id, date: day, quantity: Int64(1 + i % 4), promotion: i % 5 == 0),
                            by: users.admin)
                    }
                }
                try await group.waitForAll()
            }

            for c in customers {
                #expect(try await store.summaries.summaries(of: c) == (try await Self.expectedSummaries(store, c)))
                #expect(try await store.summaries.summaries(of: c).first?.orderCount == 20)
            }
            #expect(try await store.summaries.verify().isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func concurrentOrdersFailOnlyOnTheirOwnFaults(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let (mine, theirs, p) = try await Self.customersOfTwoSalesReps(store, users)
            enum Outcome: Sendable, Equatable { case created(Int64), failed(String) }
            let outcomes = try await withThrowingTaskGroup(of: (Int, Outcome).self) { group in
                for i in 0..<40 {
                    group.addTask {
                        var input = makeOrderInput(customer: i % 10 == 3 ? theirs.id : mine.id, product: p.id, date: "2026-03-\(10 + i % 9)")
                        if i % 10 == 7 { input.customerID = Customer.ID(999_999) }
                        if i == 5 || i == 6 { input.externalID = "SAME-EXT" }
                        do {
                            let order = try await store.orders.create(input, by: users.sales)
                            return (i, .created(order.id.rawValue))
                        } catch let error as DomainError {
                            return (i, .failed(pointers(error)?.first ?? "forbidden"))
                        }
                    }
                }
                var all: [Int: Outcome] = [:]
                for try await (i, o) in group { all[i] = o }
                return all
            }
            for i in 0..<40 {
                switch i % 10 {
                case 3: #expect(outcomes[i] == .failed("forbidden"), "order \(i): another's customer")
                case 7: #expect(outcomes[i] == .failed("/customerID"), "order \(i): no such customer")
                default: if i != 5 && i != 6 { guard case .created = outcomes[i] else { Issue.record("order \(i): \(String(describing: outcomes[i]))"); continue } }
                }
            }
            let sameExt = [outcomes[5], outcomes[6]]
            #expect(sameExt.filter { if case .created = $0 { true } else { false } }.count == 1 && sameExt.contains(.failed("/externalID")))
            let created = outcomes.values.compactMap { if case .created(let id) = $0 { id } else { nil } }
            #expect(created.count == 31 && Set(created).count == 31, "40 orders less 4 forbidden, 4 unknown customers, 1 taken external id")
            for id in created { #expect(try await store.orders.get(Order.ID(id)).customerID == mine.id) }
            #expect(try await store.summaries.summaries(of: mine.id).first?.orderCount == 31)
            #expect(try await store.summaries.summaries(of: theirs.id).isEmpty)
            #expect(try await store.summaries.verify().isEmpty)
            let audited = try await store.audit.list(.init(entity: "order", limit: 500), by: users.admin).items
            #expect(Set(audited.compactMap(\.entityID)) == Set(created.map(String.init)))
        }
    }

    /// Product ids found once are remembered (products are never deleted); an unknown one
    /// beside a remembered one must still be refused, and a product added later accepted.
    @Test(arguments: TestBackend.available)
    func aRememberedProductDoesNotExcuseAnUnknownOne(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let c = try await store.customers.create(makeCustomerInput("唐僧"), by: users.admin)
            let p = try await store.products.create(makeProductInput(), by: users.admin)
            let first = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id), by: users.admin)

            let next = Product.ID(p.id.rawValue + 1)
            var input = makeOrderInput(customer: c.id, product: p.id)
            input.lines.append(OrderLine(productID: next, quantity: 1, unitPrice: 100, unitCost: 50))
            for _ in 0..<2 { // the second time, nothing of the refused check may have been remembered
                await #expect(throws: DomainError.invalid("/lines/1/productID", "no product has id \(next)")) {
                    try await store.orders.create(input, by: users.admin)
                }
            }
            let added = try await store.products.create(makeProductInput("SKU-NEXT"), by: users.admin)
            #expect(added.id == next)
            let second = try await store.orders.create(input, by: users.admin)
            #expect(second.lines.map(\.productID) == [p.id, next])
            #expect(try await store.orders.list(.init()).items.map(\.id).sorted() == [first.id, second.id])
            #expect(try await store.summaries.verify().isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func badOrdersNameTheLineAndStoreNothing(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let c = try await store.customers.create(makeCustomerInput("沙僧"), by: users.admin)
            let p = try await store.products.create(makeProductInput(), by: users.admin)
            var input = makeOrderInput(customer: c.id, product: p.id)
            input.lines.append(OrderLine(productID: Product.ID(9999), quantity: 1, unitPrice: 100, unitCost: 50))

            await #expect(throws: DomainError.invalid("/lines/1/productID", "no product has id 9999")) {
                try await store.orders.create(input, by: users.admin)
            }
            await #expect(throws: DomainError.invalid("/customerID", "no customer has id 4242")) {
                try await store.orders.create(makeOrderInput(customer: Customer.ID(4242), product: p.id), by: users.admin)
            }
            await #expect(throws: DomainError.self) {
                try await store.orders.create(makeOrderInput(customer: c.id, product: p.id, quantity: 0), by: users.admin)
            }

            #expect(try await store.orders.list(.init()).items.isEmpty)
            #expect(try await store.summaries.summaries(of: c.id).isEmpty)
        }
    }
}
