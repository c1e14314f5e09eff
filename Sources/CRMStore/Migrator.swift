import Foundation
import Logging
import SQLKit

/// One forward-only schema change. Old migrations are never edited: a change to the
/// schema is a new migration with the next number.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    /// The DDL statements, per dialect (most are shared; see `Schema.sql`).
    public let statements: @Sendable (Dialect) -> [String]

    public init(version: Int, name: String, statements: @escaping @Sendable (Dialect) -> [String]) {
        self.version = version
        self.name = name
        self.statements = statements
    }
}

/// Applies pending migrations in order, each in its own transaction together with its
/// row in `schema_migrations`, so a failed migration leaves the schema as it was.
public struct Migrator: Sendable {
    public let database: any StoreDatabase
    public let migrations: [Migration]
    public let logger: Logger

    public init(database: any StoreDatabase, migrations: [Migration] = Schema.migrations, logger: Logger) {
        self.database = database
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.logger = logger
    }

    /// Returns the versions it applied.
    @discardableResult
    public func migrate() async throws -> [Int] {
        try await database.write { db in
            try await db.raw("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)
                """).run()
        }
        var applied: [Int] = []
        for migration in migrations {
            let dialect = database.dialect
            let didApply = try await database.write { db -> Bool in
                if dialect == .postgres {
                    // Two servers starting at once must not both apply the same migration.
                    try await db.raw("SELECT pg_advisory_xact_lock(7244183)").run()
                }
                let done = try await db.raw("SELECT version FROM schema_migrations WHERE version = \(bind: migration.version)").first()
                if done != nil { return false }
                for statement in migration.statements(dialect) {
                    try await db.raw(SQLQueryString(statement)).run()
                }
                try await db.raw("""
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Instant.now()))
                    """).run()
                return true
            }
            if didApply {
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }

    public func appliedVersions() async throws -> [Int] {
        try await database.read { db in
            try await db.raw("SELECT version FROM schema_migrations ORDER BY version").all().map { try $0.decode(column: "version", as: Int.self) }
        }
    }
}

import CRMCore

extension Instant {
    static func now() -> String { format(Date()) }
}
