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
        let grams = ["a b", #"""#, #"\"#, "{", "}", ",", "NULL", "\t", "伟", "", "{}"]
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

    /// A line may start with an empty text or hold an empty array, and still has every field.
    @Test(arguments: TestBackend.available.filter { $0 == .postgres })
    func emptyFieldsKeepTheirPlace(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { db in
            let read = try await db.write { db in
                try await db.raw("CREATE TABLE copied (t TEXT NOT NULL, g TEXT[] NOT NULL, n BIGINT NOT NULL)").run()
                var line = CopyLine()
                line.text("")
                line.texts([String]())
                var rest = CopyLine()
                rest.integer(7)
                line.append(rest)
                try await ImportRun.insertRows(db, "copied", ["t", "g", "n"], [.copy(line)])
                return try await db.rows("SELECT t, g, n FROM copied") { r in
                    (try r.string("t"), try r.row.decode(column: "g", as: [String].self), try r.int64("n"))
                }
            }
            #expect(read.count == 1 && read[0].0 == "" && read[0].1.isEmpty && read[0].2 == 7)
        }
    }

    /// A COPY the server refuses part-way (a key taken twice, in the first of several
    /// megabytes sent) fails its transaction whole, and the connections go on working.
    @Test(arguments: TestBackend.available.filter { $0 == .postgres })
    func aRefusedCopyLeavesNothingAndTheConnectionsWork(_ backend: TestBackend) async throws {
        try await withTestDatabase(backend) { db in
            try await db.write { db in try await db.raw("CREATE TABLE copied (n BIGINT PRIMARY KEY, t TEXT NOT NULL)").run() }
            @Sendable func rows(_ count: Int, repeating repeated: Int?) -> [ImportRun.InsertRow] {
                (0..<count).map { n in
                    var line = CopyLine()
                    line.integer(Int64(n == repeated ? 0 : n))
                    line.text(String(repeating: "x", count: 100))
                    return .copy(line)
                }
            }
            for _ in 0..<10 {
                await #expect(throws: (any Error).self) {
                    try await db.write { db in
                        try await db.raw("INSERT INTO copied (n, t) VALUES (-1, 'before')").run()
                        try await ImportRun.insertRows(db, "copied", ["n", "t"], rows(30_000, repeating: 2))
                    }
                }
            }
            let afterFailures = try await db.read { db in try await db.rows("SELECT COUNT(*) AS c FROM copied") { try $0.int64("c") } }
            #expect(afterFailures == [0])
            try await db.write { db in try await ImportRun.insertRows(db, "copied", ["n", "t"], rows(30_000, repeating: nil)) }
            let copied = try await db.read { db in try await db.rows("SELECT COUNT(*) AS c FROM copied") { try $0.int64("c") } }
            #expect(copied == [30_000])
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
