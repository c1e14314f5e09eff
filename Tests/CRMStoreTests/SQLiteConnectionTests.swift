import CRMCore
@testable import CRMStore
import CRMTestSupport
import Foundation
import SQLiteKit
import SQLKit
import Synchronization
import Testing

/// SQLite's connections prepare each statement once and run it on the calling thread
/// (`lookup`) or on NIO's thread pool (`read`, `write`), so these check that nothing of a
/// statement's last use leaks into the next, that errors name the statement, and that both
/// read paths see what the other sees (and what PostgreSQL's answers).
@Suite("SQLite connections and lookups")
struct SQLiteConnectionTests {
    @Test func boundValuesAreWhatSQLiteKitsEncoderMakesOfThem() throws {
        let values: [any Encodable & Sendable] = [
            "张伟", "", Int64(42), Int64.min, Int(-7), Optional<String>.none, Optional("Ada"), Optional<Int64>.none, Optional(Int64(9)),
            Optional<Double>.none, Optional<Bool>.none, true, false, 2.5, Optional(1.25), Date(timeIntervalSince1970: 1_700_000_000),
            [UInt8]([1, 2, 3]), ["a", "b"],
        ]
        let encoder = SQLiteDataEncoder()
        for value in values {
            #expect(try SQLiteStatements.data(value) == encoder.encode(value), "\(value)")
        }
    }

