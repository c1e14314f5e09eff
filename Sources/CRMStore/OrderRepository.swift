import CRMCore
import Foundation
import SQLKit
import Synchronization

/// Product ids already seen in the database. Products are never deleted (nothing deletes
/// them, and order lines refer to them), so an id found once stays valid, and a busy order
/// endpoint need not ask the database about the same few hundred products on every order:
/// on PostgreSQL that was a round trip per order beside the batch's nine statements.
final class KnownProducts: Sendable {
    private let ids = Mutex<Set<Int64>>([])
    /// Bounds the memory; past it the set starts again (only a matter of speed).
    static let limit = 100_000

    func unknown(among lines: [OrderLine]) -> [Int64] {
        ids.withLock { ids in lines.map(\.productID.rawValue).filter { !ids.contains($0) } }
    }

    func remember(_ found: [Int64]) {
        ids.withLock { ids in
            if ids.count + found.count > Self.limit { ids.removeAll(keepingCapacity: true) }
            ids.formUnion(found)
        }
    }
}

/// Orders and their lines. Each write recomputes the customer's purchase summary in the
/// same transaction, from that customer's orders alone, so the summary is exact after
/// every commit and analytics read one row per customer instead of every order.
public struct OrderRepository: Sendable {
    let database: any StoreDatabase
    /// Concurrent order creations are committed together (see `OrderGroupCommit`).
    let groupCommit: OrderGroupCommit
    let knownProducts = KnownProducts()

    public init(database: any StoreDatabase) {
        self.database = database
        groupCommit = OrderGroupCommit(database: database)
    }

    static let entity = "order"

    public func create(_ input: OrderInput, by actor: Actor, now: Date = Date()) async throws -> Order {
        let clean = try input.validated()
        // Products are never deleted, so they can be checked before the write lock is taken:
        // the serialised part of an order write is kept to the statements that must be in it.
        let unknown = knownProducts.unknown(among: clean.lines)
        if !unknown.isEmpty {
            try await database.read { db in try await Self.checkProducts(db, clean.lines) }
            knownProducts.remember(unknown)
        }
        return try await groupCommit.create(clean, by: actor, now: now)
    }

    /// One order in its own transaction (when a group commit failed as a whole and its
    /// orders are retried one by one).
    static func createAlone(_ database: any StoreDatabase, _ clean: OrderInput, by actor: Actor, now: Date) async throws -> Order {
        let dialect = database.dialect
        return try await database.write { db in
            guard let owner = try await Self.lockCustomers(db, [clean.customerID], dialect: dialect)[clean.customerID.rawValue] else {
                throw DomainError.invalid("/customerID", "no customer has id \(clean.customerID)")
            }
            try AccessPolicy.require(actor, .writeRecord(.order, customerOwnerID: owner))
            try await Self.lockExternalIDs(db, clean.externalID.map { [$0] } ?? [], dialect: dialect)
            if let ext = clean.externalID, try await db.raw("SELECT id FROM orders WHERE external_id = \(bind: ext)").first() != nil {
                throw DomainError.invalid("/externalID", "is already used by another order")
            }
            let stamp = Instant.format(now)
            let totals = OrderTotals(lines: clean.lines)
            guard let row = try await db.raw("""
                INSERT INTO orders (customer_id, order_date, channel, currency, revenue, cost, promotion_revenue, external_id,
                                    created_at, updated_at, version)
                VALUES (\(bind: clean.customerID.rawValue), \(bind: clean.orderDate.description), \(bind: clean.channel),
                        \(bind: clean.currency.code), \(bind: totals.revenue), \(bind: totals.cost), \(bind: totals.promotionRevenue),
                        \(bind: clean.externalID), \(bind: stamp), \(bind: stamp), 1)
                RETURNING id
                """).first() else { throw StoreError.corrupt("insert returned no id") }
            let id = Order.ID(try row.decode(column: "id", as: Int64.self))
            try await Self.insertLines(db, id, clean.lines)
            try await PurchaseSummaries.recomputeAfterAdding(db, clean.customerID, currency: clean.currency, date: clean.orderDate)
            // Stored instants are text with millisecond precision; the order returned is what was stored.
            let storedAt = Instant.parse(stamp) ?? now
            let order = Order(id: id, customerID: clean.customerID, orderDate: clean.orderDate, channel: clean.channel, currency: clean.currency,
                              lines: clean.lines, externalID: clean.externalID, createdAt: storedAt, updatedAt: storedAt, version: 1)
            try await AuditLog.append(db, actor: actor, action: .create, entity: Self.entity, entityID: "\(id)",
                                      changes: FieldChange.created(order), at: now)
            return order
        }
    }

