import CRMCore
import Foundation
import SQLKit

/// A customer list with its filters, saved under a name by one user ("my gold customers at
/// risk"), so the list a salesperson checks every Monday is one click away.
public struct SavedView: Sendable, Equatable {
    public typealias ID = Identifier<SavedView>
    public var id: ID
    public var userID: User.ID
    public var name: String
    /// The list's query string, as the list page writes it (`tier=gold&churn=high`).
    public var query: String
}

public struct SavedViewRepository: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    public func views(of user: User.ID) async throws -> [SavedView] {
        try await database.read { db in
            try await db.rows("SELECT * FROM saved_views WHERE user_id = \(bind: user.rawValue) ORDER BY name", Self.decode)
        }
    }

    /// Saves the actor's own view; a view of the same name is replaced.
    public func save(name: String, query: String, by actor: Actor, now: Date = Date()) async throws -> SavedView {
        let clean = Normalise.name(name)
        var v = Validator()
        v.require(!clean.isEmpty && clean.count <= 60, "/name", "must be 1 to 60 characters")
        v.require(query.utf8.count <= 2_000, "/query", "must be at most 2,000 characters")
        try v.check()
        return try await database.write { db in
            try await db.raw("""
                INSERT INTO saved_views (user_id, name, query, created_at)
                VALUES (\(bind: actor.userID.rawValue), \(bind: clean), \(bind: query), \(bind: Instant.format(now)))
                ON CONFLICT (user_id, name) DO UPDATE SET query = excluded.query
                """).run()
            return try await db.rows("SELECT * FROM saved_views WHERE user_id = \(bind: actor.userID.rawValue) AND name = \(bind: clean)", Self.decode)[0]
        }
    }

    /// Deletes one of the actor's own views (another user's is not found).
    public func delete(_ id: SavedView.ID, by actor: Actor) async throws {
        try await database.write { db in
            let rows = try await db.rows("DELETE FROM saved_views WHERE id = \(bind: id.rawValue) AND user_id = \(bind: actor.userID.rawValue) RETURNING id") {
                try $0.int64("id")
            }
            if rows.isEmpty { throw DomainError.notFound(entity: "saved view", id: "\(id)") }
        }
    }

    static func decode(_ row: Row) throws -> SavedView {
        SavedView(id: SavedView.ID(try row.int64("id")), userID: User.ID(try row.int64("user_id")), name: try row.string("name"),
                  query: try row.string("query"))
    }
}
