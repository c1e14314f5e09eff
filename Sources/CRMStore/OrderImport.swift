import CRMCore
import Foundation
import SQLKit
import Synchronization

public struct OrderImportOptions: Sendable {
    public var mode: CustomerImportOptions.Mode
    public var dryRun: Bool
    /// Header → field name, over the automatic recognition (`"单号": "orderID"`, `"备注": ""`).
    public var mapping: [String: String]
    /// For rows whose file has no currency column, or leaves it empty.
    public var defaultCurrency: Currency
    /// Lines committed together, in whole orders (read and prepared a few thousand at a time).
    public var batchSize: Int

    public init(mode: CustomerImportOptions.Mode = .validRows, dryRun: Bool = false, mapping: [String: String] = [:],
                defaultCurrency: Currency = .cny, batchSize: Int = 20_000) {
        self.mode = mode; self.dryRun = dryRun; self.mapping = mapping; self.defaultCurrency = defaultCurrency
        self.batchSize = max(1, batchSize)
    }
}

/// Imports orders from a file of order lines: the lines of one order on consecutive rows
/// sharing its order number, which is the order's external id, so re-running a file creates
/// nothing twice and a changed order is replaced. Customers are found by external id or
/// e-mail, products by SKU. A batch recomputes the purchase summaries of the customers whose
/// orders it replaced; those that only gained orders are put in the summary backlog in the
/// same transaction, and settled in id order when the import ends (see migration 12), so
/// the summaries are exact after the import, and nothing is lost if it is killed.
public struct OrderImporter: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    public func run(_ source: CSVRowSource, options: OrderImportOptions, by actor: Actor, now: Date = Date(),
                    problems sink: (@Sendable ([ImportProblem]) throws -> Void)? = nil,
                    progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> OrderImportReport {
        try AccessPolicy.require(actor, .writeRecord(.order, customerOwnerID: actor.userID))
        let mapping = try OrderImportMapping(headers: source.header, explicit: options.mapping)
        if mapping.column(of: .customer) == nil && mapping.column(of: .customerEmail) == nil {
            throw DomainError.invalid("/columns/customer", "is required: a column with the customer's external id or e-mail "
                                      + "(its columns: \(source.header.joined(separator: ", ")))")
        }
        let context = Context(options: options, mapping: mapping, actor: actor, now: now, dialect: database.dialect)
        // Lines are read and prepared a few thousand at a time (memory), committed `batchSize` at a time.
        let batches = OrderLineBatches(source: source, orderColumn: mapping.column(of: .orderID)!,
                                       size: ImportRun.batchRows(committing: options.batchSize))
        let initial = State(report: OrderImportReport(source, mode: options.mode, dryRun: options.dryRun, ignoredColumns: mapping.ignoredHeaders))
        let seenOrders = initial.seenOrders
        let summaries = PurchaseSummaryRepository(database: database)
        let report: OrderImportReport
        do {
            report = try await ImportRun.run(
                database, source, mode: options.mode, dryRun: options.dryRun, state: initial,
                next: { try batches.next() }, prepare: { Self.prepare($0, context, seenOrders: seenOrders) }, progress: progress,
                rowsPerCommit: options.batchSize, process: { db, prepared, state, write in try await Self.apply(db, prepared, context, &state, write: write, sink: sink) })
        } catch {
            // What was committed before the failure is summarised all the same.
            if !options.dryRun { _ = try? await summaries.settleBacklog() }
            throw error
        }
        if !options.dryRun { try await summaries.settleBacklog() }
        return report
    }

    struct Context: Sendable {
        var options: OrderImportOptions
        var mapping: OrderImportMapping
        var actor: Actor
        var now: Date
        var dialect: Dialect
    }

    struct ProductRef: Sendable {
        var id: Int64
        var unitCost: Int64
        var currency: Currency
    }

    struct State: ImportState {
        var report: OrderImportReport
        /// Order number → its first row: an order given twice, apart, is an error.
        let seenOrders = KeyMemory<FileKey, Int>()
        /// Products by SKU, looked up once per import.
        let products = KeyMemory<String, ProductRef>()
    }

    /// The rows of one order, parsed, with what the database says about it.
    struct Group {
        var key: String
        var rows: [OrderImportRow]
        var customerID: Int64 = 0
        var lines: [OrderLine] = []
        var first: OrderImportRow { rows[0] }
    }

    /// A batch read, parsed and grouped into orders, before the database is asked anything:
    /// the next batch is prepared while the last one is written.
    struct Prepared: Sendable {
        var rows: Int
        var groups: [Group]
        var problems: [ImportProblem]
    }

    /// Refuses a whole order: `culprit` gets the reason, its other lines say why they went too.
    static func refuse(_ group: Group, _ culprit: OrderImportRow, _ field: OrderImportField, _ value: String, _ reason: String,
                       _ mapping: OrderImportMapping) -> [ImportProblem] {
        group.rows.map { row in
            row.row == culprit.row
                ? ImportProblem(row: row.row, column: mapping.header(of: field), value: value, reason: reason)
                : ImportProblem(row: row.row, column: mapping.header(of: .orderID), value: group.key,
                                reason: "not imported: row \(culprit.row) of the same order is refused")
        }
    }

    static func prepare(_ batch: [(row: Int, values: [String])], _ context: Context, seenOrders: KeyMemory<FileKey, Int>) -> Prepared {
        let mapping = context.mapping
        let orderColumn = mapping.column(of: .orderID)!
        let parsed = batch.concurrentMap { row in
            OrderImportRow.parse(row.values, row: row.row, mapping: mapping, defaultCurrency: context.options.defaultCurrency)
        }
        var problems: [ImportProblem] = []
        func refuse(_ group: Group, _ culprit: OrderImportRow, _ field: OrderImportField, _ value: String, _ reason: String) {
            problems += Self.refuse(group, culprit, field, value, reason, mapping)
        }

        // Consecutive rows with one order number are one order.
        var groups: [Group] = []
        var start = 0
        while start < batch.count {
            let key = Self.orderKey(batch[start].values, orderColumn)
            var end = start + 1
            while end < batch.count && !key.isEmpty && Self.orderKey(batch[end].values, orderColumn) == key { end += 1 }
            defer { start = end }
            var rows: [OrderImportRow] = []
            var bad: [ImportProblem] = []
            for i in start..<end {
                switch parsed[i] {
                case .success(let row): rows.append(row)
                case .failure(let p): bad += p.problems
                }
            }
            if !bad.isEmpty {
                problems += bad
                let badRows = Set(bad.map(\.row))
                for row in rows where !badRows.contains(row.row) {
                    problems.append(ImportProblem(row: row.row, column: mapping.header(of: .orderID), value: key,
                                                  reason: "not imported: row \(bad[0].row) of the same order is refused"))
                }
                if !key.isEmpty { _ = seenOrders.remember(key, batch[start].row) }
                continue
            }
            let group = Group(key: key, rows: rows)
            if let first = seenOrders.remember(key, rows[0].row) {
                refuse(group, rows[0], .orderID, key, "order \(key) was already given at row \(first): the lines of one order must be on consecutive rows")
                continue
            }
            if rows.count > 1000 {
                refuse(group, rows[1000], .orderID, key, "an order has at most 1000 lines")
                continue
            }
            if let differing = rows.dropFirst().first(where: { $0.sameOrder(as: rows[0]) != nil }), let field = differing.sameOrder(as: rows[0]) {
                let cell = mapping.column(of: field).map { batch[differing.row - batch[0].row].values[$0] } ?? ""
                refuse(group, differing, field, cell, "differs from row \(rows[0].row), the order's first line: an order has one \(field)")
                continue
            }
            groups.append(group)
        }
        return Prepared(rows: batch.count, groups: groups, problems: problems)
    }

    static func apply(_ db: any SQLDatabase, _ prepared: Prepared, _ context: Context, _ state: inout State,
                      write: Bool, sink: (@Sendable ([ImportProblem]) throws -> Void)?) async throws {
        state.report.rows += prepared.rows
        let mapping = context.mapping
        let groups = prepared.groups
        var problems = prepared.problems
        func refuse(_ group: Group, _ culprit: OrderImportRow, _ field: OrderImportField, _ value: String, _ reason: String) {
            problems += Self.refuse(group, culprit, field, value, reason, mapping)
        }

        // Customers, by external id or e-mail (a merged duplicate's orders go to its survivor).
        let customers = try await CustomerReferences.resolve(db, groups.map(\.first.customer))

        // Products by SKU, remembered for the rest of the file.
        let unknownSKUs = Set(groups.flatMap { $0.rows.map(\.sku) }).filter { state.products[$0] == nil }
        for (sku, ref) in try await ImportRun.lookup(db, "SELECT id, sku, unit_cost, currency FROM products", "sku", Array(unknownSKUs), {
            (try $0.string("sku"), ProductRef(id: try $0.int64("id"), unitCost: try $0.int64("unit_cost"), currency: try $0.currency("currency")))
        }) { state.products[sku] = ref }

        var accepted: [Group] = []
        groups: for var group in groups {
            let first = group.first
            guard let customer = customers[first.customer] else {
                let problem = CustomerReferences.unknown(first.customer, row: first.row, customerHeader: mapping.header(of: .customer),
                                                         emailHeader: mapping.header(of: .customerEmail))
                refuse(group, first, first.customer.isEmail ? .customerEmail : .customer, problem.value, problem.reason)
                continue
            }
            guard AccessPolicy.allows(context.actor, .writeRecord(.order, customerOwnerID: customer.owner)) else {
                refuse(group, first, first.customer.isEmail ? .customerEmail : .customer, customer.key,
                       "you may not add orders for customer \(customer.id), who is not yours")
                continue
            }
            group.customerID = customer.id
            for row in group.rows {
                guard let product = state.products[row.sku] else {
                    refuse(group, row, .sku, row.sku, "unknown product: no product has SKU \(row.sku)")
                    continue groups
                }
                if row.unitCost == nil && product.currency != row.currency {
                    refuse(group, row, .unitCost, "", "is required: product \(row.sku) is costed in \(product.currency), the order is in \(row.currency)")
                    continue groups
                }
                group.lines.append(OrderLine(productID: Product.ID(product.id), quantity: row.quantity, unitPrice: row.unitPrice,
                                             discount: row.discount, unitCost: row.unitCost ?? product.unitCost, onPromotion: row.onPromotion))
            }
            accepted.append(group)
        }

        // Orders already stored under these numbers: replaced when the file says otherwise.
        var stored: [String: Order] = [:]
        let storedOwners = try await ImportRun.lookup(
            db, "SELECT o.id, c.owner_id FROM orders o JOIN customers c ON c.id = o.customer_id", "o.external_id", accepted.map(\.key),
            { (try $0.int64("id"), try $0.optionalID("owner_id", User.self)) })
        let ownerOfOrder = Dictionary(storedOwners, uniquingKeysWith: { a, _ in a })
        let storedIDs = storedOwners.map(\.0)
        for slice in stride(from: 0, to: storedIDs.count, by: 500) {
            let sql = "SELECT * FROM orders " + whereIn("id", storedIDs[slice..<min(slice + 500, storedIDs.count)])
            for order in try await OrderRepository.fetchMany(db, sql) { stored[order.externalID ?? ""] = order }
        }
        var creates: [Group] = []
        var replaces: [(Order, Group)] = []
        for group in accepted {
            guard let old = stored[group.key] else { creates.append(group); continue }
            let first = group.first
            if old.customerID.rawValue == group.customerID && old.orderDate == first.orderDate && old.currency == first.currency
                && old.channel == first.channel && old.lines == group.lines {
                state.report.unchanged += 1
                continue
            }
            // Moving an order away from a customer is writing that customer's orders too.
            if old.customerID.rawValue != group.customerID,
               !AccessPolicy.allows(context.actor, .writeRecord(.order, customerOwnerID: ownerOfOrder[old.id.rawValue] ?? nil)) {
                refuse(group, first, .orderID, group.key, "order \(group.key) belongs to customer \(old.customerID), whose orders you may not change")
                continue
            }
            replaces.append((old, group))
        }
        try state.report.record(problems, sink: sink)
        state.report.created += creates.count
        state.report.updated += replaces.count
        var touched = Set(creates.map(\.customerID))
        for (old, group) in replaces { touched.insert(old.customerID.rawValue); touched.insert(group.customerID) }
        state.report.customersSummarised += touched.count
        guard write else { return }
        try await Self.write(db, creates, replaces, touched: touched, context, &state)
    }

    static func orderKey(_ values: [String], _ column: Int) -> String {
        column < values.count ? Normalise.trimmed(values[column]) : ""
    }

    static func write(_ db: any SQLDatabase, _ creates: [Group], _ replaces: [(Order, Group)], touched: Set<Int64>, _ context: Context,
                      _ state: inout State) async throws {
        let stamp = Instant.format(context.now)
        // A replaced order may leave a customer's month or currency empty: those customers are
        // recomputed afresh, here; the others only gained orders and wait in the backlog.
        var changed = Set<Int64>()
        for (old, group) in replaces { changed.insert(old.customerID.rawValue); changed.insert(group.customerID) }
        let customers = touched.sorted()
        let recomputed = customers.filter(changed.contains)
        // Every customer the batch touches is locked, in id order, as every other writer of
        // customers' orders locks them (OrderGroupCommit, settleBacklog): concurrent order
        // writes recompute their summaries after ours, and a settle of the backlog waits for
        // our orders. A batch that only adds orders has them locked by the statement writing
        // them (the orders' reference check, migration 15), before they go in the backlog;
        // one that replaces orders locks them all here, before it reads and recomputes.
        if context.dialect == .postgres && !replaces.isEmpty {
            for slice in stride(from: 0, to: customers.count, by: 1000) {
                let ids = customers[slice..<min(slice + 1000, customers.count)]
                try await db.raw("SELECT id FROM customers " + whereIn("id", ids) + " ORDER BY id FOR UPDATE").run()
            }
        }
        let ids = try await RowIDs.next(db, table: "orders", count: creates.count, dialect: context.dialect)
        struct Built: Sendable {
            var order: ImportRun.InsertRow
            var lines: [ImportRun.InsertRow]
            var audit: ImportRun.InsertRow
        }
        let dialect = context.dialect
        let built = Array(zip(ids, creates)).concurrentMap { (id, group) -> Built in
            let first = group.first
            let totals = OrderTotals(lines: group.lines)
            return Built(
                order: .init([.integer(id), .integer(group.customerID), .text(first.orderDate.description), .text(first.channel),
                              .text(first.currency.code), .integer(totals.revenue), .integer(totals.cost), .integer(totals.promotionRevenue),
                              .text(group.key), .text(stamp), .text(stamp), .integer(1)], dialect),
                lines: group.lines.enumerated().map { n, l in
                    .init([.integer(id), .integer(Int64(n + 1)), .integer(l.productID.rawValue), .integer(l.quantity), .integer(l.unitPrice),
                           .integer(l.discount), .integer(l.unitCost), .bool(l.onPromotion)], dialect)
                },
                // The order's creation is audited by its first line's row, as a customer's is.
                audit: ImportRun.auditRow(context.actor, .create, OrderRepository.entity, "\(id)",
                                          changes: JSONColumn.changesText([FieldChange(field: "import.row", before: nil, after: String(first.row))]),
                                          stamp, dialect))
        }
        try await ImportRun.insertRows(db, "orders", ["id", "customer_id", "order_date", "channel", "currency", "revenue", "cost",
                                                      "promotion_revenue", "external_id", "created_at", "updated_at", "version"], built.map(\.order))
        let lineRows = built.flatMap(\.lines)
        try await ImportRun.insertRows(db, "order_lines", ["order_id", "line_no", "product_id", "quantity", "unit_price", "discount", "unit_cost",
                                                           "on_promotion"], lineRows)
        var audit = built.map(\.audit)
        state.report.linesWritten += lineRows.count
        for (old, group) in replaces {
            let first = group.first
            let totals = OrderTotals(lines: group.lines)
            try await db.raw("""
                UPDATE orders SET customer_id = \(bind: group.customerID), order_date = \(bind: first.orderDate.description),
                    channel = \(bind: first.channel), currency = \(bind: first.currency.code), revenue = \(bind: totals.revenue),
                    cost = \(bind: totals.cost), promotion_revenue = \(bind: totals.promotionRevenue), updated_at = \(bind: stamp),
                    version = version + 1
                WHERE id = \(bind: old.id.rawValue)
                """).run()
            try await db.raw("DELETE FROM order_lines WHERE order_id = \(bind: old.id.rawValue)").run()
            try await OrderRepository.insertLines(db, old.id, group.lines)
            state.report.linesWritten += group.lines.count
            var new = old
            new.customerID = Customer.ID(group.customerID); new.orderDate = first.orderDate; new.channel = first.channel
            new.currency = first.currency; new.lines = group.lines
            audit.append(ImportRun.auditRow(context.actor, .update, OrderRepository.entity, "\(old.id)", FieldChange.diff(old, new), stamp, dialect))
        }
        try await ImportRun.insertRows(db, "audit_log", ImportRun.auditColumns, audit)
        try await PurchaseSummaries.recompute(db, recomputed.map { Customer.ID($0) })
        try await PurchaseSummaries.postpone(db, customers.filter { !changed.contains($0) })
    }
}

/// Batches of about `size` rows that end at an order's last line: the rest of an order cut
/// by the batch boundary is carried to the next batch, so every order is written whole.
final class OrderLineBatches: Sendable {
    let source: CSVRowSource
    let orderColumn: Int
    let size: Int
    private let carried = Mutex<[(row: Int, values: [String])]>([])

    init(source: CSVRowSource, orderColumn: Int, size: Int) {
        self.source = source; self.orderColumn = orderColumn; self.size = size
    }

    func next() throws -> [(row: Int, values: [String])] {
        try carried.withLock { carried in
            var rows = carried
            carried = []
            while true {
                let fresh = try source.next(rows.count < size ? size - rows.count : size)
                if fresh.isEmpty { return rows }
                rows += fresh
                let last = OrderImporter.orderKey(rows[rows.count - 1].values, orderColumn)
                var cut = rows.count
                while cut > 0 && !last.isEmpty && OrderImporter.orderKey(rows[cut - 1].values, orderColumn) == last { cut -= 1 }
                // One order longer than the batch: read on until it ends.
                if cut == 0 { continue }
                carried = Array(rows[cut...])
                return Array(rows[..<cut])
            }
        }
    }
}