    /// Replaces the order (lines included) if `version` is current; both the old and the
    /// new customer's summaries are recomputed when the order moves between customers.
    public func update(_ id: Order.ID, with input: OrderInput, ifVersion version: Int64, by actor: Actor, now: Date = Date()) async throws -> Order {
        let clean = try input.validated()
        let dialect = database.dialect
        return try await database.write { db in
            guard let current = try await Self.fetch(db, id) else { throw DomainError.notFound(entity: Self.entity, id: "\(id)") }
            let owners = try await Self.lockCustomers(db, [current.customerID, clean.customerID], dialect: dialect)
            for customer in [current.customerID, clean.customerID] {
                guard let owner = owners[customer.rawValue] else { throw DomainError.invalid("/customerID", "no customer has id \(customer)") }
                try AccessPolicy.require(actor, .writeRecord(.order, customerOwnerID: owner))
            }
            guard current.version == version else { throw DomainError.staleVersion(entity: Self.entity, id: "\(id)", current: current.version) }
            try await Self.checkProducts(db, clean.lines)
            try await Self.lockExternalIDs(db, clean.externalID.map { [$0] } ?? [], dialect: dialect)
            if let ext = clean.externalID,
               let other = try await db.raw("SELECT id FROM orders WHERE external_id = \(bind: ext)").first(),
               try other.decode(column: "id", as: Int64.self) != id.rawValue {
                throw DomainError.invalid("/externalID", "is already used by another order")
            }
            let totals = OrderTotals(lines: clean.lines)
            try await db.raw("""
                UPDATE orders SET customer_id = \(bind: clean.customerID.rawValue), order_date = \(bind: clean.orderDate.description),
                    channel = \(bind: clean.channel), currency = \(bind: clean.currency.code), revenue = \(bind: totals.revenue),
                    cost = \(bind: totals.cost), promotion_revenue = \(bind: totals.promotionRevenue), external_id = \(bind: clean.externalID),
                    updated_at = \(bind: Instant.format(now)), version = version + 1
                WHERE id = \(bind: id.rawValue)
                """).run()
            try await db.raw("DELETE FROM order_lines WHERE order_id = \(bind: id.rawValue)").run()
            try await Self.insertLines(db, id, clean.lines)
            try await PurchaseSummaries.recompute(db, clean.customerID)
            if clean.customerID != current.customerID { try await PurchaseSummaries.recompute(db, current.customerID) }
            let updated = try await Self.fetch(db, id)!
            try await AuditLog.append(db, actor: actor, action: .update, entity: Self.entity, entityID: "\(id)",
                                      changes: FieldChange.diff(current, updated), at: now)
            return updated
        }
    }

    public func get(_ id: Order.ID) async throws -> Order {
        guard let order = try await database.read({ db in try await Self.fetch(db, id) }) else {
            throw DomainError.notFound(entity: Self.entity, id: "\(id)")
        }
        return order
    }

    public struct Query: Sendable {
        public var customerID: Customer.ID?
        public var since: CalendarDate?
        public var until: CalendarDate?
        public var cursor: String?
        public var limit: Int
        public init(customerID: Customer.ID? = nil, since: CalendarDate? = nil, until: CalendarDate? = nil, cursor: String? = nil, limit: Int = 50) {
            self.customerID = customerID; self.since = since; self.until = until; self.cursor = cursor; self.limit = limit
        }
    }

