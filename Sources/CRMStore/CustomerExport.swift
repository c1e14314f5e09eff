import CRMCore
import Foundation

/// Streams a filtered customer list to CSV or JSON Lines, a page at a time, so memory stays
/// flat at any size. The CSV starts with a UTF-8 byte-order mark (so Excel shows Chinese
/// correctly) and its headers are the import's field names: an export imports back as it is.
public struct CustomerExporter: Sendable {
    public enum Format: String, Sendable, Codable, CaseIterable {
        case csv, jsonl
    }

    let database: any StoreDatabase
    let customers: CustomerRepository

    public init(database: any StoreDatabase, customers: CustomerRepository) {
        self.database = database
        self.customers = customers
    }

    static let baseColumns = ["external_id", "id", "kind", "name", "roles", "email", "phone", "tags", "source", "owner", "gender",
                              "birthday", "industry", "preferred_channel", "time_zone", "hobbies", "personality_style", "created_at",
                              "updated_at", "archived_at"]

    /// Writes every customer `query` selects (its sort, cursor and limit are ignored: the
    /// export runs in id order to the end) and returns how many were written.
    public func write(_ query: CustomerRepository.Query, format: Format, to output: FileHandle, by actor: Actor) async throws -> Int {
        let chunks = try chunks(query, format: format, by: actor)
        var iterator = chunks.makeAsyncIterator()
        while let chunk = try await iterator.next() { output.write(Data(chunk)) }
        return iterator.written
    }

    /// The export as a sequence of byte chunks, one page of customers each, read from the
    /// database only as the consumer asks for more (a slow HTTP client holds nothing up).
    public func chunks(_ query: CustomerRepository.Query, format: Format, by actor: Actor) throws -> Chunks {
        try AccessPolicy.require(actor, .readCustomers)
        return Chunks(exporter: self, query: query, format: format)
    }

    static let pageSize = 5_000

    public struct Chunks: AsyncSequence, Sendable {
        public typealias Element = [UInt8]
        let exporter: CustomerExporter
        let query: CustomerRepository.Query
        let format: Format

        public func makeAsyncIterator() -> Iterator { Iterator(chunks: self) }

        public struct Iterator: AsyncIteratorProtocol {
            let chunks: Chunks
            var afterID = Int64.min
            var started = false
            var finished = false
            var customFields: [String] = []
            var owners: [Int64: String] = [:]
            public private(set) var written = 0

            init(chunks: Chunks) { self.chunks = chunks }

            public mutating func next() async throws -> [UInt8]? {
                if finished { return nil }
                let exporter = chunks.exporter
                var bytes: [UInt8] = []
                if !started {
                    started = true
                    customFields = try await exporter.database.read { db in try await CustomFieldRepository.definitions(db) }.map(\.key)
                    let users = try await exporter.database.read { db in
                        try await db.rows("SELECT id, username FROM users") { (try $0.int64("id"), try $0.string("username")) }
                    }
                    owners = Dictionary(users, uniquingKeysWith: { a, _ in a })
                    if chunks.format == .csv {
                        let header = CustomerExporter.baseColumns + customFields.map { "custom.\($0)" }
                        bytes = [0xEF, 0xBB, 0xBF] + Array((header.joined(separator: ",") + "\r\n").utf8)
                    }
                }
                // A page is read, then formatted on every core: decoding and formatting took
                // the time, the database (on PostgreSQL, another process) a fraction.
                let lines: [(Int64, String)]
                switch chunks.format {
                case .csv:
                    let owners = owners, customFields = customFields
                    let rows = try await exporter.customers.rows(chunks.query, columns: CustomerExporter.csvColumns, afterID: afterID,
                                                                 limit: CustomerExporter.pageSize)
                    lines = try await CustomerExporter.formatted(rows) { r in
                        CustomerExporter.line(r) { try CustomerExporter.csvLine($0, owners: owners, customFields: customFields) }
                    }
                case .jsonl:
                    let rows = try await exporter.customers.rows(chunks.query, columns: "c.*", afterID: afterID, limit: CustomerExporter.pageSize)
                    lines = try await CustomerExporter.formatted(rows) { r in
                        CustomerExporter.line(r) {
                            String(decoding: try CustomerExporter.encoder.encode(try CustomerRepository.decode($0)), as: UTF8.self) + "\n"
                        }
                    }
                }
                var text = ""
                text.reserveCapacity(lines.count * 200)
                for (_, line) in lines { text += line }
                written += lines.count
                bytes += Array(text.utf8)
                if let last = lines.last, lines.count == CustomerExporter.pageSize { afterID = last.0 } else { finished = true }
                return bytes.isEmpty && finished ? nil : bytes
            }
        }
    }

