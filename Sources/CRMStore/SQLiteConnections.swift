import Logging
import NIOCore
import NIOPosix
import SQLiteKit
import SQLKit
import Synchronization
// The SQLite that SQLiteNIO builds in. Calling it, not a second copy of the library, keeps
// one set of file locks per process: two copies of SQLite on one file can each release
// the other's POSIX locks and corrupt it.
import VaporCSQLite
import CSQLiteSettings

// The store's SQLite connections, readers and the writer, speak to SQLite directly rather
// than through SQLiteNIO, which hands every query to a thread of its pool, every row back
// to an event loop and the result back to the task, and prepares each statement anew.
// Here a statement is prepared once per connection and stepped on a thread of NIO's pool,
// or where it is called for lookups by key. SQLKit stays the one way queries are written
// and rows read, on both backends.

/// SQLite's reader connections, opened as needed.
///
/// A statement runs either where it is called (`onCallingThread`, for lookups by key,
/// where three thread switches would cost more than reading one customer from the page
/// cache) or on a thread of NIO's pool (`onThreadPool`, for everything else, so a long read
/// does not hold one of the few threads tasks run on).
final class SQLiteReaders: Sendable {
    private let path: String
    private let logger: Logger
    /// Idle connections. Each caller takes one for one statement and gives it back, never
    /// across a suspension point, so no more are open than threads calling at once; past
    /// `idleLimit` idle ones are closed.
    private let pool = Mutex(Pool())
    private let idleLimit: Int

    private struct Pool {
        var idle: [PreparedConnection] = []
        var closed = false
    }

    init(path: String, idleLimit: Int, logger: Logger) {
        self.path = path
        self.idleLimit = max(1, idleLimit)
        self.logger = logger
    }

    /// An `SQLDatabase` whose statements run on the calling thread: only for reads of a few
    /// rows through an index, as the thread is held while SQLite works.
    var onCallingThread: some SQLDatabase { SQLiteStatements(placement: .callingThread(self), logger: logger) }

    func withConnection<T>(_ body: (PreparedConnection) throws -> T) throws -> T {
        let taken = try pool.withLock { pool -> PreparedConnection? in
            guard !pool.closed else { throw SQLiteStatementError(sql: "", message: "the database has been closed") }
            return pool.idle.popLast()
        }
        let connection = try taken ?? PreparedConnection(path: path)
        defer {
            let surplus = pool.withLock { pool -> PreparedConnection? in
                guard !pool.closed, pool.idle.count < idleLimit else { return connection }
                pool.idle.append(connection)
                return nil
            }
            surplus?.close()
        }
        return try body(connection)
    }

    /// Closes the idle connections; one in use is closed when it is given back.
    func close() {
        let idle = pool.withLock { pool in
            pool.closed = true
            defer { pool.idle.removeAll() }
            return pool.idle
        }
        for c in idle { c.close() }
    }

    /// An `SQLDatabase` whose statements run through these connections on `threadPool`'s
    /// threads: the task waits without holding its thread. One hand-off each way per
    /// statement, where SQLiteNIO makes one more per row and prepares every statement anew.
    func onThreadPool(_ threadPool: NIOThreadPool) -> some SQLDatabase {
        SQLiteStatements(placement: .threadPool(self, threadPool), logger: logger)
    }
}

/// SQLKit's view of our SQLite connections: each query is serialised in SQLite's dialect
/// and run where `placement` says.
struct SQLiteStatements: SQLDatabase {
    enum Placement: Sendable {
        /// A reader, on the calling thread (lookups by key).
        case callingThread(SQLiteReaders)
        /// A reader, on a thread of the pool.
        case threadPool(SQLiteReaders, NIOThreadPool)
        /// The one writer, on a thread of the pool; the caller serialises its use
        /// (`SQLiteStoreDatabase`'s writer gate), one statement at a time.
        case writer(PreparedConnection, NIOThreadPool)
    }

    let placement: Placement
    let logger: Logger

