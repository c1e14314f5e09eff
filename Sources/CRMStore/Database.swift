import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import PostgresNIO
import SQLiteKit
import SQLKit
import Synchronization

/// The SQL dialects the store speaks. Almost all SQL is shared; the few differences
/// (identity columns, row locks, bulk settings) are asked of this value in one place each.
public enum Dialect: String, Sendable {
    case sqlite, postgres
}

/// Where the data lives: the single SQLite file that needs no set-up, or PostgreSQL.
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(url: String)

    /// `postgres://…` (or `postgresql://…`) is PostgreSQL; anything else is a SQLite file path.
    public init(_ text: String) {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") { self = .postgres(url: text) }
        else { self = .sqlite(path: text) }
    }

    /// The URL with its password hidden, safe for logs.
    public var description: String {
        switch self {
        case .sqlite(let path): return path
        case .postgres(let url):
            guard var c = URLComponents(string: url) else { return "postgres://…" }
            if c.password != nil { c.password = "***" }
            return c.string ?? "postgres://…"
        }
    }
}

/// A database the repositories run on. Reads may run concurrently; each write runs in one
/// transaction (`BEGIN IMMEDIATE` on SQLite, where writes are serialised on one connection).
public protocol StoreDatabase: Sendable {
    var dialect: Dialect { get }
    func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body`, a read of a few rows through an index (a customer by id, its 360 view):
    /// on SQLite on the calling thread, sparing the thread hand-offs of `read`, which cost
    /// more than such a read. Anything that may scan goes through `read`.
    func lookup<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T
    /// Runs `body`, a bulk write of many transactions (an analytics refresh, an import),
    /// with the database's housekeeping deferred until it ends where that is cheaper: on
    /// SQLite the WAL is checkpointed only every 400 MB during it, and once after.
    func bulk<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T
    /// Runs until cancelled (PostgreSQL's pool needs a running task); returns at once for SQLite.
    func run() async
    func close() async
}

/// Opens the database at `location`. For PostgreSQL the returned value's `run()` must be running.
public func openDatabase(_ location: DatabaseLocation, readers: Int = 4, logger: Logger) async throws -> any StoreDatabase {
    switch location {
    case .sqlite(let path): return try await SQLiteStoreDatabase(path: path, readers: readers, logger: logger)
    case .postgres(let url): return try PostgresStoreDatabase(url: url, logger: logger)
    }
}

/// SQLite in WAL mode: one writer connection (writes are serialised, so `BEGIN IMMEDIATE`
/// never waits on another writer of ours) and reader connections, each statement of which
/// reads a consistent snapshot while the writer works (see SQLiteConnections.swift).
public final class SQLiteStoreDatabase: StoreDatabase {
    public let dialect = Dialect.sqlite
    public let path: String
    private let writer: PreparedConnection
    private let readers: SQLiteReaders
    private let writerGate = AsyncSemaphore(permits: 1)
    private let logger: Logger
    /// Bulk writes under way, and the checkpoint that catches up after the last of them.
    private let bulkWrites = Mutex<Int>(0)
    private let begun = Atomic<Int>(0)
    /// Write transactions begun so far, one at a time: inside its transaction, a writer that
    /// finds the count moved only by its own transactions knows no one else wrote between.
    var writesBegun: Int { begun.load(ordering: .sequentiallyConsistent) }
    private let catchUp = Mutex<Task<Void, Never>?>(nil)
    /// Commits since the last background checkpoint began, the WAL file's size then (for
    /// bulk writes), and that checkpoint while it runs.
    private let checkpoints = Mutex<(commits: Int, walBytes: Int, running: Task<Void, Never>?, closed: Bool)>((0, 0, nil, false))
    /// The writer's automatic checkpoint threshold outside bulk writes: a safety net, as
    /// checkpoints run in the background every `commitsPerCheckpoint` commits.
    public static let automaticCheckpointPages = 10_000
    public static let commitsPerCheckpoint = 50
    /// During a bulk write, a background checkpoint begins each time the WAL file has grown
    /// by this much (see `bulk`); a test may ask for less.
    public static let bulkCheckpointBytes = 64 << 20
    private let bulkCheckpointBytes: Int
    private static let checkpointQueue = DispatchQueue(label: "crm.sqlite.checkpoint", qos: .utility)

    public init(path: String, readers readerCount: Int = 4, bulkCheckpointBytes: Int = bulkCheckpointBytes, logger: Logger) async throws {
        self.path = path
        self.bulkCheckpointBytes = bulkCheckpointBytes
        self.logger = logger
        // journal_size_limit: the WAL file is cut back to 64 MB when it is next reused, so a
        // bulk write's long WAL does not stay on disk.
        writer = try PreparedConnection(path: path, create: true, serialised: true, settings: [
            "PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=5000", "PRAGMA cache_size=-65536", "PRAGMA temp_store=MEMORY",
            "PRAGMA journal_size_limit=67108864", "PRAGMA wal_autocheckpoint=\(Self.automaticCheckpointPages)"])
        // Readers open as they are first needed, up to one per thread reading at once (the
        // threads tasks run on, for lookups, and NIO's pool, for reads); that many are kept
        // open between reads, so their prepared statements stay.
        readers = SQLiteReaders(path: path, idleLimit: max(readerCount, 2 * System.coreCount), logger: logger)
    }

    /// Whether the writer is inside a transaction outside any write (only ever after a
    /// failed ROLLBACK; for tests).
    var writerInTransaction: Bool {
        get async { (try? await writerGate.with { writer.inTransaction }) ?? false }
    }

    /// The writer's statements; only under the writer gate.
    private var writerStatements: SQLiteStatements {
        SQLiteStatements(placement: .writer(writer, .singleton), logger: logger)
    }

    public func lookup<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await body(readers.onCallingThread)
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await body(readers.onThreadPool(.singleton))
    }

    public func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await writerGate.with {
            let db = writerStatements
            if writer.inTransaction {
                // Only a failed ROLLBACK can leave one open; the next write must not inherit it.
                logger.warning("the writer was left inside a transaction; rolling it back")
                try await db.raw("ROLLBACK").run()
            }
            try await db.raw("BEGIN IMMEDIATE").run()
            begun.add(1, ordering: .sequentiallyConsistent)
            do {
                let result = try await body(db)
                try await db.raw("COMMIT").run()
                checkpointAfterCommit()
                return result
            } catch {
                do { try await db.raw("ROLLBACK").run() } catch {
                    logger.error("rollback failed", metadata: ["error": "\(error)"])
                }
                throw error
            }
        }
    }

    /// Copies the WAL into the database file on a reader connection every
    /// `commitsPerCheckpoint` commits, while the writer carries on. SQLite's automatic
    /// checkpoint would do it inside the commit that takes the WAL past its threshold, in
    /// the writer's time: a tenth of creating an order, every write waiting behind it.
    /// Passive, so it never waits for readers or the writer; what it cannot copy yet, the
    /// next one does (and the automatic checkpoint at `automaticCheckpointPages` stays as a
    /// safety net). During bulk writes, every `bulkCheckpointBytes` the WAL grows instead.
    private func checkpointAfterCommit() {
        let bulk = bulkWrites.withLock { $0 > 0 }
        let walBytes = bulk ? walFileBytes() : 0
        checkpoints.withLock { state in
            state.commits += 1
            guard !state.closed, state.running == nil else { return }
            if bulk {
                // The file only grows until the WAL restarts from its beginning, when it is cut
                // back (journal_size_limit): then the growth counts from there.
                state.walBytes = min(state.walBytes, walBytes)
                guard walBytes - state.walBytes >= bulkCheckpointBytes else { return }
                state.walBytes = walBytes
            } else {
                guard state.commits >= Self.commitsPerCheckpoint else { return }
            }
            state.commits = 0
            state.running = Task { [self] in
                if let failure = await checkpoint() {
                    logger.warning("background checkpoint failed; commits will checkpoint", metadata: ["error": "\(failure)"])
                }
                checkpoints.withLock { $0.running = nil }
            }
        }
    }

    /// The WAL file's size in bytes (0 if it cannot be read).
    private func walFileBytes() -> Int {
        var status = stat()
        return stat(path + "-wal", &status) == 0 ? Int(status.st_size) : 0
    }

    /// A passive checkpoint on a reader connection, on a thread of its own: on NIO's pool,
    /// which the writer runs on too, its fsync would hold up the writes it is meant to spare
    /// (p99 of creating an order 32 → 150 ms). Returns the error, if any.
    private func checkpoint() async -> (any Error)? {
        await withCheckedContinuation { done in
            Self.checkpointQueue.async { [readers] in
                do {
                    try readers.withConnection { try $0.run("PRAGMA wal_checkpoint(PASSIVE)", []) { _ in } }
                    done.resume(returning: nil)
                } catch { done.resume(returning: error) }
            }
        }
    }

    /// A bulk write checkpointing as it goes would copy its pages into the database file a
    /// few MB at a time, in its own time, and the pages it keeps changing (an index's) over
    /// and over. During a bulk write the automatic threshold is 100,000 pages (400 MB; a
    /// long read can make the WAL longer, as always), and every 64 MB the WAL grows a passive
    /// checkpoint on a reader connection copies it while the writer carries on. When the WAL
    /// reaches the threshold the writer's own checkpoint finds little left to copy (copying
    /// all 400 MB itself held the writer 1–2 s, and every write waiting behind it) and,
    /// having copied everything, lets the WAL start again from its beginning (a WAL never
    /// checkpointed grows without bound, 1.6 GB for a million customers, and a page read
    /// searches its index for every frame not yet copied). Afterwards one passive
    /// checkpoint copies what is left, and only then does the threshold go back down (a
    /// refresh of 1M customers finishes 0.4 s sooner).
    /// Readers are unaffected: they read new pages from the WAL. Overlapping bulk writes
    /// share the setting; it is only ever a matter of speed.
    public func bulk<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if bulkWrites.withLock({ n in n += 1; return n == 1 }) {
            do { try await setAutomaticCheckpoint(pages: 100_000) } catch {
                bulkWrites.withLock { $0 -= 1 }
                throw error
            }
        }
        do {
            let result = try await body()
            endBulk()
            return result
        } catch {
            endBulk()
            throw error
        }
    }

    private func endBulk() {
        guard bulkWrites.withLock({ n in n -= 1; return n == 0 }) else { return }
        // The threshold goes back down only after the catch-up checkpoint: lowered first, the
        // next commit (an order, say) would find the WAL long and copy it all in its own time.
        let task = Task { [self] in
            // After any background checkpoint still copying, which would leave this one nothing to do.
            await checkpoints.withLock { $0.running }?.value
            if let failure = await checkpoint() {
                logger.warning("checkpoint after a bulk write failed; the next commits will checkpoint", metadata: ["error": "\(failure)"])
            }
            guard bulkWrites.withLock({ $0 == 0 }) else { return }
            do { try await setAutomaticCheckpoint(pages: Self.automaticCheckpointPages) } catch {
                logger.warning("could not lower the automatic checkpoint's threshold again", metadata: ["error": "\(error)"])
            }
        }
        // Kept, after any earlier one still running, so close() waits for them all.
        catchUp.withLock { current in
            current = current.map { earlier in Task { await earlier.value; await task.value } } ?? task
        }
    }

    private func setAutomaticCheckpoint(pages: Int) async throws {
        try await writerGate.with {
            try await writerStatements.raw("PRAGMA wal_autocheckpoint = \(unsafeRaw: String(pages))").run()
        }
    }

    public func run() async {}

    public func close() async {
        await catchUp.withLock { $0 }?.value
        let checkpoint = checkpoints.withLock { state -> Task<Void, Never>? in
            state.closed = true
            return state.running
        }
        await checkpoint?.value
        readers.close()
        try? await writerGate.with { writer.close() }
    }

    /// A consistent copy of the live database in `path` (VACUUM INTO, on a connection of
    /// its own, so readers and the writer carry on meanwhile).
    public func backup(to path: String) async throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw StoreError.configuration("\(path) already exists; choose a new file name")
        }
        let connection = try await SQLiteConnection.open(storage: .file(path: self.path), logger: logger)
        do {
            try await connection.sql().raw("VACUUM INTO \(bind: path)").run()
            try await connection.close()
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

/// PostgreSQL through PostgresNIO's `PostgresClient` pool.
public final class PostgresStoreDatabase: StoreDatabase {
    public let dialect = Dialect.postgres
    public let client: PostgresClient
    private let logger: Logger
    /// Whether `run()` has begun, and the queries that came before it. A command's first
    /// query can race the task that starts the pool; the pool would serve it anyway, but
    /// log a warning users took for a fault. Waiting here costs one lock once running.
    private let running = Mutex(PoolStart())

    private struct PoolStart {
        var started = false
        var nextWaiter = 0
        var waiting: [Int: CheckedContinuation<Void, any Error>] = [:]
        /// Waiters cancelled before they were registered.
        var cancelled: Set<Int> = []
    }

    public init(url: String, maxConnections: Int = 20, logger: Logger) throws {
        guard let c = URLComponents(string: url), let host = c.host else {
            throw StoreError.configuration("not a PostgreSQL URL: \(DatabaseLocation.postgres(url: url))")
        }
        let database = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        let sslmode = c.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "disable"
        let tls: PostgresClient.Configuration.TLS = sslmode == "disable" ? .disable : .prefer(.makeClientConfiguration())
        var config = PostgresClient.Configuration(
            host: host, port: c.port ?? 5432, username: c.user ?? "postgres",
            password: c.password?.removingPercentEncoding, database: database.isEmpty ? nil : database, tls: tls)
        config.options.maximumConnections = maxConnections
        // `?search_path=name` keeps one product's tables in their own schema (tests use a schema each).
        if let path = c.queryItems?.first(where: { $0.name == "search_path" })?.value {
            config.options.additionalStartupParameters = [("search_path", path)]
        }
        client = PostgresClient(configuration: config, backgroundLogger: logger)
        self.logger = logger
    }

    /// Returns once `run()` has begun; a cancelled caller (a client that went away) stops
    /// waiting with `CancellationError`, as it would waiting for a connection.
    private func untilRunning() async throws {
        let waiter = running.withLock { state -> Int? in
            if state.started { return nil }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let waiter else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = running.withLock { state -> Result<Void, any Error>? in
                    if state.started { return .success(()) }
                    if state.cancelled.remove(waiter) != nil { return .failure(CancellationError()) }
                    state.waiting[waiter] = continuation
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let continuation = running.withLock { state in
                let registered = state.waiting.removeValue(forKey: waiter)
                if registered == nil && !state.started { state.cancelled.insert(waiter) }
                return registered
            }
            continuation?.resume(throwing: CancellationError())
        }
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await untilRunning()
        return try await client.withConnection { connection in try await body(PostgresStatements(connection)) }
    }

    /// PostgreSQL answers over the network, so there is no hand-off to spare.
    public func lookup<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await read(body)
    }

    public func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await untilRunning()
        return try await client.withConnection { connection in
            let db = PostgresStatements(connection)
            // Said, not assumed: a server whose default is REPEATABLE READ would take the
            // snapshot before a writer waits on a customer's lock, and the purchase summary
            // recomputed after the wait would miss the order committed meanwhile.
            try await db.raw("BEGIN ISOLATION LEVEL READ COMMITTED").run()
            do {
                let result = try await body(db)
                try await db.raw("COMMIT").run()
                return result
            } catch {
                do { try await db.raw("ROLLBACK").run() } catch {
                    logger.error("rollback failed", metadata: ["error": "\(error)"])
                }
                throw error
            }
        }
    }

    public func bulk<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T { try await body() }
    public func run() async {
        // The waiters resume on other threads while this one goes straight into
        // `client.run()`, whose first step marks the pool running: best effort (a waiter
        // could in principle get there first and see the warning), not a guarantee.
        let waiting = running.withLock { state in
            state.started = true
            state.cancelled = []
            defer { state.waiting = [:] }
            return state.waiting.values
        }
        for waiter in waiting { waiter.resume() }
        await client.run()
    }
    public func close() async {}
}

public enum StoreError: Error, CustomStringConvertible, Sendable {
    case configuration(String)
    case corrupt(String)

    public var description: String {
        switch self {
        case .configuration(let s): return s
        case .corrupt(let s): return "stored data is not as expected: \(s)"
        }
    }
}

/// A counting semaphore for async code: at most `permits` bodies run at once, the rest
/// wait in arrival order. Serialises SQLite writes without blocking threads.
public actor AsyncSemaphore {
    private var permits: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    public init(permits: Int) { self.permits = permits }

    public func acquire() async {
        if permits > 0 { permits -= 1; return }
        await withCheckedContinuation { waiters.append($0) }
    }

    public func release() {
        if waiters.isEmpty { permits += 1 } else { waiters.removeFirst().resume() }
    }

    public nonisolated func with<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }
}
