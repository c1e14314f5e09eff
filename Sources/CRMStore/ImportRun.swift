import CRMCore
import Foundation
import SQLKit
import SQLiteNIO
import Synchronization

/// What an import carries from batch to batch: at least its report.
protocol ImportState: Sendable {
    associatedtype Counts: ImportCounts
    var report: ImportReport<Counts> { get set }
}

/// How every import meets its database: all-or-nothing in one transaction rolled back on
/// any bad row; or a transaction per batch, so the good rows are committed as the file is
/// read and a process killed mid-file leaves whole batches; or, in a dry run, reads only.
enum ImportRun {
    /// - Parameters:
    ///   - next: the next batch of rows, empty at the end of the file.
    ///   - prepare: the part of a batch's work that needs no database (parsing): done for the
    ///     next batch while the last one is being written.
    ///   - progress: rows read so far and the file's estimated rows.
    ///   - rowsPerCommit: in valid-rows mode, the rows committed together (in whole batches);
    ///     0 commits each batch.
    ///   - process: validates against the database and (with `write`) stores one prepared batch.
    /// - Returns: the report, saying whether what it counts was committed and how long it took.
    static func run<State: ImportState, Batch: Sendable, Prepared: Sendable>(
        _ database: any StoreDatabase, _ source: CSVRowSource, mode: CustomerImportOptions.Mode, dryRun: Bool, state initial: State,
        next: @escaping @Sendable () throws -> [Batch], prepare: @escaping @Sendable ([Batch]) -> Prepared,
        progress: (@Sendable (Int, Int) -> Void)?, rowsPerCommit: Int = 0,
        process: @escaping @Sendable (any SQLDatabase, Prepared, inout State, _ write: Bool) async throws -> Void
    ) async throws -> ImportReport<State.Counts> {
        @Sendable func batches() async throws -> ImportReport<State.Counts> {
            try await runBatches(database, source, mode: mode, dryRun: dryRun, state: initial, next: next, prepare: prepare,
                                 progress: progress, rowsPerCommit: rowsPerCommit, process: process)
        }
        // Many transactions in a row: the database's housekeeping waits until the end. A dry
        // run writes nothing, so it leaves the writer's settings alone. Parsing a large file is
        // seconds of computation: on CPU-work threads, not the caller's.
        return try await CPUWork.run { dryRun ? try await batches() : try await database.bulk { try await batches() } }
    }

    private static func runBatches<State: ImportState, Batch: Sendable, Prepared: Sendable>(
        _ database: any StoreDatabase, _ source: CSVRowSource, mode: CustomerImportOptions.Mode, dryRun: Bool, state initial: State,
        next: @escaping @Sendable () throws -> [Batch], prepare: @escaping @Sendable ([Batch]) -> Prepared,
        progress: (@Sendable (Int, Int) -> Void)?, rowsPerCommit: Int,
        process: @escaping @Sendable (any SQLDatabase, Prepared, inout State, _ write: Bool) async throws -> Void
    ) async throws -> ImportReport<State.Counts> {
        let started = ContinuousClock.now
        let estimated = source.estimatedRows
        /// Reads and prepares the next batch in the background; nil at the end of the file.
        @Sendable func ahead() -> Task<Prepared?, any Error> {
            Task(executorPreference: CPUWork.executor) {
                try Task.checkCancellation()
                let batch = try next()
                return batch.isEmpty ? nil : prepare(batch)
            }
        }
        func finished(_ state: State, committed: Bool) -> ImportReport<State.Counts> {
            var report = state.report
            report.committed = committed
            report.seconds = seconds(ContinuousClock.now - started)
            return report
        }
        if mode == .allOrNothing && !dryRun {
            do {
                let state = try await database.write { db in
                    var s = initial
                    var pending = ahead()
                    // A batch that failed leaves no read-ahead running.
                    defer { pending.cancel() }
                    while let prepared = try await pending.value {
                        pending = ahead()
                        try await process(db, prepared, &s, s.report.problemCount == 0)
                        progress?(s.report.rows, estimated)
                    }
                    if s.report.problemCount > 0 { throw RolledBack(state: s) }
                    return s
                }
                return finished(state, committed: true)
            } catch let rolledBack as RolledBack<State> {
                return finished(rolledBack.state, committed: false)
            }
        }
        var state = initial
        // The batch being read and prepared, handed from transaction to transaction.
        let readAhead = Mutex(ahead())
        defer { readAhead.withLock { $0 }.cancel() }
        /// The next prepared batch, starting to prepare the one after it.
        @Sendable func nextBatch() async throws -> Prepared? {
            guard let prepared = try await readAhead.withLock({ $0 }).value else { return nil }
            readAhead.withLock { $0 = ahead() }
            return prepared
        }
        if dryRun {
            while let prepared = try await nextBatch() {
                let before = state
                state = try await database.read { db in
                    var s = before
                    try await process(db, prepared, &s, false)
                    return s
                }
                progress?(state.report.rows, estimated)
            }
            return finished(state, committed: false)
        }
        // `rowsPerCommit` rows are committed together, though prepared in smaller batches
        // (what is held in memory): each commit writes every page the transaction changed, and
        // an index page is changed by nearly every batch (a fifth of a million customers'
        // import was its 200 commits). A process killed mid-file leaves whole commits.
        // Each transaction begins with a batch already prepared, so no write waits for the
        // file to be read unless a commit spans several batches (and then the writer, the
        // slower side, has rarely to wait); progress counts what is committed.
        while let first = try await nextBatch() {
            let before = state
            let ended: Bool
            (state, ended) = try await database.write { db in
                var s = before
                try await process(db, first, &s, true)
                while s.report.rows - before.report.rows < max(1, rowsPerCommit) {
                    guard let prepared = try await nextBatch() else { return (s, true) }
                    try await process(db, prepared, &s, true)
                }
                return (s, false)
            }
            progress?(state.report.rows, estimated)
            if ended { break }
        }
        return finished(state, committed: true)
    }