    /// Whether a row-by-row `MultiRowInsert` is stepped a row at a time (the writer), with
    /// no bind limit, rather than sent as one statement.
    var stepsInsertsRowByRow: Bool {
        if case .writer = placement { true } else { false }
    }
    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var dialect: any SQLDialect { SQLiteDialect() }
    var queryLogLevel: Logger.Level? { nil }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        if let insert = query as? MultiRowInsert, insert.rowByRow, case .writer(let connection, let threadPool) = placement {
            let rows: RowByRow
            do { rows = try RowByRow(insert) } catch { return eventLoop.makeFailedFuture(error) }
            return threadPool.runIfActive(eventLoop: eventLoop) { try connection.run(rows) }
        }
        let sql: String, binds: [SQLiteData]
        do { (sql, binds) = try statement(query) } catch { return eventLoop.makeFailedFuture(error) }
        switch placement {
        case .callingThread(let readers):
            do {
                try readers.withConnection { try $0.run(sql, binds, onRow) }
                return eventLoop.makeSucceededFuture(())
            } catch {
                return eventLoop.makeFailedFuture(error)
            }
        case .threadPool(let readers, let threadPool):
            return threadPool.runIfActive(eventLoop: eventLoop) { try readers.withConnection { try $0.run(sql, binds, onRow) } }
        case .writer(let connection, let threadPool):
            return threadPool.runIfActive(eventLoop: eventLoop) { try connection.run(sql, binds, onRow) }
        }
    }

    /// A multi-row insert as SQLite runs it fastest: one single-row statement, prepared once
    /// and kept, stepped once per row. Parsing and compiling a statement of thousands of
    /// rows (and writing its SQL) was a fifth of the writer's time in a large import.
    struct RowByRow: Sendable {
        let sql: String
        let width: Int
        /// The rows, as SQLite binds them (never `.values`).
        let rows: MultiRowInsert.Rows
        /// In a savepoint (`MultiRowInsert.atomic`).
        let atomic: Bool

        init(_ insert: MultiRowInsert) throws {
            insert.checkWidths()
            atomic = insert.atomic
            sql = insert.head + "(" + String(repeating: "?,", count: max(0, insert.columns.count - 1)) + "?)"
            width = insert.columns.count
            switch insert.rows {
            case .values(let rows): self.rows = .sqlite(try rows.map { try $0.map(SQLiteStatements.data) }[...])
            case .sqlite, .numbered: self.rows = insert.rows
            }
        }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        switch placement {
        case .callingThread(let readers):
            let (sql, binds) = try statement(query)
            try readers.withConnection { try $0.run(sql, binds, onRow) }
        case .threadPool(let readers, let threadPool):
            // A read whose task is cancelled before a thread takes it up is not run.
            let (sql, binds) = try statement(query)
            try await threadPool.runIfActive { try readers.withConnection { try $0.run(sql, binds, onRow) } }
        case .writer(let connection, let threadPool):
            // Runs even when the task is cancelled: a write's statements, its COMMIT and above
            // all its ROLLBACK must not be skipped half-way (NIO's async `runIfActive` skips
            // work for a cancelled task), or the connection would stay inside the transaction.
            if let insert = query as? MultiRowInsert, insert.rowByRow {
                let rows = try RowByRow(insert)
                try await Self.run(on: threadPool) { try connection.run(rows) }
            } else {
                let (sql, binds) = try statement(query)
                try await Self.run(on: threadPool) { try connection.run(sql, binds, onRow) }
            }
        }
    }

    /// `body` on a thread of `threadPool`, resuming the task from there, whether or not the
    /// task is cancelled. Through a future, the task was resumed by way of an event loop: a
    /// third thread to wake for every statement (a tenth of a large import's writer time).
    private static func run<T: Sendable>(on threadPool: NIOThreadPool, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            threadPool.submit { state in
                switch state {
                case .active: continuation.resume(with: Result(catching: body))
                // Only once the pool is shut down, when the store is closed.
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        }
    }

    /// The SQL and bound values of `query`.
    private func statement(_ query: any SQLExpression) throws -> (String, [SQLiteData]) {
        var serializer = SQLSerializer(database: self)
        query.serialize(to: &serializer)
        return (serializer.sql, try serializer.binds.map(Self.data))
    }

    private static let encoder = SQLiteDataEncoder()

    /// A bound value as SQLite stores it. Text, integers and NULL (nearly every value an
    /// import binds) by their concrete types; SQLiteDataEncoder's protocol cast cost more
    /// than the insert's own work in SQLite for a 10,000,000-line order import.
    static func data(_ value: any Encodable) throws -> SQLiteData {
        switch value {
        case let text as String: return .text(text)
        case let data as SQLiteData: return data
        case let n as Int64: return .integer(Int(n))
        case let n as Int: return .integer(n)
        case let b as Bool: return .integer(b ? 1 : 0)
        // Any optional that is nil (a nil of one optional type casts to every other).
        case let text as String?: return text.map(SQLiteData.text) ?? .null
        case let n as Int64?: return n.map { .integer(Int($0)) } ?? .null
        default: return try encoder.encode(value)
        }
    }
}

