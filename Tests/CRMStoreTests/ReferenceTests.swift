import CRMCore
@testable import CRMStore
import CRMTestSupport
import SQLKit
import Testing

/// Rows may only refer to customers, orders and products that exist, and those that are
/// referred to may not be deleted: foreign keys on SQLite, checks per statement on
/// PostgreSQL (migration 14). Each case is tried with plain statements and, on
/// PostgreSQL, with COPY, which is how imports write.
@Suite("References between customers, orders and products")
struct ReferenceTests {
    struct Stored: Sendable {
        var customer: Int64
        var order: Int64
        var product: Int64
    }

    /// A customer with one order of one product.
    static func stored(_ store: Store, _ users: TestUsers) async throws -> Stored {
        let c = try await store.customers.create(makeCustomerInput("引用"), by: users.admin)
        let p = try await store.products.create(makeProductInput(), by: users.admin)
        let o = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id), by: users.admin)
        return Stored(customer: c.id.rawValue, order: o.id.rawValue, product: p.id.rawValue)
    }

    static func count(_ db: any SQLDatabase, _ table: String) async throws -> Int64 {
        try await db.rows("SELECT count(*) AS n FROM \(unsafeRaw: table)") { try $0.int64("n") }.first ?? -1
    }

    /// `statement` must fail as a reference fails (SQLSTATE 23503 on PostgreSQL, SQLite's
    /// foreign key message), and leave `table` as it was.
    static func refused(_ store: Store, _ table: String, _ what: String,
                        _ statement: @escaping @Sendable (any SQLDatabase) async throws -> Void) async throws {
        let before = try await store.database.read { try await count($0, table) }
        var failure: String?
        do { try await store.database.write { try await statement($0) } } catch { failure = String(reflecting: error) }
        #expect(failure != nil, "\(what) was not refused")
        if let failure {
            #expect(failure.contains("23503") || failure.contains("FOREIGN KEY constraint failed"), "\(what) failed otherwise: \(failure)")
        }
        #expect(try await store.database.read { try await count($0, table) } == before, "\(what) changed \(table)")
    }

    @Test(arguments: TestBackend.available)
    func rowsReferringToMissingRowsAreRefused(_ backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let s = try await Self.stored(store, users)
            let missing: Int64 = 999_999
            @Sendable func line(order: Int64, product: Int64) -> SQLQueryString {
                "INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, discount, unit_cost, on_promotion) VALUES (\(bind: order), 9, \(bind: product), 1, 100, 0, 50, \(bind: false))"
            }
            try await Self.refused(store, "order_lines", "a line of a missing order") { try await $0.raw(line(order: missing, product: s.product)).run() }
            try await Self.refused(store, "order_lines", "a line of a missing product") { try await $0.raw(line(order: s.order, product: missing)).run() }
            try await Self.refused(store, "orders", "an order of a missing customer") {
                try await $0.raw("""
                    INSERT INTO orders (customer_id, order_date, currency, revenue, cost, promotion_revenue, created_at, updated_at, version)
                    VALUES (\(bind: missing), '2026-01-01', 'CNY', 1, 1, 0, 'x', 'x', 1)
                    """).run()
            }
            try await Self.refused(store, "orders", "an order moved to a missing customer") {
                try await $0.raw("UPDATE orders SET customer_id = \(bind: missing) WHERE id = \(bind: s.order)").run()
            }
            #expect(try await store.orders.get(Order.ID(s.order)).customerID.rawValue == s.customer)
            // Of several rows one is bad: the statement fails whole.
            try await Self.refused(store, "customer_tags", "tags of one existing and one missing customer") {
                try await $0.raw("INSERT INTO customer_tags (customer_id, tag) VALUES (\(bind: s.customer), 'a'), (\(bind: missing), 'b')").run()
            }
            // The same rows referring to what exists are written.
            try await store.database.write { db in
                try await db.raw(line(order: s.order, product: s.product)).run()
                try await db.raw("INSERT INTO customer_tags (customer_id, tag) VALUES (\(bind: s.customer), 'a')").run()
            }
            #expect(try await store.database.read { try await Self.count($0, "order_lines") } == 2)
            #expect(try await store.database.read { try await Self.count($0, "customer_tags") } == 1)
        }
    }

    /// A row a merge races: written for the customer it archives, in a transaction not yet
    /// committed.
    enum RacingWrite: String, CaseIterable, Sendable {
        /// Its reference locks the customer (FOR KEY SHARE), as a foreign key's check did.
        case interaction
        /// Written by a statement alone, as an import's batch of new orders is: its reference
        /// check locks the customer (FOR UPDATE, migration 15).
        case order

        var table: String { self == .interaction ? "interactions" : "orders" }

        func insert(for customer: Int64) -> SQLQueryString {
            switch self {
            case .interaction:
                """
                INSERT INTO interactions (customer_id, kind, direction, occurred_at, created_at)
                VALUES (\(bind: customer), 'call', 'outbound', '2026-11-28T10:00:00Z', '2026-11-28T10:00:00Z')
                """
            case .order:
                """
                INSERT INTO orders (customer_id, order_date, channel, currency, revenue, cost, promotion_revenue, external_id,
                                    created_at, updated_at, version)
                VALUES (\(bind: customer), '2026-11-28', 'store', 'CNY', 1000, 600, 0, 'RACE-1',
                        '2026-11-28T10:00:00Z', '2026-11-28T10:00:00Z', 1)
                """
            }
        }
    }

    /// A merge waits for a transaction still writing a row of the customer it archives, and
    /// moves that row too. On PostgreSQL the merge must be seen waiting for the writer's
    /// backend before the writer commits, so the race cannot pass by the merge arriving late.
    @Test(arguments: TestBackend.available, RacingWrite.allCases)
    func aMergeWaitsForARowBeingWritten(_ backend: TestBackend, _ write: RacingWrite) async throws {
        try await withTestStore(backend) { store, users in
            let survivor = try await store.customers.create(makeCustomerInput("留"), by: users.admin)
            let merged = try await store.customers.create(makeCustomerInput("并"), by: users.admin)
            // The writer's backend on PostgreSQL; SQLite's one writer makes any merge wait.
            let (inserted, insertedGo) = AsyncStream.makeStream(of: Int64?.self)
            let (release, releaseGo) = AsyncStream.makeStream(of: Void.self)
            let writing = Task {
                try await store.database.write { db in
                    try await db.raw(write.insert(for: merged.id.rawValue)).run()
                    let pid = backend == .postgres
                        ? try await db.rows("SELECT pg_backend_pid()::bigint AS pid") { try $0.int64("pid") }.first : nil
                    insertedGo.yield(pid)
                    for await _ in release { break }
                }
            }
            var writer: Int64?
            for await pid in inserted { writer = pid; break }
            let merging = Task { try await store.merges.merge(survivor: survivor.id, merged: merged.id, choices: [:], by: users.admin) }
            if let writer {
                #expect(try await Self.someoneWaits(for: writer, store), "the merge never waited for the \(write) being written")
            } else {
                try await Task.sleep(for: .milliseconds(300))
            }
            releaseGo.yield()
            try await writing.value
            let (merge, _) = try await merging.value
            #expect(merge.moved[write.table] == 1)
            let owners = try await store.database.read { db in
                try await db.rows("SELECT customer_id FROM \(unsafeRaw: write.table)") { try $0.int64("customer_id") }
            }
            #expect(owners == [survivor.id.rawValue])
        }
    }

    /// Whether, within five seconds, another PostgreSQL backend is blocked by `pid`.
    static func someoneWaits(for pid: Int64, _ store: Store) async throws -> Bool {
        for _ in 0..<250 {
            let waiting = try await store.database.read { db in
                try await db.rows("""
                    SELECT count(*) AS n FROM pg_stat_activity WHERE \(bind: pid) = ANY(pg_blocking_pids(pid)::bigint[])
                    """) { try $0.int64("n") }
            }
            if waiting.first ?? 0 > 0 { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test(arguments: TestBackend.available.filter { $0 == .postgres })
    func copiedRowsReferringToMissingRowsAreRefused(_ backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let s = try await Self.stored(store, users)
            @Sendable func line(order: Int64, product: Int64) -> ImportRun.InsertRow {
                .init([.integer(order), .integer(2), .integer(product), .integer(1), .integer(100), .integer(0), .integer(50), .bool(false)], .postgres)
            }
            let columns = ["order_id", "line_no", "product_id", "quantity", "unit_price", "discount", "unit_cost", "on_promotion"]
            try await Self.refused(store, "order_lines", "copied lines, one of a missing order") {
                try await ImportRun.insertRows($0, "order_lines", columns, [line(order: s.order, product: s.product), line(order: 999_999, product: s.product)])
            }
            try await Self.refused(store, "order_lines", "a copied line of a missing product") {
                try await ImportRun.insertRows($0, "order_lines", columns, [line(order: s.order, product: 999_999)])
            }
            try await store.database.write { try await ImportRun.insertRows($0, "order_lines", columns, [line(order: s.order, product: s.product)]) }
            #expect(try await store.database.read { try await Self.count($0, "order_lines") } == 2)
        }
    }

    @Test(arguments: TestBackend.available)
    func rowsReferredToCannotBeDeleted(_ backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let s = try await Self.stored(store, users)
            // What else refers to a customer goes first, so that only the order stands in the way.
            @Sendable func detach(_ db: any SQLDatabase, _ customer: Int64) async throws {
                // On SQLite the search postings are an FTS5 table, keyed by rowid.
                for table in ["customer_roles", "customer_tags", "purchase_summaries", "purchase_months"]
                    + (backend == .postgres ? ["search_postings"] : []) {
                    try await db.raw("DELETE FROM \(unsafeRaw: table) WHERE customer_id = \(bind: customer)").run()
                }
            }
            try await store.database.write { try await detach($0, s.customer) }
            try await Self.refused(store, "customers", "deleting a customer with an order") {
                try await $0.raw("DELETE FROM customers WHERE id = \(bind: s.customer)").run()
            }
            try await Self.refused(store, "orders", "deleting an order with lines") { try await $0.raw("DELETE FROM orders WHERE id = \(bind: s.order)").run() }
            try await Self.refused(store, "products", "deleting a product on an order line") {
                try await $0.raw("DELETE FROM products WHERE id = \(bind: s.product)").run()
            }
            // Nothing refers to a new customer: deleting it is allowed, as with a foreign key.
            let lone = try await store.customers.create(makeCustomerInput("孤"), by: users.admin)
            try await store.database.write { db in
                try await detach(db, lone.id.rawValue)
                try await db.raw("DELETE FROM customers WHERE id = \(bind: lone.id.rawValue)").run()
            }
            #expect(try await store.database.read { try await Self.count($0, "customers") } == 1)
        }
    }

    /// On PostgreSQL no foreign key refers to customers, orders or products any more but a
    /// customer's `merged_into`, and every reference listed is checked on insert and update.
    @Test(arguments: TestBackend.available.filter { $0 == .postgres })
    func everyReferenceIsCheckedPerStatement(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { db in
            let (keys, triggers) = try await db.read { db in
                let keys = try await db.rows("""
                    SELECT conrelid::regclass::text AS t, a.attname AS c FROM pg_constraint k
                    JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
                    WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace
                      AND k.confrelid::regclass::text IN ('customers', 'orders', 'products')
                    """) { "\(try $0.string("t")).\(try $0.string("c"))" }
                let triggers = try await db.rows("""
                    SELECT tgname AS n FROM pg_trigger WHERE NOT tgisinternal
                      AND tgrelid::regclass::text IN (SELECT tablename FROM pg_tables WHERE schemaname = current_schema())
                    """) { try $0.string("n") }
                return (keys, Set(triggers))
            }
            #expect(keys == ["customers.merged_into"])
            for table in Set(StatementReferences.references.map(\.table)) {
                #expect(triggers.contains("\(table)_references_on_insert") && triggers.contains("\(table)_references_on_update"), "\(table)")
            }
            for referred in ["customers", "orders", "products"] {
                #expect(triggers.contains("\(referred)_referrers_on_delete"), "\(referred)")
            }
        }
    }
}