    static let csvColumns = "c.id, c.external_id, c.kind, c.name, c.roles, c.email, c.phone, c.tags, c.source, c.owner_id, c.gender, "
        + "c.birthday, c.industry, c.preferred_channel, c.time_zone, c.hobbies, c.personality_style, c.created_at, c.updated_at, "
        + "c.archived_at, c.custom_fields"

    /// A page's lines, made on every core. The work is handed to a Dispatch queue rather
    /// than done on the calling Swift concurrency thread: those are only as many as the
    /// cores (and NIO's blocking pool, the other choice, runs SQLite's queries), and a
    /// server that is exporting must keep answering other requests meanwhile.
    static func formatted(_ rows: [Row], _ make: @escaping @Sendable (Row) -> Result<(Int64, String), any Error>) async throws -> [(Int64, String)] {
        try await withCheckedThrowingContinuation { done in
            DispatchQueue.global(qos: .utility).async {
                done.resume(with: Result { try rows.concurrentMap(minimumPerChunk: 250, make).map { try $0.get() } })
            }
        }
    }

    /// A customer's id and line, or an error naming the customer: the lines of a page are
    /// made on several threads, and the first failure in row order is the one thrown.
    static func line(_ r: Row, _ make: (Row) throws -> String) -> Result<(Int64, String), any Error> {
        Result { (try r.int64("id"), try make(r)) }.mapError { error in
            StoreError.corrupt("customer \((try? r.int64("id")).map(String.init) ?? "without an id") cannot be exported: \(error)")
        }
    }

    /// One customer as a CSV line, straight from the stored columns (instants as stored).
    static func csvLine(_ r: Row, owners: [Int64: String], customFields: [String]) throws -> String {
        let tags: [String] = try r.json("tags"), hobbies: [String] = try r.json("hobbies")
        var fields: [String] = [
            try r.optionalString("external_id") ?? "", String(try r.int64("id")), try r.string("kind"), try r.string("name"),
            try r.string("roles").replacingOccurrences(of: ",", with: ";"), try r.optionalString("email") ?? "",
            try r.optionalString("phone") ?? "", tags.joined(separator: ";"), try r.optionalString("source") ?? "",
            try r.optionalInt64("owner_id").flatMap { owners[$0] } ?? "", try r.optionalString("gender") ?? "",
            try r.optionalString("birthday") ?? "", try r.optionalString("industry") ?? "", try r.optionalString("preferred_channel") ?? "",
            try r.string("time_zone"), hobbies.joined(separator: ";"), try r.optionalString("personality_style") ?? "",
            try r.string("created_at"), try r.string("updated_at"), try r.optionalString("archived_at") ?? "",
        ]
        if !customFields.isEmpty {
            let values: [String: CustomFieldValue] = try r.json("custom_fields")
            for key in customFields { fields.append(values[key]?.description ?? "") }
        }
        return fields.map(ImportProblemFile.quoted).joined(separator: ",") + "\r\n"
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, e in var c = e.singleValueContainer(); try c.encode(Instant.format(date)) }
        return encoder
    }()

}