/// One sqlite3 connection with its prepared statements.
// @unchecked Sendable: the handle is only used by one thread at a time. `SQLiteReaders`
// hands a connection to one caller, who returns it before anyone else can take it (the
// pool's lock orders the hand-overs); the writer's statements run one at a time under the
// store's writer gate, each awaited before the next is sent to the thread pool.
final class PreparedConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [String: CachedStatement] = [:]
    /// Statements run so far, the clock of `CachedStatement.lastUse`.
    private var uses = 0
    /// Statements prepared so far (each cache miss).
    private(set) var preparations = 0

    private struct CachedStatement {
        var statement: OpaquePointer
        var lastUse: Int
        /// The result's column names, made at its first row (forty-odd strings and a
        /// dictionary for a customer: a tenth of a lookup by key), with the statement's
        /// count of recompilations then: a recompiled `SELECT c.*` may have other columns.
        var columns: (PreparedRow.Columns, recompiled: Int32)?
    }
    /// Statements kept per connection, and the length of their SQL, a measure of the memory
    /// they hold. A statement longer than `keptSQLLimit` is not kept at all: a bulk insert of
    /// thousands of rows holds megabytes as a prepared program, and keeping them measured
    /// no faster (3,000,000 order lines imported in 87 s either way, peak 260 MB instead of 307 MB).
    private static let statementLimit = 128
    private static let sqlBytesLimit = 1 << 20
    private static let keptSQLLimit = 16 << 10
    private var sqlBytes = 0

    /// A reader: never writes, waits out a checkpoint's brief lock, and keeps a small page
    /// cache of its own (the OS caches the file for all connections).
    static let readerSettings = ["PRAGMA query_only=ON", "PRAGMA busy_timeout=5000", "PRAGMA cache_size=-8192",
                                 "PRAGMA foreign_keys=ON", "PRAGMA temp_store=MEMORY"]

    /// Opens `path` (creating the file if `create`) and applies `settings`, PRAGMA statements.
    /// A reader belongs to one caller at a time and needs no mutex of its own; the writer,
    /// whose `SQLDatabase` a write body could misuse from two tasks at once, takes one
    /// (`serialised`), which costs nothing while uncontended.
    init(path: String, create: Bool = false, serialised: Bool = false, settings: [String] = readerSettings) throws {
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_URI | (create ? SQLITE_OPEN_CREATE : 0)
            | (serialised ? SQLITE_OPEN_FULLMUTEX : SQLITE_OPEN_NOMUTEX)
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "status \(status)"
            sqlite_nio_sqlite3_close(handle)
            throw SQLiteStatementError(sql: "open \(path)", message: message)
        }
        do {
            // Plans that do not depend on bound values: otherwise SQLite compiles a statement
            // again whenever, for instance, a customer id it joined on changes.
            let qpsg = crm_sqlite3_enable_qpsg(handle)
            guard qpsg == SQLITE_OK else { throw SQLiteStatementError(sql: "SQLITE_DBCONFIG_ENABLE_QPSG", message: errorMessage(qpsg)) }
            for pragma in settings { try run(pragma, []) { _ in } }
        } catch {
            close()
            throw error
        }
    }

    /// Whether a transaction is open (SQLite is not in autocommit mode).
    var inTransaction: Bool { handle.map { sqlite_nio_sqlite3_get_autocommit($0) == 0 } ?? false }

    deinit { close() }

    func close() {
        for entry in statements.values { sqlite_nio_sqlite3_finalize(entry.statement) }
        statements.removeAll()
        sqlBytes = 0
        sqlite_nio_sqlite3_close_v2(handle)
        handle = nil
    }

    func run(_ sql: String, _ binds: [SQLiteData], _ onRow: (any SQLRow) -> ()) throws {
        let (statement, cached, known) = try prepared(sql)
        defer { release(statement, cached: cached) }
        for (i, bind) in binds.enumerated() {
            try check(bindValue(bind, at: Int32(i + 1), in: statement), sql)
        }
        var columns: PreparedRow.Columns?
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return }
            guard status == SQLITE_ROW else { try check(status, sql); return }
            let names = columns ?? self.columns(of: statement, sql: sql, cached: cached, known: known)
            columns = names
            var values: [SQLiteData] = []
            values.reserveCapacity(names.names.count)
            for i in 0..<Int32(names.names.count) { values.append(Self.value(statement, i)) }
            onRow(PreparedRow(columns: names, values: values))
        }
    }

    /// The rows of a multi-row insert. All or none if `atomic`, as the one statement they
    /// stand for: in a savepoint, released when every row is in, rolled back to if one is refused.
    func run(_ rows: SQLiteStatements.RowByRow) throws {
        if rows.atomic { try run("SAVEPOINT row_by_row", []) { _ in } }
        do {
            let (statement, cached, _) = try prepared(rows.sql)
            defer { release(statement, cached: cached) }
            /// Steps the statement with its values bound from the `first`th column on.
            func step(_ values: [SQLiteData], from first: Int32 = 1) throws {
                for (i, value) in values.enumerated() { try check(bindValue(value, at: first + Int32(i), in: statement), rows.sql) }
                let status = sqlite_nio_sqlite3_step(statement)
                guard status == SQLITE_DONE else {
                    try check(status, rows.sql)
                    throw SQLiteStatementError(sql: rows.sql, message: "an insert returned a row")
                }
                sqlite_nio_sqlite3_reset(statement)
            }
            switch rows.rows {
            case .values: preconditionFailure("RowByRow converts values for SQLite")
            case .sqlite(let values):
                for row in values { try step(row) }
            case .numbered(let ids, let values):
                for (id, row) in zip(ids, values) {
                    try check(sqlite_nio_sqlite3_bind_int64(statement, 1, id), rows.sql)
                    try step(row, from: 2)
                }
            }
        } catch {
            if rows.atomic {
                try? run("ROLLBACK TO row_by_row", []) { _ in }
                try? run("RELEASE row_by_row", []) { _ in }
            }
            throw error
        }
        if rows.atomic { try run("RELEASE row_by_row", []) { _ in } }
    }

    /// After a statement's use: a kept one is reset for the next, any other finalised.
    private func release(_ statement: OpaquePointer, cached: Bool) {
        if cached {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        } else {
            sqlite_nio_sqlite3_finalize(statement)
        }
    }

    /// The column names of `statement`'s result, kept with it when it is kept, and made
    /// again after SQLite recompiled it.
    private func columns(of statement: OpaquePointer, sql: String, cached: Bool, known: (PreparedRow.Columns, recompiled: Int32)?) -> PreparedRow.Columns {
        guard cached else { return PreparedRow.Columns(statement) }
        let recompiled = sqlite_nio_sqlite3_stmt_status(statement, SQLITE_STMTSTATUS_REPREPARE, 0)
        if let (columns, then) = known, then == recompiled { return columns }
        let columns = PreparedRow.Columns(statement)
        statements[sql]?.columns = (columns, recompiled)
        return columns
    }

    /// How often SQLite compiled `sql` again since this connection prepared it (nil if it has
    /// not): after a schema change, or, were plans not kept, after a new bound value.
    func timesRecompiled(_ sql: String) -> Int32? {
        statements[sql].map { sqlite_nio_sqlite3_stmt_status($0.statement, SQLITE_STMTSTATUS_REPREPARE, 0) }
    }

    /// The statement for `sql`, from the cache or newly prepared, and whether it is cached
    /// (one too long to keep is finalised by the caller after its one use).
    private func prepared(_ sql: String) throws -> (OpaquePointer, cached: Bool, columns: (PreparedRow.Columns, recompiled: Int32)?) {
        uses &+= 1
        if let entry = statements[sql] {
            statements[sql]?.lastUse = uses
            return (entry.statement, true, entry.columns)
        }
        guard let handle else { throw SQLiteStatementError(sql: sql, message: "the connection has been closed") }
        let length = sql.utf8.count
        let keep = length <= Self.keptSQLLimit
        if keep { makeRoom(for: length) }
        var statement: OpaquePointer?
        let flags = keep ? UInt32(SQLITE_PREPARE_PERSISTENT) : 0
        preparations += 1
        let status = sqlite_nio_sqlite3_prepare_v3(handle, sql, -1, flags, &statement, nil)
        guard status == SQLITE_OK, let statement else { throw SQLiteStatementError(sql: sql, message: errorMessage(status)) }
        if keep {
            statements[sql] = CachedStatement(statement: statement, lastUse: uses)
            sqlBytes += length
        }
        return (statement, keep, nil)
    }

    /// Finalises the least recently used half of the statements when one more would pass a
    /// limit: SQL with its values inline, or id lists of every length, would otherwise
    /// evict the few statements used all the time.
    private func makeRoom(for length: Int) {
        guard statements.count >= Self.statementLimit || sqlBytes + length > Self.sqlBytesLimit else { return }
        let byAge = statements.sorted { $0.value.lastUse < $1.value.lastUse }
        for (sql, entry) in byAge.prefix(max(1, byAge.count / 2)) {
            sqlite_nio_sqlite3_finalize(entry.statement)
            statements[sql] = nil
            sqlBytes -= sql.utf8.count
        }
    }

    private func bindValue(_ value: SQLiteData, at i: Int32, in statement: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let n): return sqlite_nio_sqlite3_bind_int64(statement, i, Int64(n))
        case .float(let x): return sqlite_nio_sqlite3_bind_double(statement, i, x)
        case .null: return sqlite_nio_sqlite3_bind_null(statement, i)
        case .text(let s):
            // The string's own bytes: passed as a `char *`, Swift made a C string of every value
            // first (a second of a million customers' import).
            var s = s
            return s.withUTF8 { bytes in
                guard let base = bytes.baseAddress else {
                    return sqlite_nio_sqlite3_bind_text64(statement, i, "", 0, SQLITE_TRANSIENT_COPY, UInt8(SQLITE_UTF8))
                }
                return sqlite_nio_sqlite3_bind_text64(statement, i, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self),
                                                      UInt64(bytes.count), SQLITE_TRANSIENT_COPY, UInt8(SQLITE_UTF8))
            }
        case .blob(let buffer):
            return buffer.withUnsafeReadableBytes {
                sqlite_nio_sqlite3_bind_blob64(statement, i, $0.baseAddress, UInt64($0.count), SQLITE_TRANSIENT_COPY)
            }
        }
    }

    private static func value(_ statement: OpaquePointer, _ i: Int32) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, i) {
        case SQLITE_INTEGER: return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, i)))
        case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(statement, i))
        case SQLITE_TEXT:
            guard let text = sqlite_nio_sqlite3_column_text(statement, i) else { return .null }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, i))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, i))
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            if let bytes = sqlite_nio_sqlite3_column_blob(statement, i) {
                buffer.writeBytes(UnsafeRawBufferPointer(start: bytes, count: count))
            }
            return .blob(buffer)
        default: return .null
        }
    }

    private func check(_ status: Int32, _ sql: String) throws {
        guard status == SQLITE_OK || status == SQLITE_ROW || status == SQLITE_DONE else {
            throw SQLiteStatementError(sql: sql, message: errorMessage(status))
        }
    }

    private func errorMessage(_ status: Int32) -> String {
        handle.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "SQLite status \(status)"
    }
}

