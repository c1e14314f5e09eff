import CRMStore
import CRMTestSupport
import Foundation
import Logging
import SQLKit
import Synchronization
import Testing

/// Keeps every message logged through it.
private struct RecordingLogHandler: LogHandler {
    let messages: Mutex<[String]>.Shared
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        messages.value.withLock { $0.append("\(level) \(message)") }
    }
}

extension Mutex {
    /// A mutex that a value type (a log handler) can share.
    final class Shared: Sendable where Value: Sendable {
        let value: Mutex<Value>
        init(_ initial: Value) { value = Mutex(initial) }
    }
}

@Suite("The PostgreSQL connection pool")
struct PostgresPoolTests {
    /// A command's first query can come before the task that runs the pool has started.
    /// It must wait for the pool and answer, and nothing may be logged as if it were a fault.
    @Test(.enabled(if: TestBackend.available.contains(.postgres)))
    func aQueryBeforeThePoolRunsWaitsForItQuietly() async throws {
        let messages = Mutex<[String]>.Shared([])
        let logger = Logger(label: "crm.test.pool") { _ in RecordingLogHandler(messages: messages) }
        let url = try #require(ProcessInfo.processInfo.environment["CRM_TEST_POSTGRES_URL"])
        let database = try PostgresStoreDatabase(url: url, maxConnections: 2, logger: logger)

        let early = Task { try await database.read { db in try await db.raw("SELECT 41 + 1 AS answer").first()?.decode(column: "answer", as: Int.self) } }
        try await Task.sleep(for: .milliseconds(100))
        let answer = try await withThrowingTaskGroup(of: Void.self) { group -> Int? in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            return try await early.value
        }
        #expect(answer == 42)
        let logged = messages.value.withLock { $0 }
        #expect(!logged.contains { $0.contains("run()") }, "logged: \(logged)")
    }

    /// A query still waiting for the pool to start stops when its task is cancelled (a
    /// client that went away), instead of waiting on forever; the pool serves later ones.
    @Test(.enabled(if: TestBackend.available.contains(.postgres)))
    func aQueryWaitingForThePoolCanBeCancelled() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["CRM_TEST_POSTGRES_URL"])
        let database = try PostgresStoreDatabase(url: url, maxConnections: 2, logger: testLogger)
        let waiting = Task { try await database.read { db in try await db.raw("SELECT 1 AS one").run() } }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        // Watched from outside, so a waiter that never ends fails the test instead of hanging it.
        let outcome = Mutex<String?>.Shared(nil)
        Task {
            let result: String
            do { try await waiting.value; result = "answered" } catch is CancellationError { result = "cancelled" } catch { result = "\(error)" }
            outcome.value.withLock { $0 = result }
        }
        for _ in 0..<50 where outcome.value.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(100)) }
        #expect(outcome.value.withLock { $0 } == "cancelled", "nil: still waiting after 5 s")

        let answer = try await withThrowingTaskGroup(of: Void.self) { group -> Int? in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            return try await database.read { db in try await db.raw("SELECT 6 * 7 AS answer").first()?.decode(column: "answer", as: Int.self) }
        }
        #expect(answer == 42)
    }
}
