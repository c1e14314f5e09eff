import CRMCore
import Foundation
import SQLKit

/// Saved column mappings ("the trade-show export", "the old CRM's customer list"), so a
/// file that comes every month is imported the same way each time.
public struct ImportProfileRepository: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    /// The mapping saved under `name` (header → field; `""` ignores a column), or nil.
    public func mapping(named name: String) async throws -> [String: String]? {
        try await database.read { db in
            try await db.rows("SELECT mapping FROM import_profiles WHERE name = \(bind: name)") { try $0.json("mapping", [String: String].self) }.first
        }
    }

    public func names() async throws -> [String] {
        try await database.read { db in try await db.rows("SELECT name FROM import_profiles ORDER BY name") { try $0.string("name") } }
    }

    /// Saves (or replaces) a profile; anyone who may import may save one. Audited.
    public func save(_ name: String, mapping: [String: String], by actor: Actor, now: Date = Date()) async throws {
        try AccessPolicy.require(actor, .createCustomer)
        let clean = Normalise.name(name)
        guard !clean.isEmpty, clean.count <= 100 else { throw DomainError.invalid("/profile", "must be 1 to 100 characters") }
        for field in mapping.values where !field.isEmpty && CustomerImportField(named: field) == nil {
            throw DomainError.invalid("/mapping/\(field)", "is not a customer field")
        }
        let text = try JSONColumn.encoder.encode(mapping)
        try await database.write { db in
            let before = try await db.rows("SELECT mapping FROM import_profiles WHERE name = \(bind: clean)") { try $0.string("mapping") }.first
            try await db.raw("""
                INSERT INTO import_profiles (name, mapping, updated_at, updated_by)
                VALUES (\(bind: clean), \(bind: String(decoding: text, as: UTF8.self)), \(bind: Instant.format(now)), \(bind: actor.userID.rawValue))
                ON CONFLICT (name) DO UPDATE SET mapping = excluded.mapping, updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """).run()
            try await AuditLog.append(db, actor: actor, action: before == nil ? .create : .update, entity: "importProfile", entityID: clean,
                                      changes: [FieldChange(field: "mapping", before: before, after: String(decoding: text, as: UTF8.self))], at: now)
        }
    }
}