    /// Without a separate preparation step.
    static func run<State: ImportState, Batch: Sendable>(
        _ database: any StoreDatabase, _ source: CSVRowSource, mode: CustomerImportOptions.Mode, dryRun: Bool, state initial: State,
        next: @escaping @Sendable () throws -> [Batch], progress: (@Sendable (Int, Int) -> Void)?,
        process: @escaping @Sendable (any SQLDatabase, [Batch], inout State, _ write: Bool) async throws -> Void
    ) async throws -> ImportReport<State.Counts> {
        try await run(database, source, mode: mode, dryRun: dryRun, state: initial, next: next, prepare: { $0 }, progress: progress,
                      process: process)
    }

    /// The most rows prepared at a time (`batchRows`).
    static let preparedRowsLimit = 5_000

    /// Rows read at a time so that `rowsPerCommit` are whole batches of at most
    /// `preparedRowsLimit`: 20,000 is four batches of 5,000.
    static func batchRows(committing rowsPerCommit: Int) -> Int {
        let batches = (max(1, rowsPerCommit) + preparedRowsLimit - 1) / preparedRowsLimit
        return (max(1, rowsPerCommit) + batches - 1) / batches
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// Multi-row inserts under both backends' bind limits (SQLite 32766, PostgreSQL 65535).
    static func insertRows(_ db: any SQLDatabase, _ table: String, _ columns: [String], _ rows: [[any Encodable & Sendable]],
                           replacing: Bool = false, rowByRow: Bool = true) async throws {
        try await insertSlices(db, table, columns, count: rows.count, replacing: replacing, rowByRow: rowByRow) { .values(rows[$0]) }
    }

    /// A row for a bulk insert, built from typed cells straight into what the dialect takes:
    /// for SQLite the values it binds, with no `any Encodable` cast (that took a second of the
    /// writer's time per million customers' roles, tags and audit rows); for PostgreSQL a line
    /// for COPY (see `PostgresStatements.copy`).
    enum InsertRow: Sendable {
        case sqlite([SQLiteData])
        case copy(CopyLine)

        enum Cell: Sendable {
            case integer(Int64?)
            case text(String?)
            /// An integer 0 or 1 in SQLite, a boolean in PostgreSQL.
            case bool(Bool)
        }

        init(_ cells: [Cell], _ dialect: Dialect) {
            if dialect == .sqlite {
                self = .sqlite(cells.map { cell in
                    switch cell {
                    case .integer(let n): n.map { .integer(Int($0)) } ?? .null
                    case .text(let t): t.map { .text($0) } ?? .null
                    case .bool(let b): .integer(b ? 1 : 0)
                    }
                })
            } else {
                var line = CopyLine()
                for cell in cells {
                    switch cell {
                    case .integer(let n): line.integer(n)
                    case .text(let t): line.text(t)
                    case .bool(let b): line.bool(b)
                    }
                }
                self = .copy(line)
            }
        }
    }

    static func auditRow(_ actor: Actor, _ action: AuditEntry.Action, _ entity: String, _ id: String, changes: String, _ stamp: String,
                         _ dialect: Dialect) -> InsertRow {
        InsertRow([.text(stamp), .integer(actor.userID.rawValue), .text(actor.name), .text(action.rawValue), .text(entity), .text(id),
                   .text(changes)], dialect)
    }

    static func auditRow(_ actor: Actor, _ action: AuditEntry.Action, _ entity: String, _ id: String, _ changes: [FieldChange],
                         _ stamp: String, _ dialect: Dialect) -> InsertRow {
        auditRow(actor, action, entity, id, changes: (try? JSONColumn.text(changes)) ?? "[]", stamp, dialect)
    }

    static func insertRows(_ db: any SQLDatabase, _ table: String, _ columns: [String], _ rows: [InsertRow], replacing: Bool = false,
                           rowByRow: Bool = true) async throws {
        let (converted, lines) = split(rows)
        if !converted.isEmpty { try await insertRows(db, table, columns, converted: converted, replacing: replacing, rowByRow: rowByRow) }
        if !lines.isEmpty {
            precondition(!replacing, "COPY only adds rows")
            try await copy(db, table, columns, lines)
        }
    }

    /// Rows whose first column, the id, the writer numbers: `ids[n]` heads `rows[n]`, the rest
    /// of which was made beforehand (SQLite's rows are bound as they are, not copied again).
    static func insertRows(_ db: any SQLDatabase, _ table: String, _ columns: [String], ids: [Int64], _ rows: [InsertRow]) async throws {
        precondition(ids.count == rows.count, "one id per row of \(table)")
        let (converted, lines) = split(rows)
        if !lines.isEmpty { try await copy(db, table, columns, lines, ids: ids) }
        if !converted.isEmpty {
            try await insertSlices(db, table, columns, count: converted.count) { .numbered(ids: ids[$0], rows: converted[$0]) }
        }
    }

    /// The rows by what their dialect takes; only one kind is there, as a store has one dialect.
    private static func split(_ rows: [InsertRow]) -> (sqlite: [[SQLiteData]], copy: [CopyLine]) {
        var converted: [[SQLiteData]] = []
        var lines: [CopyLine] = []
        for row in rows {
            switch row {
            case .sqlite(let v): converted.append(v)
            case .copy(let line): lines.append(line)
            }
        }
        return (converted, lines)
    }

    /// COPY lines into `table`, each headed by its id when `ids` are given. Lines are made
    /// only for PostgreSQL, whose store hands every statement a `PostgresStatements`.
    private static func copy(_ db: any SQLDatabase, _ table: String, _ columns: [String], _ lines: [CopyLine], ids: [Int64]? = nil) async throws {
        guard let statements = db as? PostgresStatements else {
            throw StoreError.configuration("rows made for PostgreSQL's COPY reached a \(db.dialect.name) database")
        }
        try await statements.copy(into: table, columns, count: lines.count) { n, buffer in
            if let ids {
                buffer.writeString(String(ids[n]))
                buffer.writeInteger(UInt8(ascii: "\t"))
            }
            buffer.writeBytes(lines[n].bytes)
            buffer.writeInteger(UInt8(ascii: "\n"))
        }
    }

    /// Rows already as SQLite binds them (`MultiRowInsert.Rows.sqlite`).
    static func insertRows(_ db: any SQLDatabase, _ table: String, _ columns: [String], converted rows: [[SQLiteData]],
                           replacing: Bool = false, rowByRow: Bool = true) async throws {
        try await insertSlices(db, table, columns, count: rows.count, replacing: replacing, rowByRow: rowByRow) { .sqlite(rows[$0]) }
    }

    private static func insertSlices(_ db: any SQLDatabase, _ table: String, _ columns: [String], count: Int, replacing: Bool = false,
                                     rowByRow: Bool = true, _ slice: (Range<Int>) -> MultiRowInsert.Rows) async throws {
        // SQLite's writer steps a kept single-row statement for each row (`RowByRow`): no bind
        // limit applies, and all the rows go to its thread at once.
        let whole = rowByRow && (db as? SQLiteStatements)?.stepsInsertsRowByRow == true
        let perStatement = whole ? max(1, count) : max(1, 30_000 / columns.count)
        for start in stride(from: 0, to: count, by: perStatement) {
            try await db.execute(sql: MultiRowInsert(table: table, columns: columns, rows: slice(start..<min(start + perStatement, count)),
                                                     replacing: replacing, rowByRow: rowByRow, atomic: false)) { _ in }
        }
    }

    static let auditColumns = ["at", "actor_id", "actor_name", "action", "entity", "entity_id", "changes"]

    /// `column IN (…)` over many values, a slice at a time (bind limits), rows decoded by
    /// `decode`; `condition` narrows it further (`archived_at IS NULL`).
    static func lookup<T: Sendable>(_ db: any SQLDatabase, _ select: String, _ column: String, _ values: some Collection<String>,
                                    where condition: String? = nil, _ decode: @escaping @Sendable (Row) throws -> T) async throws -> [T] {
        var out: [T] = []
        let unique = Array(Set(values))
        let prefix = "\(select) WHERE " + (condition.map { "\($0) AND " } ?? "")
        let postgres = db.dialect.name != "sqlite"
        // A prepared batch's keys in one statement (its rows are 5,000 at most): each statement is a
        // hand-off to the database's thread and back.
        for start in stride(from: 0, to: unique.count, by: 5_000) {
            var keys = Array(unique[start..<min(start + 5_000, unique.count)])
            // PostgreSQL takes the keys as one array (5,000 parameters, each encoded and planned,
            // took ten times as long as the index probes), and probes the index once per key,
            // in key order, so that neighbouring probes share pages. Given `column = ANY(keys)`,
            // the planner chose by the table's statistics, which lag behind a table an import
            // is filling: it scanned a million customers, or three million orders, for 5,000
            // keys (a third of an import's server time). OFFSET 0 keeps the subquery a probe,
            // not a join the planner could turn into a scan again.
            if postgres { keys.sort() }
            let sql: SQLQueryString = postgres
                ? "SELECT x.* FROM unnest(\(bind: keys)::text[]) AS k(key) CROSS JOIN LATERAL (\(unsafeRaw: prefix)\(unsafeRaw: column) = k.key OFFSET 0) x"
                : "\(unsafeRaw: prefix)\(unsafeRaw: column) IN (\(binds: keys))"
            out += try await db.rows(sql, decode)
        }
        return out
    }
}

/// Thrown out of an all-or-nothing import's transaction to roll it back, with what was found.
struct RolledBack<State: Sendable>: Error { var state: State }

/// A value for a bulk insert's row (nil becomes NULL).
func bound<T: Encodable & Sendable>(_ value: T) -> any Encodable & Sendable { value }

/// Keys an import remembers from batch to batch (a key seen twice in one file is an error).
/// A reference, not a value: the import's state is copied into each batch's transaction,
/// and a dictionary of a million keys copied per batch would cost more than the batch.
///
/// The keys are spread over 64 dictionaries: one dictionary of millions of keys doubles its
/// table all at once, holding old and new together (300 MB at 3.1 million order numbers,
/// the import's peak); 64 small ones grow a little at a time.
final class KeyMemory<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private final class Shard: Sendable {
        let keys = Mutex<[Key: Value]>([:])
    }
    private let shards = (0..<64).map { _ in Shard() }