    @Test(arguments: TestBackend.available)
    func aLookupSeesEachCommittedChangeAsReadDoes(_ backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            var ids: [Customer.ID] = []
            for name in ["张伟", "Ada Lovelace", "王芳"] {
                ids.append(try await store.customers.create(makeCustomerInput(name), by: users.admin).id)
            }
            // The same statement with a new id each time: each answer is its own row.
            for (id, name) in zip(ids, ["张伟", "Ada Lovelace", "王芳"]) {
                #expect(try await store.customers.get(id).name == name)
            }
            let sql: SQLQueryString = "SELECT id, name, email FROM customers WHERE id = \(bind: ids[1].rawValue)"
            let byLookup = try await store.database.lookup { db in try await db.rows(sql) { try [$0.string("name"), $0.optionalString("email") ?? "-"] } }
            let byRead = try await store.database.read { db in try await db.rows(sql) { try [$0.string("name"), $0.optionalString("email") ?? "-"] } }
            #expect(byLookup == byRead)
            #expect(byLookup == [["Ada Lovelace", "-"]])

            // A change committed after the statement was first used is seen by the next use.
            _ = try await store.customers.update(ids[0], with: makeCustomerInput("张伟明"), ifVersion: 1, by: users.admin)
            #expect(try await store.customers.get(ids[0]).name == "张伟明")
            await #expect(throws: DomainError.self) { try await store.customers.get(Customer.ID(999_999)) }
        }
    }

    @Test
    func everyKindOfValueComesBackAsSQLiteNIOGivesIt() async throws {
        try await withTestDatabase(.sqlite) { database in
            let sql: SQLQueryString = """
                SELECT \(bind: Int64.max) AS big, \(bind: -2.5) AS fraction, \(bind: "张伟 ✓ 👨‍👩‍👧") AS text,
                       NULL AS missing, x'00ff10' AS bytes, \(bind: "") AS empty, \(bind: true) AS yes, \(bind: false) AS no,
                       2 AS two, 42 AS number
                """
            @Sendable func values(_ db: any SQLDatabase) async throws -> [String] {
                try await db.rows(sql) { r in
                    [String(try r.int64("big")), String(try r.row.decode(column: "fraction", as: Double.self)),
                     try r.string("text"), String(try r.row.decodeNil(column: "missing")),
                     (try r.row.decode(column: "bytes", as: Data.self)).map { String($0, radix: 16) }.joined(separator: " "),
                     "[\(try r.string("empty"))]", String(try r.bool("yes")), String(try r.bool("no")),
                     String(describing: try? r.bool("two")), String(try r.row.decode(column: "number", as: Int.self)),
                     String(try r.row.decode(column: "number", as: Double.self)), String(describing: try? r.string("number"))]
                }.first ?? []
            }
            let byLookup = try await database.lookup(values)
            #expect(Array(byLookup.prefix(11)) == ["9223372036854775807", "-2.5", "张伟 ✓ 👨‍👩‍👧", "true", "0 ff 10", "[]", "true", "false",
                                                   "nil", "42", "42.0"])
            #expect(try await database.read(values) == byLookup)
            // And as SQLiteNIO's own connection, which the store used before, gives them.
            let path = try #require(database as? SQLiteStoreDatabase).path
            let nio = try await SQLiteConnection.open(storage: .file(path: path), logger: testLogger)
            let byNIO = try await values(nio.sql())
            try await nio.close()
            #expect(byNIO == byLookup)
        }
    }

    /// SQLite compiles a statement again when a bound value it planned with changes, which
    /// costs more than the read itself; lookups ask it to keep the plan.
    @Test
    func aStatementIsCompiledOnceWhateverIsBound() async throws {
        try await withReaderConnection { connection in
            let sql = "SELECT c.*, a.* FROM customers c LEFT JOIN customer_analytics a ON a.customer_id = c.id WHERE c.id = ?1 LIMIT ?2"
            for id in 1...5 {
                try connection.run(sql, [.integer(id), .integer(id)]) { _ in }
            }
            #expect(connection.timesRecompiled(sql) == 0)
        }
    }

    @Test
    func aRefusedStatementIsNamedAndTheConnectionServesTheNext() async throws {
        try await withTestDatabase(.sqlite) { database in
            for path in ["lookup", "read"] {
                @Sendable func run<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
                    path == "lookup" ? try await database.lookup(body) : try await database.read(body)
                }
                let error = await #expect(throws: SQLiteStatementError.self, "\(path)") {
                    try await run { db in try await db.raw("SELECT nonexistent FROM customers").all() }
                }
                #expect(error?.sql == "SELECT nonexistent FROM customers")
                #expect(error?.message.contains("nonexistent") == true)
                // Readers never write, whatever they are given.
                await #expect(throws: SQLiteStatementError.self, "\(path)") {
                    try await run { db in try await db.raw("DELETE FROM customers").run() }
                }
                let answer = try await run { db in try await db.raw("SELECT 6 * 7 AS answer").first()?.decode(column: "answer", as: Int.self) }
                #expect(answer == 42, "\(path)")
            }
        }
    }

    /// A long result streamed from the thread pool arrives whole and in order.
    @Test
    func aReadStreamsEveryRowInOrder() async throws {
        try await withTestDatabase(.sqlite) { database in
            let numbers = try await database.read { db in
                try await db.stream("""
                    WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < \(bind: 50_000)) SELECT x FROM n
                    """) { try $0.int64("x") }
            }
            #expect(numbers == Array(1...50_000))
        }
    }

    /// More distinct statements than a connection keeps prepared: older ones are let go
    /// and each still answers correctly.
    @Test
    func moreStatementsThanAConnectionKeepsStillAnswer() async throws {
        try await withTestDatabase(.sqlite) { database in
            for round in 0..<2 {
                for n in 0..<300 {
                    let answer = try await database.lookup { db in
                        try await db.raw("SELECT \(unsafeRaw: String(n)) + \(bind: round) AS answer").first()?.decode(column: "answer", as: Int.self)
                    }
                    #expect(answer == n + round)
                }
            }
        }
    }

    /// Many lookups at once while orders are written: each sees a whole, committed state
    /// (the summary's order count equals the orders counted in the same statement).
    @Test(arguments: TestBackend.available)
    func concurrentLookupsDuringWritesSeeCommittedStates(_ backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let customer = try await store.customers.create(makeCustomerInput("李娜"), by: users.admin)
            let product = try await store.products.create(makeProductInput(), by: users.admin)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for day in 1...20 {
                        _ = try await store.orders.create(makeOrderInput(customer: customer.id, product: product.id,
                                                                         date: String(format: "2026-01-%02d", day)), by: users.admin)
                    }
                }
                for _ in 0..<8 {
                    group.addTask {
                        for _ in 0..<25 {
                            let counts = try await store.database.lookup { db in
                                try await db.rows("""
                                    SELECT (SELECT count(*) FROM orders WHERE customer_id = \(bind: customer.id.rawValue)) AS orders,
                                           (SELECT CAST(coalesce(sum(order_count), 0) AS BIGINT) FROM purchase_summaries WHERE customer_id = \(bind: customer.id.rawValue)) AS summarised
                                    """) { r in (try r.int64("orders"), try r.int64("summarised")) }.first
                            }
                            let (orders, summarised) = try #require(counts)
                            #expect(orders == summarised)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.customer360(customer.id).recentOrders.count == 10)
        }
    }

    /// After the database is closed a lookup fails plainly instead of opening a connection
    /// that nothing would close.
    @Test
    func aClosedDatabaseRefusesLookups() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crm-lookup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let database = try await SQLiteStoreDatabase(path: dir.appendingPathComponent("crm.sqlite").path, readers: 1, logger: testLogger)
        let before = try await database.lookup { db in try await db.raw("SELECT 1 AS one").first()?.decode(column: "one", as: Int.self) }
        #expect(before == 1)
        await database.close()
        let error = await #expect(throws: SQLiteStatementError.self) {
            try await database.lookup { db in try await db.raw("SELECT 1 AS one").all() }
        }
        #expect(error?.message.contains("closed") == true)
    }

    /// A write whose statement SQLite refuses is rolled back whole and names the statement,
    /// and the writer serves the next write; long statements past the writer's cache of
    /// prepared statements are written correctly.
    @Test
    func aRefusedWriteLeavesNothingAndTheWriterCarriesOn() async throws {
        try await withTestDatabase(.sqlite) { database in
            try await database.write { db in try await db.raw("CREATE TABLE notes (n INTEGER NOT NULL)").run() }
            let error = await #expect(throws: SQLiteStatementError.self) {
                try await database.write { db in
                    try await db.raw("INSERT INTO notes (n) VALUES (\(bind: 1))").run()
                    try await db.raw("INSERT INTO notes (n) VALUES (NULL)").run()
                }
            }
            #expect(error?.sql == "INSERT INTO notes (n) VALUES (NULL)")
            #expect(error?.message.contains("NOT NULL") == true)
            for size in stride(from: 1, through: 6000, by: 120) {
                try await database.write { db in
                    var insert: SQLQueryString = "INSERT INTO notes (n) VALUES (\(bind: size))"
                    for _ in 1..<size { insert.appendInterpolation(unsafeRaw: ", "); insert.appendInterpolation("(\(bind: size))" as SQLQueryString) }
                    try await db.raw(insert).run()
                }
            }
            let counted = try await database.read { db in try await db.rows("SELECT count(*) AS c, sum(n) AS s FROM notes") { (try $0.int64("c"), try $0.int64("s")) } }
            let sizes = Array(stride(from: 1, through: 6000, by: 120))
            #expect(counted.first?.0 == Int64(sizes.reduce(0, +)))
            #expect(counted.first?.1 == Int64(sizes.map { $0 * $0 }.reduce(0, +)))
        }
    }

    /// A write whose task is cancelled half-way is rolled back, and the writer is out of
    /// its transaction for the next write (NIO's thread pool skips work for a cancelled
    /// task; the writer's statements, ROLLBACK above all, must not be skipped).
    @Test
    func aCancelledWriteIsRolledBackAndTheNextWriteRuns() async throws {
        try await withTestDatabase(.sqlite) { database in
            try await database.write { db in try await db.raw("CREATE TABLE notes (n INTEGER NOT NULL)").run() }
            let started = AsyncStream<Void>.makeStream()
            let cancelled = Task {
                try await database.write { db in
                    try await db.raw("INSERT INTO notes (n) VALUES (1)").run()
                    started.continuation.yield()
                    try await Task.sleep(for: .seconds(30))
                    try await db.raw("INSERT INTO notes (n) VALUES (2)").run()
                }
            }
            for await _ in started.stream { break }
            cancelled.cancel()
            await #expect(throws: CancellationError.self) { try await cancelled.value }
            #expect(await (try #require(database as? SQLiteStoreDatabase)).writerInTransaction == false)
            try await database.write { db in try await db.raw("INSERT INTO notes (n) VALUES (3)").run() }
            let notes = try await database.read { db in try await db.rows("SELECT n FROM notes ORDER BY n") { try $0.int64("n") } }
            #expect(notes == [3])
        }
    }

    /// A SQLite store with a table `notes (n, t)` for inserts, and its columns.
    private func withNotesTable(_ body: @Sendable (any StoreDatabase, [String]) async throws -> Void) async throws {
        try await withTestStore(.sqlite) { store, _ in
            try await store.database.write { db in try await db.raw("CREATE TABLE notes (n BIGINT PRIMARY KEY, t TEXT)").run() }
            try await body(store.database, ["n", "t"])
        }
    }

    /// The writer runs a multi-row insert a row at a time (one kept single-row statement),
    /// yet as the one statement it stands for: a refused row takes the rows before it with
    /// it, and the transaction goes on. Rows already converted for SQLite go in alike.
    @Test
    func aMultiRowInsertIsAllOrNothingThoughSteppedRowByRow() async throws {
        try await withNotesTable { database, columns in
            @Sendable func insert(_ db: any SQLDatabase, _ rows: MultiRowInsert.Rows) async throws {
                try await db.execute(sql: MultiRowInsert(table: "notes", columns: columns, rows: rows)) { _ in }
            }
            try await database.write { db in
                try await insert(db, .values([[bound(Int64(1)), bound("a")]]))
                await #expect(throws: SQLiteStatementError.self) {
                    try await insert(db, .values([[bound(Int64(2)), bound("b")], [bound(Int64(3)), bound(nil as String?)], [bound(Int64(1)), bound("c")]]))
                }
                await #expect(throws: SQLiteStatementError.self) {
                    try await insert(db, .sqlite([[.integer(7), .text("g")], [.integer(1), .null]]))
                }
                try await insert(db, .values([[bound(Int64(4)), bound("d")], [bound(Int64(5)), bound(nil as String?)]]))
                try await insert(db, .sqlite([[.integer(6), .text("f")]]))
            }
            let notes = try await database.read { db in
                try await db.rows("SELECT n, t FROM notes ORDER BY n") { "\(try $0.int64("n"))\(try $0.optionalString("t") ?? "-")" }
            }
            #expect(notes == ["1a", "4d", "5-", "6f"])
        }
    }

    /// An import's inserts take no savepoint: a refused row leaves the rows before it, and
    /// the error rolls back the whole transaction, as every import's does.
    @Test
    func anImportInsertIsUndoneByItsTransaction() async throws {
        try await withNotesTable { database, columns in
            let inTransaction = Mutex<[Int64]>([])
            await #expect(throws: SQLiteStatementError.self) {
                try await database.write { db in
                    try await ImportRun.insertRows(db, "notes", columns, [[bound(Int64(1)), bound("a")]])
                    do {
                        try await ImportRun.insertRows(db, "notes", columns, converted: [[.integer(2), .text("b")], [.integer(1), .null]])
                    } catch {
                        let stored = try await db.rows("SELECT n FROM notes ORDER BY n") { try $0.int64("n") }
                        inTransaction.withLock { $0 = stored }
                        throw error
                    }
                }
            }
            #expect(inTransaction.withLock { $0 } == [1, 2])
            let notes = try await database.read { db in try await db.rows("SELECT n FROM notes") { try $0.int64("n") } }
            #expect(notes.isEmpty)
        }
    }

    /// Past the cache's limits the least recently used statements go, not the ones in use
    /// all the time; a statement too long to keep runs and is not kept.
    @Test
    func theStatementCacheKeepsWhatIsUsedAndNotWhatIsHuge() async throws {
        try await withReaderConnection { connection in
            let hot = "SELECT count(*) AS c FROM customers WHERE id > ?1"
            let before = connection.preparations
            try connection.run(hot, [.integer(0)]) { _ in }
            for n in 0..<300 {
                try connection.run("SELECT \(n) AS n", []) { _ in }
                try connection.run(hot, [.integer(n)]) { _ in }
            }
            // The hot statement was prepared once; each of the others once.
            #expect(connection.preparations - before == 301)
            #expect(connection.timesRecompiled(hot) == 0)

            let huge = "SELECT sum(column1) AS total FROM (VALUES " + (0..<50_000).map { "(\($0))" }.joined(separator: ", ") + ")"
            #expect(huge.utf8.count > 300_000)
            var total: Int?
            try connection.run(huge, []) { row in total = try? row.decode(column: "total", as: Int.self) }
            #expect(total == 49_999 * 50_000 / 2)
            #expect(connection.timesRecompiled(huge) == nil)
            #expect(connection.timesRecompiled(hot) == 0)
        }
    }

    /// A reader connection of its own on a fresh, migrated SQLite database.
    private func withReaderConnection(_ body: @Sendable (PreparedConnection) throws -> Void) async throws {
        try await withTestDatabase(.sqlite) { database in
            let connection = try PreparedConnection(path: try #require(database as? SQLiteStoreDatabase).path)
            defer { connection.close() }
            try body(connection)
        }
    }
}
