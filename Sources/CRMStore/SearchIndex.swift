import CRMCore
import SQLKit

/// The n-gram index behind customer search (see `SearchGrams`). Kept in the same
/// transaction as the customer, so search never shows a stale or missing record.
///
/// Where the postings live differs by backend, behind `post`, `unpost` and the candidate
/// scan. SQLite: an FTS5 index, one document per customer (rowid = customer id) holding its
/// grams as hex tokens; FTS5 buffers a transaction's postings and writes them as compressed
/// doclists, which takes 0.9 s for 300,000 customers' 11 million grams, where a
/// (gram, customer_id) B-tree took 12 s. PostgreSQL: a row of grams per customer in a GIN
/// index, which likewise buffers new postings and merges them in bulk.
/// Either way the candidates are confirmed by substring on `customers.search_text`.
enum SearchIndex {
    /// The values a customer is found by: name, e-mail, phone (with and without `+`), and for
    /// a person the organisations they work for.
    static func values(_ db: any SQLDatabase, _ id: Customer.ID) async throws -> [String] {
        guard let row = try await db.raw("SELECT name, email, phone FROM customers WHERE id = \(bind: id.rawValue)").first() else { return [] }
        let r = Row(row)
        let organisations = try await db.rows("""
            SELECT o.name FROM contacts k JOIN customers o ON o.id = k.organisation_id
            WHERE k.person_id = \(bind: id.rawValue) ORDER BY k.id
            """, { try $0.string("name") })
        return values(name: try r.string("name"), email: try r.optionalString("email"), phone: try r.optionalString("phone"),
                      organisations: organisations)
    }

    /// The values a customer with these fields is found by (a phone also without its `+`).
    static func values(name: String, email: String?, phone: String?, organisations: [String]) -> [String] {
        var values = [name]
        if let email { values.append(email) }
        if let phone { values.append(String(phone.drop(while: { $0 == "+" }))) }
        return values + organisations
    }

    /// The persons working for an organisation: they are found by its name too.
    static func persons(of organisation: Customer.ID, _ db: any SQLDatabase) async throws -> [Customer.ID] {
        try await db.rows("SELECT person_id FROM contacts WHERE organisation_id = \(bind: organisation.rawValue)") { try $0.id("person_id") }
    }

    static func reindex(_ db: any SQLDatabase, _ id: Customer.ID, fresh: Bool = false) async throws {
        let values = try await values(db, id)
        let text = values.map(Normalise.searchKey).joined(separator: "\n")
        try await db.raw("UPDATE customers SET search_text = \(bind: text) WHERE id = \(bind: id.rawValue)").run()
        if !fresh { try await unpost(db, id.rawValue) }
        try await post(db, [(id.rawValue, Array(SearchGrams.grams(of: values)))])
    }

    static func usesFTS(_ db: any SQLDatabase) -> Bool { db.dialect.name == "sqlite" }

    /// Adds customers' grams (new customers, or ones whose postings were just removed).
    static func post(_ db: any SQLDatabase, _ entries: [(id: Int64, grams: [String])]) async throws {
        let dialect: Dialect = usesFTS(db) ? .sqlite : .postgres
        try await post(db, entries.map { ($0.id, Postings($0.grams, dialect: dialect)) })
    }

    /// A customer's grams as the backend posts them: for FTS5, one document of hex tokens;
    /// for PostgreSQL, the grams and their array as a COPY field. Made where the rows are
    /// parsed, on both cores, not in the writer's time (an import of a million customers
    /// spent four seconds of its writer here).
    struct Postings: Sendable {
        let grams: [String]
        let document: String?
        let copyField: CopyLine?

        private init(grams: [String], document: String?, copyField: CopyLine? = nil) {
            self.grams = grams
            self.document = document
            self.copyField = copyField
        }

        init(_ grams: [String], dialect: Dialect) {
            if dialect == .sqlite {
                self.init(grams: grams, document: grams.map(SearchIndex.token).joined(separator: " "))
            } else {
                var field = CopyLine()
                field.texts(grams)
                self.init(grams: grams, document: nil, copyField: field)
            }
        }