    /// Newest first (by date, then id).
    public func list(_ q: Query) async throws -> Page<Order> {
        let limit = min(max(q.limit, 1), 500)
        let cursor = try q.cursor.map { text throws(DomainError) in try Cursor(decoding: text) }
        return try await database.read { db in
            var sql = SQLQueryString("SELECT * FROM orders WHERE 1=1")
            if let c = q.customerID { sql = sql + " AND customer_id = \(bind: c.rawValue)" }
            if let s = q.since { sql = sql + " AND order_date >= \(bind: s.description)" }
            if let u = q.until { sql = sql + " AND order_date <= \(bind: u.description)" }
            if let cursor { sql = sql + " AND (order_date, id) < (\(bind: cursor.value ?? ""), \(bind: cursor.id))" }
            sql = sql + " ORDER BY order_date DESC, id DESC LIMIT \(bind: limit + 1)"
            let orders = try await Self.fetchMany(db, sql)
            let items = Array(orders.prefix(limit))
            let next = orders.count > limit ? items.last.map { Cursor(value: $0.orderDate.description, id: $0.id.rawValue).encoded } : nil
            return Page(items: items, nextCursor: next)
        }
    }

    // MARK: - SQL

    /// The owners of those of these customers that exist. On PostgreSQL the rows are locked,
    /// so writers of one customer's orders recompute its summary one after the other (each
    /// seeing the other's committed order; SQLite has one writer anyway), and locked in id
    /// order, as merges and settling lock them. An import's batch of new orders is locked
    /// by the statement writing them (migration 15), after its order numbers are in their
    /// unique index: the same order number sent here and by an import at the same moment
    /// can end in a deadlock error for one of them rather than in "already used".
    static func lockCustomers(_ db: any SQLDatabase, _ ids: [Customer.ID], dialect: Dialect) async throws -> [Int64: User.ID?] {
        let lock = dialect == .postgres ? " ORDER BY id FOR UPDATE" : ""
        return Dictionary(uniqueKeysWithValues: try await db.rows(
            "SELECT id, owner_id FROM customers " + PurchaseSummaries.customerFilter("id", Array(Set(ids)).sorted()) + "\(unsafeRaw: lock)"
        ) { (try $0.int64("id"), try $0.optionalID("owner_id", User.self)) })
    }

    /// On PostgreSQL, locks these external ids for the rest of the transaction (in one
    /// order, after the customers' locks, so two writers cannot deadlock). Several order
    /// batches commit at once there, and a check for a taken id cannot see another
    /// transaction's uncommitted order: without the lock, both would pass it and one
    /// insert would wait on the other and then fail on the unique index.
    static func lockExternalIDs(_ db: any SQLDatabase, _ ids: [String], dialect: Dialect) async throws {
        guard dialect == .postgres else { return }
        for key in Set(ids.map(externalIDLockKey)).sorted() {
            try await db.raw("SELECT pg_advisory_xact_lock(\(unsafeRaw: String(Self.externalIDLockSpace)), \(bind: key))").run()
        }
    }

    /// The first half of the two-number advisory lock key ("ORDR"); the migrator's lock
    /// uses the one-number key space, which does not overlap.
    static let externalIDLockSpace: Int32 = 0x4F52_4452

    /// FNV-1a of the id's UTF-8: the same in every process, unlike `hashValue`. Two ids
    /// that share a key only wait for each other.
    static func externalIDLockKey(_ id: String) -> Int32 {
        var h: UInt32 = 2_166_136_261
        for byte in id.utf8 { h = (h ^ UInt32(byte)) &* 16_777_619 }
        return Int32(bitPattern: h)
    }

    static func checkProducts(_ db: any SQLDatabase, _ lines: [OrderLine]) async throws {
        let ids = Array(Set(lines.map(\.productID.rawValue))).sorted()
        let sql: SQLQueryString = "SELECT id FROM products WHERE id IN (\(binds: ids.map { $0 }))"
        let found = Set(try await db.rows(sql) { try $0.int64("id") })
        var v = Validator()
        for (i, line) in lines.enumerated() where !found.contains(line.productID.rawValue) {
            v.add("/lines/\(i)/productID", "no product has id \(line.productID)")
        }
        try v.check()
    }

    static func insertLines(_ db: any SQLDatabase, _ id: Order.ID, _ lines: [OrderLine]) async throws {
        for chunk in stride(from: 0, to: lines.count, by: 200) {
            var sql = SQLQueryString("""
                INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, discount, unit_cost, on_promotion) VALUES
                """)
            for n in chunk..<min(chunk + 200, lines.count) {
                let l = lines[n]
                sql += (n == chunk ? " " : ", ") + """
                    (\(bind: id.rawValue), \(bind: Int64(n + 1)), \(bind: l.productID.rawValue), \(bind: l.quantity), \(bind: l.unitPrice),
                     \(bind: l.discount), \(bind: l.unitCost), \(bind: l.onPromotion))
                    """
            }
            try await db.raw(sql).run()
        }
    }

