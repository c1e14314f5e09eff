import CRMStore
import CRMTestSupport
import Foundation
import SQLKit
import Testing

@Suite("SQLite bulk writes")
struct BulkWriteTests {
    static func automaticCheckpoint(_ db: SQLiteStoreDatabase) async throws -> Int {
        // The setting is the writer connection's, which writes run on.
        try await db.write { try await $0.raw("PRAGMA wal_autocheckpoint").first()?.decode(column: "wal_autocheckpoint", as: Int.self) ?? -1 }
    }

    /// Whether the threshold is back to its usual value within two seconds (it is lowered after the
    /// catch-up checkpoint, which runs in the background).
    static func lowered(_ db: SQLiteStoreDatabase) async throws -> Bool {
        for _ in 0..<100 {
            if try await automaticCheckpoint(db) == SQLiteStoreDatabase.automaticCheckpointPages { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// A bulk write raises the automatic checkpoint's threshold while it runs (also when two
    /// overlap) and puts it back after, also when it fails; what it wrote is there for readers.
    @Test func automaticCheckpointWaitsLongerDuringABulkWriteAndIsBackAfter() async throws {
        try await withTestDatabase(.sqlite) { database in
            let db = try #require(database as? SQLiteStoreDatabase)
            #expect(try await Self.automaticCheckpoint(db) == SQLiteStoreDatabase.automaticCheckpointPages)
            try await db.write { try await $0.raw("CREATE TABLE bulk_rows (n INTEGER)").run() }
            let during = try await db.bulk {
                let outer = try await Self.automaticCheckpoint(db)
                let inner = try await db.bulk {
                    try await db.write { try await $0.raw("WITH RECURSIVE n(v) AS (SELECT 1 UNION ALL SELECT v + 1 FROM n WHERE v < 50000) INSERT INTO bulk_rows SELECT v FROM n").run() }
                    return try await Self.automaticCheckpoint(db)
                }
                return [outer, inner, try await Self.automaticCheckpoint(db)]
            }
            #expect(during == [100_000, 100_000, 100_000], "raised throughout: the inner bulk write ending does not lower it under the outer")
            #expect(try await Self.lowered(db), "back down once the catch-up checkpoint has run")
            struct Failure: Error {}
            await #expect(throws: Failure.self) { try await db.bulk { throw Failure() } }
            #expect(try await Self.lowered(db))
            let count = try await db.read { try await $0.raw("SELECT COUNT(*) AS n FROM bulk_rows").first()?.decode(column: "n", as: Int.self) }
            #expect(count == 50000)
        }
    }

    /// Commits do not copy the WAL into the database file themselves: a checkpoint on a
    /// reader connection does, in the background, every `commitsPerCheckpoint` commits.
    @Test func checkpointsRunInTheBackgroundAsCommitsGoBy() async throws {
        try await withTestDatabase(.sqlite) { database in
            let db = try #require(database as? SQLiteStoreDatabase)
            try await db.write { try await $0.raw("CREATE TABLE wal_rows (payload BLOB)").run() }
            func fileSize() throws -> Int { try FileManager.default.attributesOfItem(atPath: db.path)[.size] as? Int ?? 0 }
            let before = try fileSize()
            // 20 KB a commit: 2 MB in all, far below the automatic threshold (40 MB).
            for _ in 0..<(2 * SQLiteStoreDatabase.commitsPerCheckpoint) {
                try await db.write { try await $0.raw("INSERT INTO wal_rows VALUES (randomblob(20000))").run() }
            }
            var copied = false
            for _ in 0..<100 where !copied {
                copied = try fileSize() >= before + SQLiteStoreDatabase.commitsPerCheckpoint * 20_000
                if !copied { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(copied, "the database file holds the first \(SQLiteStoreDatabase.commitsPerCheckpoint) commits' rows")
        }
    }

    /// During a bulk write a checkpoint on a reader connection copies the WAL into the
    /// database file each time the WAL has grown by `bulkCheckpointBytes` (64 MB; 1 MB here),
    /// while the bulk write goes on; the writer's own checkpoint, at 100,000 pages, then finds
    /// little left to copy.
    @Test func bulkWritesAreCheckpointedInTheBackgroundAsTheWALGrows() async throws {
        try await withTestDatabase(.sqlite, migrated: false, sqliteBulkCheckpointBytes: 1 << 20) { database in
            let db = try #require(database as? SQLiteStoreDatabase)
            @Sendable func fileSize() throws -> Int { try FileManager.default.attributesOfItem(atPath: db.path)[.size] as? Int ?? 0 }
            try await db.write { try await $0.raw("CREATE TABLE wal_rows (payload BLOB)").run() }
            let before = try fileSize()
            let copied = try await db.bulk {
                // 256 KB a commit, 4 MB in all: far below the writer's threshold (400 MB).
                for _ in 0..<16 {
                    try await db.write { try await $0.raw("INSERT INTO wal_rows VALUES (randomblob(256000))").run() }
                }
                for _ in 0..<100 {
                    if try fileSize() >= before + 2_000_000 { return true }
                    try await Task.sleep(for: .milliseconds(20))
                }
                return false
            }
            #expect(copied, "the database file holds rows of the bulk write before it ends")
        }
    }
}