        /// The postings of values already in search-key form.
        init(keys: [String], dialect: Dialect) {
            if dialect == .sqlite, let document = SearchIndex.document(ofKeys: keys) {
                self.init(grams: [], document: document)
            } else {
                self.init(Array(SearchGrams.grams(ofKeys: keys)), dialect: dialect)
            }
        }
    }

    /// The FTS5 document of keys' grams, each gram's token once, written straight from the
    /// keys' bytes; nil unless every character of every key is plain (`Normalise.isPlain`),
    /// as nearly all are. Through `SearchGrams.grams(ofKeys:)`, a set of strings, then a
    /// string per token, it was a tenth of an import's CPU time.
    static func document(ofKeys keys: [String]) -> String? {
        var bytes = 0
        for key in keys {
            guard key.unicodeScalars.allSatisfy(Normalise.isPlain) else { return nil }
            bytes += key.utf8.count
        }
        // The grams seen, in an open-addressed table at most a quarter full (a key of n bytes
        // has fewer than 2n grams): a Set's hashing was half this function's time.
        var capacity = 64
        while capacity < 8 * bytes { capacity <<= 1 }
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: capacity) { seen -> String in
            seen.initialize(repeating: 0)
            let mask = capacity - 1
            var out: [UInt8] = []
            out.reserveCapacity(4 * bytes)
            // A gram is at most two plain characters, six bytes: packed with its length, a
            // number never 0 (the table's empty slot).
            func post(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) {
                var packed = UInt64(range.count) << 56
                for i in range { packed = packed << 8 | UInt64(bytes[i]) }
                var slot = Int(truncatingIfNeeded: (packed &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
                while seen[slot] != 0 {
                    if seen[slot] == packed { return }
                    slot = (slot + 1) & mask
                }
                seen[slot] = packed
                if !out.isEmpty { out.append(UInt8(ascii: " ")) }
                for i in range {
                    out.append(hexDigit(bytes[i] >> 4))
                    out.append(hexDigit(bytes[i] & 0x0F))
                }
            }
            for key in keys {
                var key = key
                key.withUTF8 { bytes in
                    // Plain characters are ASCII (one byte), U+00B7 (two) or ideographs (three).
                    var previous: Range<Int>?
                    var i = 0
                    while i < bytes.count {
                        let length = bytes[i] < 0x80 ? 1 : bytes[i] < 0xE0 ? 2 : 3
                        let character = i..<(i + length)
                        if length == 3 { post(bytes, character) }
                        if let previous { post(bytes, previous.lowerBound..<character.upperBound) }
                        previous = character
                        i += length
                    }
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
    }

    static func post(_ db: any SQLDatabase, _ entries: [(id: Int64, postings: Postings)]) async throws {
        if usesFTS(db) {
            // Replacing: posting a customer twice must not leave the first postings behind, as
            // a plain insert would (FTS5 overwrites the document's record, not its postings;
            // the gram table's key refused it). A row at a time: an import's inserts take no
            // savepoint, so FTS5 writes out its buffered postings only at the commit.
            try await ImportRun.insertRows(db, "search_postings", ["rowid", "grams"], entries.map { e in
                ImportRun.InsertRow([.integer(e.id), .text(e.postings.document ?? e.postings.grams.map(token).joined(separator: " "))], .sqlite)
            }, replacing: true)
        } else if entries.count <= 10 {
            // A customer saved through the API: one statement, where COPY takes two round trips.
            try await ImportRun.insertRows(db, "search_postings", ["customer_id", "grams"], entries.map { [bound($0.id), bound($0.postings.grams)] })
        } else {
            try await ImportRun.insertRows(db, "search_postings", ["customer_id", "grams"], entries.map { e in
                var line = CopyLine()
                line.integer(e.id)
                if let field = e.postings.copyField { line.append(field) } else { line.texts(e.postings.grams) }
                return .copy(line)
            })
        }
    }

    static func unpost(_ db: any SQLDatabase, _ id: Int64) async throws {
        if usesFTS(db) {
            try await db.raw("DELETE FROM search_postings WHERE rowid = \(bind: id)").run()
        } else {
            try await db.raw("DELETE FROM search_postings WHERE customer_id = \(bind: id)").run()
        }
    }

    /// A gram as one FTS5 token: its UTF-8 bytes in hex, so an ideograph, `@` or `.` is a
    /// plain ASCII word to the tokenizer (and never one of its operators).
    static func token(_ gram: String) -> String {
        var out = [UInt8]()
        out.reserveCapacity(gram.utf8.count * 2)
        for byte in gram.utf8 {
            out.append(hexDigit(byte >> 4))
            out.append(hexDigit(byte & 0x0F))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `narrowing` is extra conditions on `customers` (owner, tag), applied before the limit.
    static func search(_ db: any SQLDatabase, key: String, limit: Int, narrowing: SQLQueryString = "") async throws -> [CustomerRepository.SearchHit] {
        let grams = SearchGrams.queryGrams(key)
        let candidateIDs = try await candidateScan(db, grams)
        let pattern = "%" + likeEscaped(key) + "%"
        // Candidates in id order from the postings, a slice at a time, each slice confirmed
        // by substring on the customers table, until enough are found. Two plain queries
        // rather than one join: PostgreSQL misjudges how selective the LIKE is and would scan
        // every customer instead of following the gram's postings.
        let wanted = limit * 5
        var candidates: [CustomerRepository.SearchHit] = []
        var after = Int64.min
        var slice = 250 // grows: most queries are answered by the first slice
        while candidates.count < wanted {
            let ids = try await candidateIDs(after, slice)
            guard let last = ids.last else { break }
            after = last
            let found = try await db.rows("SELECT id, kind, name, email, phone FROM customers " + whereIn("id", ids) + narrowing + """
                 AND archived_at IS NULL AND search_text LIKE \(bind: pattern) ESCAPE '\\' ORDER BY id LIMIT \(bind: wanted - candidates.count)
                """) { r in
                CustomerRepository.SearchHit(id: try r.id("id"), kind: try r.enumValue("kind"), name: try r.string("name"),
                                             email: try r.optionalString("email"), phone: try r.optionalString("phone"), organisation: nil)
            }
            candidates += found
            if ids.count < slice { break }
            slice = min(slice * 2, 4_000)
        }
        func rank(_ hit: CustomerRepository.SearchHit) -> Int {
            let name = Normalise.searchKey(hit.name)
            return name == key ? 0 : name.hasPrefix(key) ? 1 : name.contains(key) ? 2 : 3
        }
        var hits = Array(candidates.sorted { (rank($0), $0.id) < (rank($1), $1.id) }.prefix(limit))
        let persons = hits.filter { $0.kind == .person }.map(\.id.rawValue)
        if !persons.isEmpty {
            let sql: SQLQueryString = """
                SELECT k.person_id, MIN(o.name) AS organisation FROM contacts k JOIN customers o ON o.id = k.organisation_id
                WHERE k.person_id IN (\(binds: persons.map { $0 })) GROUP BY k.person_id
                """
            let orgs = Dictionary(uniqueKeysWithValues: try await db.rows(sql) { (try $0.int64("person_id"), try $0.string("organisation")) })
            for i in hits.indices { hits[i].organisation = orgs[hits[i].id.rawValue] }
        }
        return hits
    }

    /// Customers (ids above `after`, in id order, at most `limit`) posted under every gram
    /// of the query.
    private static func candidateScan(_ db: any SQLDatabase, _ grams: [String]) async throws -> (_ after: Int64, _ limit: Int) async throws -> [Int64] {
        if usesFTS(db) {
            // FTS5 walks the grams' doclists together, skipping ahead by rowid.
            let match = grams.map(token).joined(separator: " AND ")
            return { after, limit in
                try await db.rows("""
                    SELECT rowid AS id FROM search_postings WHERE search_postings MATCH \(bind: match) AND rowid > \(bind: after)
                    ORDER BY rowid LIMIT \(bind: limit)
                    """) { try $0.int64("id") }
            }
        }
        // The GIN index intersects the grams' postings itself, skipping through the common
        // ones by the rarest; for common grams the planner walks the primary key instead.
        // The first slice has no lower bound on ids: with one, the planner ANDed the GIN
        // bitmap with a bitmap of the whole primary key.
        return { after, limit in
            let above: SQLQueryString = after == Int64.min ? "" : " AND customer_id > \(bind: after)"
            return try await db.rows("SELECT customer_id FROM search_postings WHERE grams @> \(bind: grams)" + above
                                     + " ORDER BY customer_id LIMIT \(bind: limit)") { try $0.int64("customer_id") }
        }
    }
}
