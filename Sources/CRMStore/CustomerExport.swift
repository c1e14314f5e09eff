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
        try AccessPolicy.require(actor, .readCustomers)
        let customFields = try await database.read { db in try await CustomFieldRepository.definitions(db) }.map(\.key)
        let usernames = try await database.read { db in
            try await db.rows("SELECT id, username FROM users") { (try $0.int64("id"), try $0.string("username")) }
        }
        let owners = Dictionary(usernames, uniquingKeysWith: { a, _ in a })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, e in var c = e.singleValueContainer(); try c.encode(Instant.format(date)) }
        if format == .csv {
            let header = Self.baseColumns + customFields.map { "custom.\($0)" }
            output.write(Data([0xEF, 0xBB, 0xBF] + Array((header.joined(separator: ",") + "\r\n").utf8)))
        }
        var q = query
        q.sort = .id
        q.cursor = nil
        q.limit = 5_000
        var written = 0
        while true {
            let page = try await customers.page(q, maxLimit: 5_000)
            var text = ""
            text.reserveCapacity(page.items.count * 200)
            for c in page.items {
                switch format {
                case .csv: text += Self.csvLine(c, owners: owners, customFields: customFields)
                case .jsonl:
                    text += String(decoding: try encoder.encode(c), as: UTF8.self)
                    text += "\n"
                }
            }
            output.write(Data(text.utf8))
            written += page.items.count
            progress?(written)
            guard let next = page.nextCursor else { break }
            q.cursor = next
        }
        return written
    }

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
