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
    public func write(_ query: CustomerRepository.Query, format: Format, to output: FileHandle, by actor: Actor,
                      progress: (@Sendable (Int) -> Void)? = nil) async throws -> Int {
        let chunks = try chunks(query, format: format, by: actor)
        var iterator = chunks.makeAsyncIterator()
        while let chunk = try await iterator.next() {
            output.write(Data(chunk))
            progress?(iterator.written)
        }
        return iterator.written
    }

    /// The export as a sequence of byte chunks, one page of customers each, read from the
    /// database only as the consumer asks for more (a slow HTTP client holds nothing up).
    public func chunks(_ query: CustomerRepository.Query, format: Format, by actor: Actor) throws -> Chunks {
        try AccessPolicy.require(actor, .readCustomers)
        var q = query
        q.sort = .id
        q.cursor = nil
        q.limit = Self.pageSize
        return Chunks(exporter: self, query: q, format: format)
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
            var query: CustomerRepository.Query
            var started = false
            var finished = false
            var customFields: [String] = []
            var owners: [Int64: String] = [:]
            public private(set) var written = 0

            init(chunks: Chunks) {
                self.chunks = chunks
                query = chunks.query
            }

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
                let page = try await exporter.customers.page(query, maxLimit: CustomerExporter.pageSize)
                var text = ""
                text.reserveCapacity(page.items.count * 200)
                for c in page.items {
                    switch chunks.format {
                    case .csv: text += CustomerExporter.csvLine(c, owners: owners, customFields: customFields)
                    case .jsonl:
                        text += String(decoding: try CustomerExporter.encoder.encode(c), as: UTF8.self)
                        text += "\n"
                    }
                }
                written += page.items.count
                bytes += Array(text.utf8)
                if let next = page.nextCursor { query.cursor = next } else { finished = true }
                return bytes.isEmpty && finished ? nil : bytes
            }
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, e in var c = e.singleValueContainer(); try c.encode(Instant.format(date)) }
        return encoder
    }()

    static func csvLine(_ c: Customer, owners: [Int64: String], customFields: [String]) -> String {
        let p = c.profile
        var fields: [String] = [
            c.externalID ?? "", String(c.id.rawValue), c.kind.rawValue, c.name, c.roles.map(\.rawValue).joined(separator: ";"),
            c.email ?? "", c.phone ?? "", c.tags.joined(separator: ";"), c.source ?? "", c.ownerID.flatMap { owners[$0.rawValue] } ?? "",
            p.gender?.rawValue ?? "", p.birthday?.description ?? "", p.industry ?? "", p.preferredChannel?.rawValue ?? "", p.timeZone,
            p.hobbies.joined(separator: ";"), p.personalityStyle?.rawValue ?? "", Instant.format(c.createdAt), Instant.format(c.updatedAt),
            c.archivedAt.map(Instant.format) ?? "",
        ]
        for key in customFields { fields.append(c.customFields[key]?.description ?? "") }
        return fields.map(ImportProblemFile.quoted).joined(separator: ",") + "\r\n"
    }
}
