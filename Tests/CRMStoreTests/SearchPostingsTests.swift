import CRMCore
@testable import CRMStore
import CRMTestSupport
import Foundation
import SQLKit
import Testing

@Suite("Search postings")
struct SearchPostingsTests {
    /// A database made before the postings moved (migration 9 on SQLite, 13 on PostgreSQL)
    /// had them in `search_grams`; after it, the same customers are found through the new
    /// index, and a rename moves their postings.
    @Test(arguments: TestBackend.available)
    func migrationMovesTheGramRowsIntoTheIndex(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend, migrated: false) { db in
            let moved = backend == .sqlite ? 9 : 13
            try await Migrator(database: db, migrations: Schema.migrations.filter { $0.version < moved }, logger: testLogger).migrate()
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
                try await db.rows(backend == .sqlite
                    ? "SELECT name FROM sqlite_master WHERE name LIKE 'search%' AND type = 'table' ORDER BY name"
                    : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE 'search%'") {
                    try $0.string("name")
                }
            }
            #expect(!tables.contains("search_grams") && tables.contains("search_postings"))

            let zhang = try await store.customers.get(Customer.ID(1))
            var renamed = CustomerInput(zhang)
            renamed.name = "赵敏"
            _ = try await store.customers.update(zhang.id, with: renamed, ifVersion: zhang.version, by: users.admin)
            #expect(try await store.customers.search("赵").map(\.id.rawValue) == [1])
            // The old name's postings are gone from the index itself (search would also drop
            // them by substring), and the other customers' stay.
            #expect(try await Self.posted("伟", backend, db).isEmpty)
            #expect(try await Self.posted("公司", backend, db) == [2])
            #expect(try await Self.posted("th", backend, db) == [3])

            // Posted again without being removed first (SQLite: the new grams replace the old ones).
            if backend == .sqlite {
                try await db.write { db in
                    try await db.raw("UPDATE customers SET name = '孙悟空' WHERE id = 1").run()
                    try await SearchIndex.reindex(db, Customer.ID(1), fresh: true)
                }
                #expect(try await Self.posted("赵", backend, db).isEmpty)
                #expect(try await Self.posted("悟", backend, db) == [1])
            }
        }
    }

    /// The customers posted under `gram`, read from the index itself.
    static func posted(_ gram: String, _ backend: TestBackend, _ db: any StoreDatabase) async throws -> [Int64] {
        try await db.read { db in
            backend == .sqlite
                ? try await db.rows("SELECT rowid AS id FROM search_postings WHERE search_postings MATCH \(bind: SearchIndex.token(gram)) ORDER BY rowid") {
                    try $0.int64("id")
                }
                : try await db.rows("SELECT customer_id AS id FROM search_postings WHERE grams @> \(bind: [gram]) ORDER BY customer_id") {
                    try $0.int64("id")
                }
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
