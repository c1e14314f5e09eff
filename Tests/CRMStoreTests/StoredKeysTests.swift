import CRMCore
@testable import CRMStore
import CRMTestSupport
import Foundation
import SQLKit
import Testing

/// The filter of stored keys an import consults before looking rows up: it must never miss
/// a key it holds, and it must stop being trusted as soon as anyone else writes.
@Suite("Stored keys filter")
struct StoredKeysTests {
    @Test func aBloomFilterHoldsEveryKeyAndFewOthers() {
        var rng = SystemRandomNumberGenerator()
        let keys = (0..<20_000).map { _ in "\(UInt64.random(in: 0...UInt64.max, using: &rng))@example.com" }
        var filter = BloomFilter(expected: keys.count)
        for key in keys { filter.insert(key, 2) }
        #expect(keys.allSatisfy { filter.contains($0, 2) })
        // The same text under another tag (a phone that equals an e-mail) is another key.
        let otherTag = keys.filter { filter.contains($0, 3) }.count
        let others = (0..<20_000).filter { filter.contains("other-\($0)@example.com", 2) }.count
        #expect(otherTag < 600, "\(otherTag) of 20,000 false positives")
        #expect(others < 600, "\(others) of 20,000 false positives")
        #expect(!BloomFilter(expected: 0).contains("", 1))
    }

    @Test func storedKeysHoldUntilAnotherWriterWrites() async throws {
        try await withTestStore(.sqlite) { store, users in
            let stored = try await store.customers.create(makeCustomerInput("王芳", email: "wang@example.com", phone: "+8613800000001"),
                                                          by: users.admin)
            // A file too small to pay for reading every stored customer gets no filter.
            let forNone = try await StoredKeys.read(store.database, rows: 0)
            #expect(forNone == nil)
            let keys = try #require(try await StoredKeys.read(store.database, rows: 10))
            #expect(keys.mayHave("wang@example.com", .email))
            #expect(keys.mayHave("+8613800000001", .phone))
            #expect(!keys.mayHave("wang@example.com", .phone))
            #expect(!keys.mayHave("li@example.com", .email))
            _ = stored

            // The import's own transactions, one after another: the filter holds.
            for _ in 0..<2 {
                try await store.database.write { db in
                    let before = try await keys.holds(db)
                    try await keys.noteWritten(db)
                    let after = try await keys.holds(db)
                    #expect(before && after)
                }
            }
            // Someone else writes between two of them: never trusted again.
            _ = try await store.customers.create(makeCustomerInput("李娜", email: "li@example.com"), by: users.admin)
            let afterAnother = try await store.database.write { db in try await keys.holds(db) }
            #expect(afterAnother == false)
            let later = try await store.database.write { db in
                try await keys.noteWritten(db)
                return try await keys.holds(db)
            }
            #expect(later == false)
        }
    }

    @Test func storedKeysStopHoldingWhenAnotherConnectionCommits() async throws {
        try await withTestStore(.sqlite) { store, users in
            let database = try #require(store.database as? SQLiteStoreDatabase)
            let keys = try #require(try await StoredKeys.read(database, rows: 10))
            let held = try await database.write { db in
                let held = try await keys.holds(db)
                try await keys.noteWritten(db)
                return held
            }
            #expect(held)
            // Another process on the same file, say.
            let other = try PreparedConnection(path: database.path, settings: ["PRAGMA busy_timeout=5000"])
            try other.run("UPDATE users SET display_name = display_name || '.' WHERE id = ?", [.integer(Int(users.admin.userID.rawValue))]) { _ in }
            other.close()
            let afterOther = try await database.write { db in try await keys.holds(db) }
            #expect(afterOther == false)
        }
    }

    /// A PostgreSQL store has writers at once: no filter, every key looked up.
    @Test(arguments: TestBackend.available)
    func aFilterOnlyWhereWritersTakeTurns(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, _ in
            let keys = try await StoredKeys.read(store.database, rows: 10)
            #expect((keys != nil) == (backend == .sqlite))
        }
    }
}