    static func fetch(_ db: any SQLDatabase, _ id: Order.ID) async throws -> Order? {
        try await fetchMany(db, "SELECT * FROM orders WHERE id = \(bind: id.rawValue)").first
    }

    /// Orders with their lines in two queries, whatever the number of orders.
    static func fetchMany(_ db: any SQLDatabase, _ sql: SQLQueryString) async throws -> [Order] {
        var orders = try await db.rows(sql) { r in
            Order(id: try r.id("id"), customerID: try r.id("customer_id"), orderDate: try r.date("order_date"),
                  channel: try r.optionalString("channel"), currency: try r.currency("currency"), lines: [],
                  externalID: try r.optionalString("external_id"), createdAt: try r.instant("created_at"),
                  updatedAt: try r.instant("updated_at"), version: try r.int64("version"))
        }
        guard !orders.isEmpty else { return [] }
        let lineSQL = "SELECT * FROM order_lines " + whereIn("order_id", orders.map(\.id.rawValue)) + " ORDER BY order_id, line_no"
        let lines = try await db.rows(lineSQL) { r in
            (try r.int64("order_id"), OrderLine(productID: try r.id("product_id"), quantity: try r.int64("quantity"),
                                                unitPrice: try r.int64("unit_price"), discount: try r.int64("discount"),
                                                unitCost: try r.int64("unit_cost"), onPromotion: try r.bool("on_promotion")))
        }
        let byOrder = Dictionary(grouping: lines, by: \.0)
        for i in orders.indices { orders[i].lines = byOrder[orders[i].id.rawValue]?.map(\.1) ?? [] }
        return orders
    }
}

/// Keeps `purchase_summaries` equal to what the orders say.
public enum PurchaseSummaries {
    /// The aggregate that defines a summary, for one customer or (customer = nil) all.
    static func aggregate(customer: Customer.ID?) -> SQLQueryString {
        aggregate(customers: customer.map { [$0] })
    }

    /// `WHERE <column> IN (…)` for these customers.
    static func customerFilter(_ column: String, _ customers: [Customer.ID]) -> SQLQueryString {
        whereIn(column, customers.lazy.map(\.rawValue))
    }

    static func aggregate(customers: [Customer.ID]?) -> SQLQueryString {
        aggregate(customers.map { ids in { customerFilter($0, ids) } })
    }

    /// `WHERE <column> BETWEEN …`: customers by id range.
    static func rangeFilter(_ ids: ClosedRange<Int64>) -> @Sendable (String) -> SQLQueryString {
        { "WHERE \(unsafeRaw: $0) BETWEEN \(bind: ids.lowerBound) AND \(bind: ids.upperBound)" }
    }

    /// `filter(column)` chooses the customers (`WHERE column …`); nil, all of them.
    static func aggregate(_ customers: ((String) -> SQLQueryString)?) -> SQLQueryString {
        let filter: SQLQueryString = customers?("o.customer_id") ?? ""
        let innerFilter: SQLQueryString = customers?("customer_id") ?? ""
        return """
            SELECT o.customer_id, o.currency, MIN(o.order_date) AS first_purchase, MAX(o.order_date) AS last_purchase,
                   COUNT(*) AS order_count, COUNT(DISTINCT o.order_date) AS purchase_days, SUM(o.revenue) AS revenue,
                   SUM(o.revenue - o.cost) AS profit, SUM(o.promotion_revenue) AS promotion_revenue,
                   SUM(CASE WHEN o.order_date = f.first_day THEN 0 ELSE o.revenue END) AS repeat_revenue
            FROM orders o JOIN (SELECT customer_id, currency, MIN(order_date) AS first_day FROM orders \(innerFilter)
                                GROUP BY customer_id, currency) f
              ON f.customer_id = o.customer_id AND f.currency = o.currency
            \(filter)
            GROUP BY o.customer_id, o.currency
            """
    }