    init() {}

    /// By the hash's top bits (a dictionary places keys by its own seeded hash).
    private func shard(_ key: Key) -> Shard { shards[Int(UInt(bitPattern: key.hashValue) >> (UInt.bitWidth - 6))] }

    subscript(key: Key) -> Value? {
        get { shard(key).keys.withLock { $0[key] } }
        set { shard(key).keys.withLock { $0[key] = newValue } }
    }

    /// Remembers `value` for `key` unless it is known; returns the value known before.
    func remember(_ key: Key, _ value: Value) -> Value? {
        shard(key).keys.withLock { keys in
            if let known = keys[key] { return known }
            keys[key] = value
            return nil
        }
    }
}

/// A key from an import file (an e-mail, an external id) kept as a 128-bit digest rather
/// than the string: a million customers' keys held as strings took 300 MB, and memory must
/// stay flat-ish whatever the file's size. Two different keys share a digest with
/// probability about n²/2¹²⁹, 10⁻²⁶ for three million keys.
struct FileKey: Hashable, Sendable {
    let high: Int
    let low: Int

    init(_ key: String) {
        // Two SipHash digests of the key under different prefixes (the process's random seed
        // is the same for both, so they are stable for the import's lifetime).
        var a = Hasher()
        a.combine(0 as UInt8)
        a.combine(key)
        var b = Hasher()
        b.combine(1 as UInt8)
        b.combine(key)
        high = a.finalize()
        low = b.finalize()
    }
}

extension KeyMemory where Key == FileKey {
    subscript(key: String) -> Value? {
        get { self[FileKey(key)] }
        set { self[FileKey(key)] = newValue }
    }

    func remember(_ key: String, _ value: Value) -> Value? { remember(FileKey(key), value) }
}
