import CRMCore
import Foundation
import SQLKit
import Synchronization

/// Group commit for order creation. On SQLite there is one writer, and each statement is
/// a round trip to its thread, so one order at a time spends most of its lock waiting on
/// hand-offs; on PostgreSQL each order alone costs eight round trips and a commit flush,
/// which is what limits throughput on a small machine. Orders that arrive while a transaction is running wait for the next one and
/// are written together: the customers checked in one query, the orders, lines, summaries,
/// months and audit entries each in one statement. Each order still gets its own answer:
/// an order that fails its own checks (unknown customer, not allowed, external id taken)
/// fails alone, and if the transaction fails as a whole its orders are retried one by one.
final class OrderGroupCommit: Sendable {
    struct Pending: Sendable {
        var order: OrderInput
        var actor: Actor
        var now: Date
        var done: CheckedContinuation<Order, any Error>
    }

    let database: any StoreDatabase
    private let state = Mutex<(queue: [Pending], flushing: Int)>(([], 0))
    /// Keeps a transaction's statements within the bind limits and its lock short.
    static let maxBatch = 256
    /// Transactions writing batches at once. SQLite has one writer, so one. A PostgreSQL
    /// batch spends most of its time waiting on round trips rather than on either CPU, so
    /// three run at once (with `KnownProducts`, 1,290 → 2,080 orders/s; two gave 1,850–2,000).
    /// Each batch locks its customers in id order, then its external ids in key order,
    /// before writing; so do single-order writes. A customer in two batches waits for the
    /// first to commit before its summary is recomputed (under READ COMMITTED, which
    /// `PostgresStoreDatabase.write` asks for), and an external id cannot be taken twice.
    let writers: Int

    init(database: any StoreDatabase) {
        self.database = database
        writers = database.dialect == .postgres ? 3 : 1
    }

    func create(_ order: OrderInput, by actor: Actor, now: Date) async throws -> Order {
        try await withCheckedThrowingContinuation { done in
            let startFlushing = state.withLock { state -> Bool in
                state.queue.append(Pending(order: order, actor: actor, now: now, done: done))
                if state.flushing >= writers { return false }
                state.flushing += 1
                return true
            }
            if startFlushing { Task { await self.flush() } }
        }
    }