    static let columns = "customer_id, currency, first_purchase, last_purchase, order_count, purchase_days, revenue, profit, promotion_revenue, repeat_revenue"

    static func recompute(_ db: any SQLDatabase, _ customer: Customer.ID) async throws {
        try await db.raw("DELETE FROM purchase_summaries WHERE customer_id = \(bind: customer.rawValue)").run()
        try await db.raw("INSERT INTO purchase_summaries (\(unsafeRaw: columns)) " + aggregate(customer: customer)).run()
        try await db.raw("DELETE FROM purchase_months WHERE customer_id = \(bind: customer.rawValue)").run()
        try await db.raw("INSERT INTO purchase_months (\(unsafeRaw: monthColumns)) " + monthly(customer: customer)).run()
    }

    /// Recomputes many customers' summaries, a few hundred per statement.
    static func recompute(_ db: any SQLDatabase, _ customers: [Customer.ID]) async throws {
        for start in stride(from: 0, to: customers.count, by: 400) {
            let slice = Array(customers[start..<min(start + 400, customers.count)])
            try await db.raw("DELETE FROM purchase_summaries " + customerFilter("customer_id", slice)).run()
            try await db.raw("INSERT INTO purchase_summaries (\(unsafeRaw: columns)) " + aggregate(customers: slice)).run()
            try await db.raw("DELETE FROM purchase_months " + customerFilter("customer_id", slice)).run()
            try await db.raw("INSERT INTO purchase_months (\(unsafeRaw: monthColumns)) " + monthly(customers: slice)).run()
        }
    }

    /// After an order is added: the same result as `recompute` in two upserts, since adding
    /// an order never removes a summary or a month.
    static func recomputeAfterAdding(_ db: any SQLDatabase, _ customer: Customer.ID, currency: Currency, date: CalendarDate) async throws {
        try await db.raw("INSERT INTO purchase_summaries (\(unsafeRaw: columns)) " + aggregate(customer: customer) + summaryUpsert).run()
        try await db.raw("INSERT INTO purchase_months (\(unsafeRaw: monthColumns)) " + monthly(customers: [customer], month: (currency, date))
                         + monthUpsert).run()
    }

    /// After orders were only added for these customers (an import's new orders): the same
    /// result as `recompute` without deleting first, for the reason above. Half the B-tree
    /// writes of deleting and inserting every row again.
    static func recomputeAfterAdding(_ db: any SQLDatabase, _ customers: [Customer.ID]) async throws {
        for start in stride(from: 0, to: customers.count, by: 400) {
            let slice = Array(customers[start..<min(start + 400, customers.count)])
            try await db.raw("INSERT INTO purchase_summaries (\(unsafeRaw: columns)) " + aggregate(customers: slice) + summaryUpsert).run()
            try await db.raw("INSERT INTO purchase_months (\(unsafeRaw: monthColumns)) " + monthly(customers: slice) + monthUpsert).run()
        }
    }

    /// Puts customers who only gained orders in the backlog, to be recomputed by
    /// `PurchaseSummaryRepository.settleBacklog` (see migration 12).
    static func postpone(_ db: any SQLDatabase, _ customers: [Int64]) async throws {
        if db.dialect.name == "postgresql" {
            // The ids themselves, one array: the caller's orders name them (so their reference
            // check found and locked them). Probing customers for each id again made this
            // statement 28.9 s of a 10,000,000-line import's server time; now 17.4–19.5 s.
            guard !customers.isEmpty else { return }
            try await db.raw("""
                INSERT INTO purchase_summary_backlog (customer_id) SELECT unnest(\(bind: customers.sorted())::bigint[])
                ON CONFLICT (customer_id) DO NOTHING
                """).run()
            return
        }
        for start in stride(from: 0, to: customers.count, by: 1000) {
            let slice = customers[start..<min(start + 1000, customers.count)]
            // The WHERE also keeps SQLite from reading ON CONFLICT as a join's.
            try await db.raw("INSERT INTO purchase_summary_backlog (customer_id) SELECT id FROM customers " + whereIn("id", slice)
                             + " ON CONFLICT (customer_id) DO NOTHING").run()
        }
    }

