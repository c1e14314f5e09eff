@testable import CRMStore
import CRMTestSupport
import SQLKit
import Testing

@Suite("PostgreSQL COPY rows")
struct PostgresCopyTests {
    /// Values with every character COPY's text format or an array literal gives a meaning
    /// (tab, newline, carriage return, backslash, quote, comma, braces, `\N`), and NULL,
    /// come back as they went in.
    @Test(arguments: TestBackend.available.filter { $0 == .postgres })
    func copiedRowsComeBackAsTheyWentIn(_ backend: TestBackend) async throws {
        let texts: [String?] = ["a\tb", "line\nnext\r", #"back\slash \N"#, #"say "hi", {x}"#, "张伟 ", "", nil, "\\."]
        let grams = ["a b", #"""#, #"\"#, "{", "}", ",", "NULL", "\t", "伟", ""]
        try await withTestDatabase(backend) { db in
            let read = try await db.write { db in
                try await db.raw("CREATE TABLE copied (n BIGINT NOT NULL, t TEXT, b BOOLEAN NOT NULL, g TEXT[] COLLATE \"C\" NOT NULL, m BIGINT)").run()
                let rows: [ImportRun.InsertRow] = texts.enumerated().map { n, text in
                    var line = CopyLine()
                    line.integer(Int64(n))
                    line.text(text)
                    line.bool(n % 2 == 0)
                    line.texts(grams)
                    line.integer(n == 0 ? nil : -Int64(n))
                    return .copy(line)
                }
                try await ImportRun.insertRows(db, "copied", ["n", "t", "b", "g", "m"], rows)
                return try await db.rows("SELECT n, t, b, g, m FROM copied ORDER BY n") { r in
                    (try r.int64("n"), try r.optionalString("t"), try r.row.decode(column: "b", as: Bool.self),
                     try r.row.decode(column: "g", as: [String].self), try r.row.decode(column: "m", as: Int64?.self))
                }
            }
            #expect(read.map(\.0) == Array(0..<Int64(texts.count)))
            #expect(read.map(\.1) == texts)
            #expect(read.map(\.2) == texts.indices.map { $0 % 2 == 0 })
            #expect(read.allSatisfy { $0.3 == grams })
            #expect(read.map(\.4) == texts.indices.map { $0 == 0 ? nil : -Int64($0) })
        }
    }

    /// Rows made for COPY on any other database fail with what went wrong, not a crash.
    @Test func copyRowsOnSQLiteAreRefused() async throws {
        try await withTestDatabase(.sqlite) { db in
            await #expect(throws: StoreError.self) {
                try await db.write { db in
                    var line = CopyLine()
                    line.integer(1)
                    try await ImportRun.insertRows(db, "customer_tags", ["customer_id"], [.copy(line)])
                }
            }
        }
    }
}