/// A statement SQLite refused, with its SQL.
struct SQLiteStatementError: Error, CustomStringConvertible {
    let sql: String
    let message: String
    var description: String { "SQLite: \(message) (in \(sql))" }
}

/// A row read through SQLKit's `SQLRow` like any other.
struct PreparedRow: SQLRow {
    /// Column names and positions, shared by every row of a statement.
    final class Columns: Sendable {
        let names: [String]
        let positions: [String: Int]

        init(_ statement: OpaquePointer) {
            let count = Int(sqlite_nio_sqlite3_column_count(statement))
            names = (0..<count).map { String(cString: sqlite_nio_sqlite3_column_name(statement, Int32($0))) }
            // The first of two equal names wins, as with SQLiteNIO's rows.
            positions = Dictionary(names.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    let columns: Columns
    let values: [SQLiteData]
    /// Made once: each decoder makes a JSONDecoder.
    private static let decoder = SQLiteDataDecoder()

    var allColumns: [String] { columns.names }
    func contains(column: String) -> Bool { columns.positions[column] != nil }

    func decodeNil(column: String) throws -> Bool {
        guard let i = columns.positions[column] else { return true }
        return values[i] == .null
    }

    func decode<D: Decodable>(column: String, as: D.Type) throws -> D {
        guard let i = columns.positions[column] else {
            throw DecodingError.keyNotFound(SQLCodingKey(column), .init(codingPath: [], debugDescription: "no column \(column)"))
        }
        let value = values[i]
        // The common cases without SQLiteDataDecoder's dynamic casts (a customer has some
        // forty columns); each gives what the decoder would, and the rest go to it.
        switch value {
        case .text(let text) where D.self == String.self: return unsafeBitCast(text, to: D.self)
        case .integer(let n) where D.self == Int64.self: return unsafeBitCast(Int64(n), to: D.self)
        case .integer(let n) where D.self == Int.self: return unsafeBitCast(n, to: D.self)
        case .integer(0) where D.self == Bool.self: return unsafeBitCast(false, to: D.self)
        case .integer(1) where D.self == Bool.self: return unsafeBitCast(true, to: D.self)
        default: return try Self.decoder.decode(D.self, from: value)
        }
    }
}

private struct SQLCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// SQLite copies the bound value before the call returns (the Swift string's storage is
/// only borrowed for the call).
private let SQLITE_TRANSIENT_COPY = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