    // The aggregates end in a WHERE and a GROUP BY, so SQLite reads ON CONFLICT as the
    // upsert's and not as a join's condition.
    private static let summaryUpsert: SQLQueryString = """
         ON CONFLICT (customer_id, currency) DO UPDATE SET first_purchase = excluded.first_purchase,
            last_purchase = excluded.last_purchase, order_count = excluded.order_count, purchase_days = excluded.purchase_days,
            revenue = excluded.revenue, profit = excluded.profit, promotion_revenue = excluded.promotion_revenue,
            repeat_revenue = excluded.repeat_revenue
        """
    private static let monthUpsert: SQLQueryString = """
         ON CONFLICT (customer_id, currency, month) DO UPDATE SET order_count = excluded.order_count,
            revenue = excluded.revenue, profit = excluded.profit
        """

    /// Revenue and profit by calendar month, so the analytics windows need no order scan.
    static func monthly(customer: Customer.ID?) -> SQLQueryString {
        monthly(customers: customer.map { [$0] })
    }

    /// With `month`, only that currency's calendar month of the given date.
    static func monthly(customers: [Customer.ID]?, month: (Currency, CalendarDate)? = nil) -> SQLQueryString {
        monthly(customers.map { ids in { customerFilter($0, ids) } }, month: month)
    }

    static func monthly(_ customers: ((String) -> SQLQueryString)?, month: (Currency, CalendarDate)? = nil) -> SQLQueryString {
        var filter: SQLQueryString = customers?("customer_id") ?? ""
        if let (currency, date) = month {
            let m = String(date.description.prefix(7))
            filter = filter + (customers == nil ? " WHERE " : " AND ")
                + "currency = \(bind: currency.code) AND order_date BETWEEN \(bind: m + "-01") AND \(bind: m + "-31")"
        }
        return """
            SELECT customer_id, currency, substr(order_date, 1, 7) AS month, COUNT(*) AS order_count,
                   SUM(revenue) AS revenue, SUM(revenue - cost) AS profit
            FROM orders \(filter) GROUP BY customer_id, currency, substr(order_date, 1, 7)
            """
    }

    static let monthColumns = "customer_id, currency, month, order_count, revenue, profit"

    static func decode(_ r: Row) throws -> PurchaseSummary {
        PurchaseSummary(customerID: try r.id("customer_id"), currency: try r.currency("currency"),
                        firstPurchase: try r.date("first_purchase"), lastPurchase: try r.date("last_purchase"),
                        orderCount: try r.int64("order_count"), purchaseDays: try r.int64("purchase_days"),
                        revenue: try r.int64("revenue"), profit: try r.int64("profit"),
                        promotionRevenue: try r.int64("promotion_revenue"), repeatRevenue: try r.int64("repeat_revenue"))
    }
}