    /// Writes batches until the queue is empty.
    private func flush() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                guard !state.queue.isEmpty else {
                    state.flushing -= 1
                    return []
                }
                let batch = Array(state.queue.prefix(Self.maxBatch))
                state.queue.removeFirst(batch.count)
                return batch
            }
            if batch.isEmpty { return }
            await write(batch)
        }
    }

    private func write(_ batch: [Pending]) async {
        do {
            let dialect = database.dialect
            let results = try await database.write { db in try await Self.insert(db, batch, dialect: dialect) }
            for (pending, result) in zip(batch, results) { pending.done.resume(with: result) }
        } catch {
            for pending in batch {
                do {
                    pending.done.resume(returning: try await OrderRepository.createAlone(database, pending.order, by: pending.actor, now: pending.now))
                } catch {
                    pending.done.resume(throwing: error)
                }
            }
        }
    }

    /// Writes the batch in the caller's transaction; one result per pending order.
    static func insert(_ db: any SQLDatabase, _ batch: [Pending], dialect: Dialect) async throws -> [Result<Order, any Error>] {
        var results = [Result<Order, any Error>?](repeating: nil, count: batch.count)

        // Customers and their owners, for existence and permission. On PostgreSQL the rows
        // are locked (in id order, so two batches cannot deadlock): their summaries are
        // rewritten below, and another writer of the same customer must wait.
        let owners = try await OrderRepository.lockCustomers(db, batch.map(\.order.customerID), dialect: dialect)
        for (i, p) in batch.enumerated() {
            guard let owner = owners[p.order.customerID.rawValue] else {
                results[i] = .failure(DomainError.invalid("/customerID", "no customer has id \(p.order.customerID)"))
                continue
            }
            do { try AccessPolicy.require(p.actor, .writeRecord(.order, customerOwnerID: owner)) } catch { results[i] = .failure(error) }
        }

        // External ids: unique across the stored orders and within the batch.
        let external = batch.indices.filter { results[$0] == nil && batch[$0].order.externalID != nil }
        if !external.isEmpty {
            try await OrderRepository.lockExternalIDs(db, external.map { batch[$0].order.externalID! }, dialect: dialect)
            let sql: SQLQueryString = "SELECT external_id FROM orders WHERE external_id IN (\(binds: external.map { batch[$0].order.externalID! }))"
            var taken = Set(try await db.rows(sql) { try $0.string("external_id") })
            for i in external {
                let ext = batch[i].order.externalID!
                if taken.contains(ext) {
                    results[i] = .failure(DomainError.invalid("/externalID", "is already used by another order"))
                } else {
                    taken.insert(ext)
                }
            }
        }

        let accepted = batch.indices.filter { results[$0] == nil }
        guard !accepted.isEmpty else { return results.map { $0! } }

        let ids = try await RowIDs.next(db, table: "orders", count: accepted.count, dialect: dialect)
        var orders: [Order] = []
        for (n, i) in accepted.enumerated() {
            let p = batch[i]
            let storedAt = Instant.parse(Instant.format(p.now)) ?? p.now
            orders.append(Order(id: Order.ID(ids[n]), customerID: p.order.customerID, orderDate: p.order.orderDate,
                                channel: p.order.channel, currency: p.order.currency, lines: p.order.lines, externalID: p.order.externalID,
                                createdAt: storedAt, updatedAt: storedAt, version: 1))
        }
        var orderRows: [[any SQLExpression]] = []
        var lineRows: [[any SQLExpression]] = []
        var auditRows: [[any SQLExpression]] = []
        for (n, order) in orders.enumerated() {
            let p = batch[accepted[n]]
            let stamp = Instant.format(p.now)
            let totals = OrderTotals(lines: order.lines)
            orderRows.append([SQLBind(order.id.rawValue), SQLBind(order.customerID.rawValue), SQLBind(order.orderDate.description),
                              SQLBind(order.channel), SQLBind(order.currency.code), SQLBind(totals.revenue), SQLBind(totals.cost),
                              SQLBind(totals.promotionRevenue), SQLBind(order.externalID), SQLBind(stamp), SQLBind(stamp), SQLBind(Int64(1))])
            for (k, l) in order.lines.enumerated() {
                lineRows.append([SQLBind(order.id.rawValue), SQLBind(Int64(k + 1)), SQLBind(l.productID.rawValue), SQLBind(l.quantity),
                                 SQLBind(l.unitPrice), SQLBind(l.discount), SQLBind(l.unitCost), SQLBind(l.onPromotion)])
            }
            auditRows.append([SQLBind(stamp), SQLBind(p.actor.userID.rawValue), SQLBind(p.actor.name), SQLBind(AuditEntry.Action.create.rawValue),
                              SQLBind(OrderRepository.entity), SQLBind("\(order.id)"),
                              SQLBind(try JSONColumn.text(FieldChange.created(order)))])
        }
        try await db.insert(into: "orders")
            .columns("id", "customer_id", "order_date", "channel", "currency", "revenue", "cost", "promotion_revenue", "external_id",
                     "created_at", "updated_at", "version")
            .rows(orderRows).run()
        for s in stride(from: 0, to: lineRows.count, by: 3_000) {
            try await db.insert(into: "order_lines")
                .columns("order_id", "line_no", "product_id", "quantity", "unit_price", "discount", "unit_cost", "on_promotion")
                .rows(Array(lineRows[s..<min(s + 3_000, lineRows.count)])).run()
        }
        let touched = Array(Set(orders.map(\.customerID))).sorted()
        // A batch only adds orders, so no summary or month can empty: upserting is exact.
        try await PurchaseSummaries.recomputeAfterAdding(db, touched)
        try await db.insert(into: "audit_log").columns("at", "actor_id", "actor_name", "action", "entity", "entity_id", "changes")
            .rows(auditRows).run()

        for (n, i) in accepted.enumerated() { results[i] = .success(orders[n]) }
        return results.map { $0! }
    }
}
