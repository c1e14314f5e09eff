import CRMCore
import Foundation
import SQLKit

/// The append-only audit log. Entries are written in the same transaction as the change
/// they describe, so a change without its entry (or the reverse) cannot be committed.
public struct AuditLog: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    static func append(_ db: any SQLDatabase, actor: Actor?, action: AuditEntry.Action, entity: String, entityID: String?,
                       changes: [FieldChange], at now: Date = Date()) async throws {
        try await db.raw("""
            INSERT INTO audit_log (at, actor_id, actor_name, action, entity, entity_id, changes)
            VALUES (\(bind: Instant.format(now)), \(bind: actor?.userID.rawValue), \(bind: actor?.name ?? "system"),
                    \(bind: action.rawValue), \(bind: entity), \(bind: entityID), \(bind: try JSONColumn.text(changes)))
            """).run()
    }

    /// Records an event that is not a data change (sign-in, failed sign-in) in its own transaction.
    public func record(actor: Actor?, actorName: String? = nil, action: AuditEntry.Action, entity: String, entityID: String?) async throws {
        try await database.write { db in
            try await db.raw("""
                INSERT INTO audit_log (at, actor_id, actor_name, action, entity, entity_id, changes)
                VALUES (\(bind: Instant.now()), \(bind: actor?.userID.rawValue), \(bind: actor?.name ?? actorName ?? "anonymous"),
                        \(bind: action.rawValue), \(bind: entity), \(bind: entityID), '[]')
                """).run()
        }
    }

    public struct Query: Sendable {
        public var entity: String?
        public var entityID: String?
        public var actorID: User.ID?
        public var action: AuditEntry.Action?
        public var since: Date?
        public var cursor: String?
        public var limit: Int

        public init(entity: String? = nil, entityID: String? = nil, actorID: User.ID? = nil, action: AuditEntry.Action? = nil,
                    since: Date? = nil, cursor: String? = nil, limit: Int = 50) {
            self.entity = entity; self.entityID = entityID; self.actorID = actorID; self.action = action
            self.since = since; self.cursor = cursor; self.limit = limit
        }
    }

    /// Newest first. Readable by managers and admins.
    public func list(_ q: Query, by actor: Actor) async throws -> Page<AuditEntry> {
        try AccessPolicy.require(actor, .readAudit)
        let limit = min(max(q.limit, 1), 500)
        let before = try q.cursor.map { try Cursor(decoding: $0).id }
        return try await database.read { db in
            let select = SQLQueryString("SELECT * FROM audit_log WHERE 1=1")
            var query = select
            if let e = q.entity { query = query + " AND entity = \(bind: e)" }
            if let e = q.entityID { query = query + " AND entity_id = \(bind: e)" }
            if let a = q.actorID { query = query + " AND actor_id = \(bind: a.rawValue)" }
            if let a = q.action { query = query + " AND action = \(bind: a.rawValue)" }
            if let s = q.since { query = query + " AND at >= \(bind: Instant.format(s))" }
            if let b = before { query = query + " AND id < \(bind: b)" }
            query = query + " ORDER BY id DESC LIMIT \(bind: limit + 1)"
            let entries = try await db.rows(query, Self.decode)
            let page = Array(entries.prefix(limit))
            return Page(items: page, nextCursor: entries.count > limit ? Cursor(value: nil, id: page.last!.id.rawValue).encoded : nil)
        }
    }

    static func decode(_ r: Row) throws -> AuditEntry {
        AuditEntry(id: try r.id("id"), at: try r.instant("at"), actorID: try r.optionalID("actor_id"),
                   actorName: try r.string("actor_name"), action: try r.enumValue("action"), entity: try r.string("entity"),
                   entityID: try r.optionalString("entity_id"), changes: try r.json("changes"))
    }
}