/// Reads, verifies and repairs the per-customer purchase summaries.
public struct PurchaseSummaryRepository: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    public func summaries(of customer: Customer.ID) async throws -> [PurchaseSummary] {
        try await database.read { db in
            try await db.rows("SELECT * FROM purchase_summaries WHERE customer_id = \(bind: customer.rawValue) ORDER BY currency", PurchaseSummaries.decode)
        }
    }

    /// Customers whose stored summary differs from their orders (including summaries with
    /// no orders behind them, and orders with no summary), compared `customersPerPass` ids at
    /// a time: the comparison sorts both sides, and sorting every summary at once took
    /// 100 MB beyond the import it checked.
    public func verify(customersPerPass: Int64 = 100_000) async throws -> [Customer.ID] {
        let ids = try await database.read { db in
            try await db.rows("SELECT MIN(id) AS first, MAX(id) AS last FROM customers") {
                (try $0.optionalInt64("first"), try $0.optionalInt64("last"))
            }.first
        }
        guard let first = ids?.0, let last = ids?.1 else { return [] }
        let perPass = max(1, customersPerPass)
        var wrong: [Customer.ID] = []
        for low in stride(from: first, through: last, by: Int(perPass)) {
            let range = PurchaseSummaries.rangeFilter(low...(last - low < perPass ? last : low + perPass - 1))
            wrong += try await database.read { db in
                let stored = "SELECT \(unsafeRaw: PurchaseSummaries.columns) FROM purchase_summaries " + range("customer_id")
                let storedMonths = "SELECT \(unsafeRaw: PurchaseSummaries.monthColumns) FROM purchase_months " + range("customer_id")
                // Customers with a row on one side and not the other.
                func differing(_ a: SQLQueryString, _ b: SQLQueryString) -> SQLQueryString {
                    "SELECT DISTINCT customer_id FROM (SELECT * FROM (" + a + " EXCEPT " + b
                        + ") x UNION ALL SELECT * FROM (" + b + " EXCEPT " + a + ") y) d"
                }
                let sql = differing(PurchaseSummaries.aggregate(range), stored) + " UNION "
                    + differing(PurchaseSummaries.monthly(range), storedMonths) + " ORDER BY customer_id"
                return try await db.rows(sql) { try $0.id("customer_id", Customer.self) }
            }
        }
        return wrong
    }

    /// Recomputes the summaries of the customers in the backlog, in id order, `perTransaction`
    /// at a time, and takes them out of it; returns how many. Their orders were only ever
    /// added since their summaries were last exact (any other change recomputes at once), so
    /// an upsert of their aggregates is enough.
    ///
    /// One pass over the ids: every customer in the backlog when it begins is settled, and
    /// one put back behind it (by an import still running) is left to that import's own
    /// settling. Going round until the backlog was empty, it could be kept going for as long
    /// as another import ran.
    @discardableResult
    public func settleBacklog(perTransaction: Int = 20_000) async throws -> Int {
        try await settleBacklog(perTransaction: perTransaction, afterEach: nil)
    }

    /// `afterEach` runs after each transaction (for tests: a concurrent import's writes).
    func settleBacklog(perTransaction: Int, afterEach: (@Sendable () async throws -> Void)?) async throws -> Int {
        let database = self.database
        // On PostgreSQL two transactions settle at once, each its own range of ids (so their
        // locks never meet), each on a backend of its own: the importer is idle by now, and
        // one backend kept one core busy for the 35 s that 1,000,000 customers took.
        let inFlight = database.dialect == .postgres ? 2 : 1
        return try await withThrowingTaskGroup(of: Int.self) { group in
            var settled = 0, running = 0
            var after = Int64.min
            while true {
                let above = after
                let ids = try await database.read { db in
                    try await db.rows("""
                        SELECT customer_id FROM purchase_summary_backlog WHERE customer_id > \(bind: above)
                        ORDER BY customer_id LIMIT \(bind: max(1, perTransaction))
                        """) { try $0.int64("customer_id") }
                }
                guard let last = ids.last else { break }
                after = last
                if running == inFlight, let done = try await group.next() {
                    settled += done
                    running -= 1
                }
                group.addTask {
                    try await Self.settle(database, ids)
                    try await afterEach?()
                    return ids.count
                }
                running += 1
            }
            for try await done in group { settled += done }
            return settled
        }
    }

    /// Recomputes these backlog customers' summaries and takes them out of the backlog, in one
    /// transaction. (One settled meanwhile by someone else is recomputed again: still exact.)
    private static func settle(_ database: any StoreDatabase, _ ids: [Int64]) async throws {
        let dialect = database.dialect
        try await database.write { db in
            for start in stride(from: 0, to: ids.count, by: 1000) {
                let slice = ids[start..<min(start + 1000, ids.count)]
                // As in an order import's batch: concurrent order writes recompute after ours.
                if dialect == .postgres {
                    try await db.raw("SELECT id FROM customers " + whereIn("id", slice) + " ORDER BY id FOR UPDATE").run()
                }
                try await PurchaseSummaries.recomputeAfterAdding(db, slice.map { Customer.ID($0) })
                try await db.raw("DELETE FROM purchase_summary_backlog " + whereIn("customer_id", slice)).run()
            }
        }
    }

    /// Recomputes the given customers' summaries from their orders; returns how many it fixed.
    @discardableResult
    public func repair(_ customers: [Customer.ID]) async throws -> Int {
        for chunk in stride(from: 0, to: customers.count, by: 500) {
            let slice = Array(customers[chunk..<min(chunk + 500, customers.count)])
            try await database.write { db in
                for c in slice { try await PurchaseSummaries.recompute(db, c) }
            }
        }
        return customers.count
    }
}
