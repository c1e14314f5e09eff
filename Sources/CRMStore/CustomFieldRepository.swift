import CRMCore
import Foundation
import SQLKit

/// Admin-defined profile fields. Definitions are read inside each customer write so a
/// value is always validated against the definitions current in that transaction.
public struct CustomFieldRepository: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    static let entity = "customField"

    public func list() async throws -> [CustomFieldDefinition] {
        try await database.read { db in try await Self.definitions(db) }
    }

    public func create(_ definition: CustomFieldDefinition, by actor: Actor, now: Date = Date()) async throws -> CustomFieldDefinition {
        try AccessPolicy.require(actor, .manageCustomFields)
        let d = try definition.validated()
        return try await database.write { db in
            if try await db.raw("SELECT key FROM custom_fields WHERE key = \(bind: d.key)").first() != nil {
                throw DomainError.invalid("/key", "a custom field \(d.key) already exists")
            }
            try await db.raw("""
                INSERT INTO custom_fields (key, label, label_zh, kind, options, required, created_at)
                VALUES (\(bind: d.key), \(bind: d.label), \(bind: d.labelZh), \(bind: d.kind.rawValue),
                        \(bind: try JSONColumn.text(d.options)), \(bind: d.required), \(bind: Instant.format(now)))
                """).run()
            try await AuditLog.append(db, actor: actor, action: .create, entity: Self.entity, entityID: d.key,
                                      changes: FieldChange.diff(nil as CustomFieldDefinition?, d), at: now)
            return d
        }
    }

    /// Changes the label, options or whether it is required; the key and kind are fixed
    /// because stored values were validated against them.
    public func update(_ key: String, _ definition: CustomFieldDefinition, by actor: Actor, now: Date = Date()) async throws -> CustomFieldDefinition {
        try AccessPolicy.require(actor, .manageCustomFields)
        let d = try definition.validated()
        return try await database.write { db in
            guard let current = try await Self.definitions(db).first(where: { $0.key == key }) else {
                throw DomainError.notFound(entity: Self.entity, id: key)
            }
            if d.key != key { throw DomainError.invalid("/key", "cannot be changed") }
            if d.kind != current.kind { throw DomainError.invalid("/kind", "cannot be changed once values may exist") }
            try await db.raw("""
                UPDATE custom_fields SET label = \(bind: d.label), label_zh = \(bind: d.labelZh),
                    options = \(bind: try JSONColumn.text(d.options)), required = \(bind: d.required) WHERE key = \(bind: key)
                """).run()
            try await AuditLog.append(db, actor: actor, action: .update, entity: Self.entity, entityID: key,
                                      changes: FieldChange.diff(current, d), at: now)
            return d
        }
    }

    static func definitions(_ db: any SQLDatabase) async throws -> [CustomFieldDefinition] {
        try await db.rows("SELECT * FROM custom_fields ORDER BY key") { r in
            CustomFieldDefinition(key: try r.string("key"), label: try r.string("label"), labelZh: try r.optionalString("label_zh"),
                                  kind: try r.enumValue("kind"), options: try r.json("options"), required: try r.bool("required"))
        }
    }
}
