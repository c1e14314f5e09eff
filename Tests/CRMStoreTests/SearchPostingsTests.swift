import CRMCore
@testable import CRMStore
import CRMTestSupport
import Foundation
import SQLKit
import Testing

@Suite("Search postings")
struct SearchPostingsTests {
    /// A database made before migration 9 had its postings in `search_grams`; after it, the
    /// same customers are found through the FTS5 index, and a rename moves their postings.
    @Test func sqliteMigrationMovesTheGramsIntoFTS5() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crm-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try await SQLiteStoreDatabase(path: dir.appendingPathComponent("crm.sqlite").path, readers: 1, logger: testLogger)
        do {
            try await Migrator(database: db, migrations: Schema.migrations.filter { $0.version < 9 }, logger: testLogger).migrate()
            let old: [(Int64, [String])] = [(1, ["张伟", "zhang.wei@example.com"]), (2, ["王芳", "Acme 公司"]), (3, ["Smith"])]
            try await db.write { db in
                for (id, values) in old {
                    let text = values.map(Normalise.searchKey).joined(separator: "\n")
                    try await db.raw("""
                        INSERT INTO customers (id, kind, name, roles, hobbies, time_zone, contact_windows, do_not_contact, tags, custom_fields,
                                               search_text, created_at, updated_at, version)
                        VALUES (\(bind: id), 'person', \(bind: values[0]), 'customer', '[]', 'Asia/Shanghai', '[]', '[]', '[]', '{}', \(bind: text),
                                '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 1)
                        """).run()
                    for gram in SearchGrams.grams(of: values) {
                        try await db.raw("INSERT INTO search_grams (gram, customer_id) VALUES (\(bind: gram), \(bind: id))").run()
                    }
                }
            }
            try await Migrator(database: db, logger: testLogger).migrate()
            let store = Store(database: db)
            let users = try await TestUsers.make(in: store)

            #expect(try await store.customers.search("伟").map(\.id.rawValue) == [1])
            #expect(try await store.customers.search("example.com").map(\.id.rawValue) == [1])
            #expect(try await store.customers.search("公司").map(\.id.rawValue) == [2])
            #expect(try await store.customers.search("SMI").map(\.id.rawValue) == [3])
            #expect(try await store.customers.search("赵").isEmpty)
            let tables = try await db.read { db in
                try await db.rows("SELECT name FROM sqlite_master WHERE name LIKE 'search%' AND type = 'table' ORDER BY name") { try $0.string("name") }
            }
            #expect(!tables.contains("search_grams"))

            let zhang = try await store.customers.get(Customer.ID(1))
            var renamed = CustomerInput(zhang)
            renamed.name = "赵敏"
            _ = try await store.customers.update(zhang.id, with: renamed, ifVersion: zhang.version, by: users.admin)
            #expect(try await store.customers.search("赵").map(\.id.rawValue) == [1])
            // The old name's postings are gone from the index itself (search would also drop
            // them by substring), and the other customers' stay.
            let posted = try await db.read { db in
                (try await db.rows("SELECT rowid AS id FROM search_postings WHERE search_postings MATCH \(bind: SearchIndex.token("伟"))") {
                    try $0.int64("id")
                 },
                 try await db.rows("SELECT COUNT(*) AS n FROM search_postings") { try $0.int64("n") })
            }
            #expect(posted.0.isEmpty && posted.1 == [3])

            // Posted again without being removed first: the new grams replace the old ones.
            try await db.write { db in
                try await db.raw("UPDATE customers SET name = '孙悟空' WHERE id = 1").run()
                try await SearchIndex.reindex(db, Customer.ID(1), fresh: true)
            }
            let afterRepost = try await db.read { db in
                (try await db.rows("SELECT rowid AS id FROM search_postings WHERE search_postings MATCH \(bind: SearchIndex.token("赵"))") {
                    try $0.int64("id")
                 },
                 try await db.rows("SELECT rowid AS id FROM search_postings WHERE search_postings MATCH \(bind: SearchIndex.token("悟"))") {
                    try $0.int64("id")
                 })
            }
            #expect(afterRepost.0.isEmpty && afterRepost.1 == [1])
            await db.close()
        } catch {
            await db.close()
            throw error
        }
    }

    /// Every character a customer can be found by becomes one plain ASCII token.
    /// The document written from the keys' bytes holds each gram's token once, the same
    /// tokens as the grams' own; a key with a character that is not plain is left to them.
    @Test func documentsWrittenFromBytesHoldTheGramsTokens() {
        let alphabet = Array("ab1@.-·张伟王芳㐀x9Z")
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<5_000 {
            let keys = (0..<Int.random(in: 1...4, using: &rng)).map { _ in
                String((0..<Int.random(in: 0...9, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
            }
            let document = try! #require(SearchIndex.document(ofKeys: keys))
            let tokens = document.split(separator: " ").map(String.init)
            #expect(Set(tokens) == Set(SearchGrams.grams(ofKeys: keys).map(SearchIndex.token)), "\(keys)")
            #expect(Set(tokens).count == tokens.count, "\(keys)")
        }
        #expect(SearchIndex.document(ofKeys: ["张伟"]) == "e5bca0 e4bc9f e5bca0e4bc9f")
        #expect(SearchIndex.document(ofKeys: ["ok", "李 娜"]) == nil)
        #expect(SearchIndex.document(ofKeys: ["𠀀"]) == nil)
    }

    @Test func gramTokensAreTheirUTF8BytesInHex() {
        #expect(SearchIndex.token("张伟") == "e5bca0e4bc9f")
        #expect(SearchIndex.token("@e") == "4065")
        #expect(SearchIndex.token("𠀀") == "f0a08080")
    }
}
