import CRMCore
import Foundation
import SQLKit

/// A user with what sign-in needs; never leaves the server.
public struct UserCredentials: Sendable {
    public var user: User
    public var passwordHash: String
    public var failedSignIns: Int64
    public var lockedUntil: Date?
}

/// Users and their API tokens. Password and token hashing happen in the server; the store
/// keeps only hashes.
public struct UserRepository: Sendable {
    let database: any StoreDatabase
    public init(database: any StoreDatabase) { self.database = database }
    static let entity = "user"

    /// `actor` is nil only for the command line's bootstrap (`crm user add`, `crm demo`).
    public func create(username: String, displayName: String, role: UserRole, passwordHash: String, locale: String = "zh-Hans",
                       by actor: Actor?, now: Date = Date()) async throws -> User {
        if let actor { try AccessPolicy.require(actor, .manageUsers) }
        let username = username.lowercased()
        var v = Validator()
        v.require(User.validUsername(username), "/username", "must be 2–64 lower-case letters, digits or . _ - @")
        v.require(!Normalise.name(displayName).isEmpty, "/displayName", "must not be empty")
        v.require(["zh-Hans", "en"].contains(locale), "/locale", "must be zh-Hans or en")
        try v.check()
        return try await database.write { db in
            if try await db.raw("SELECT id FROM users WHERE username = \(bind: username)").first() != nil {
                throw DomainError.invalid("/username", "is already taken")
            }
            guard let row = try await db.raw("""
                INSERT INTO users (username, display_name, role, password_hash, locale, disabled, failed_sign_ins, locked_until, created_at)
                VALUES (\(bind: username), \(bind: Normalise.name(displayName)), \(bind: role.rawValue), \(bind: passwordHash),
                        \(bind: locale), FALSE, 0, NULL, \(bind: Instant.format(now)))
                RETURNING id
                """).first() else { throw StoreError.corrupt("insert returned no id") }
            let user = try await Self.fetch(db, User.ID(try row.decode(column: "id", as: Int64.self)))!
            try await AuditLog.append(db, actor: actor, action: .create, entity: Self.entity, entityID: "\(user.id)",
                                      changes: FieldChange.diff(nil as User?, user), at: now)
            return user
        }
    }

    public func update(_ id: User.ID, displayName: String, role: UserRole, locale: String, disabled: Bool, by actor: Actor?, now: Date = Date()) async throws -> User {
        if let actor {
            // Anyone may change their own name and language; role and access are for admins.
            let ownProfileOnly = actor.userID == id
            if !ownProfileOnly { try AccessPolicy.require(actor, .manageUsers) }
        }
        var v = Validator()
        v.require(!Normalise.name(displayName).isEmpty, "/displayName", "must not be empty")
        v.require(["zh-Hans", "en"].contains(locale), "/locale", "must be zh-Hans or en")
        try v.check()
        return try await database.write { db in
            guard let current = try await Self.fetch(db, id) else { throw DomainError.notFound(entity: Self.entity, id: "\(id)") }
            if let actor, actor.userID == id, actor.role != .admin, role != current.role || disabled != current.disabled {
                throw DomainError.forbidden("only an admin may change a role or disable a user")
            }
            try await db.raw("""
                UPDATE users SET display_name = \(bind: Normalise.name(displayName)), role = \(bind: role.rawValue),
                    locale = \(bind: locale), disabled = \(bind: disabled) WHERE id = \(bind: id.rawValue)
                """).run()
            let updated = try await Self.fetch(db, id)!
            try await AuditLog.append(db, actor: actor, action: .update, entity: Self.entity, entityID: "\(id)",
                                      changes: FieldChange.diff(current, updated), at: now)
            return updated
        }
    }

    public func setPassword(_ id: User.ID, hash: String, by actor: Actor?, now: Date = Date()) async throws {
        if let actor, actor.userID != id { try AccessPolicy.require(actor, .manageUsers) }
        try await database.write { db in
            guard try await Self.fetch(db, id) != nil else { throw DomainError.notFound(entity: Self.entity, id: "\(id)") }
            try await db.raw("UPDATE users SET password_hash = \(bind: hash), failed_sign_ins = 0, locked_until = NULL WHERE id = \(bind: id.rawValue)").run()
            try await AuditLog.append(db, actor: actor, action: .update, entity: Self.entity, entityID: "\(id)",
                                      changes: [FieldChange(field: "password", before: nil, after: "(changed)")], at: now)
        }
    }

    public func get(_ id: User.ID) async throws -> User {
        guard let u = try await database.lookup({ db in try await Self.fetch(db, id) }) else {
            throw DomainError.notFound(entity: Self.entity, id: "\(id)")
        }
        return u
    }

    public func list() async throws -> [User] {
        try await database.read { db in try await db.rows("SELECT * FROM users ORDER BY id", Self.decode) }
    }

    public func credentials(username: String) async throws -> UserCredentials? {
        try await database.lookup { db in
            try await db.rows("SELECT * FROM users WHERE username = \(bind: username.lowercased())") { r in
                UserCredentials(user: try Self.decode(r), passwordHash: try r.string("password_hash"),
                                failedSignIns: try r.int64("failed_sign_ins"), lockedUntil: try r.optionalInstant("locked_until"))
            }.first
        }
    }

    /// Counts a failed sign-in and locks the account for `lockFor` after `threshold` failures in a row.
    public func recordFailedSignIn(_ id: User.ID, threshold: Int64 = 5, lockFor: TimeInterval = 300, now: Date = Date()) async throws {
        try await database.write { db in
            try await db.raw("UPDATE users SET failed_sign_ins = failed_sign_ins + 1 WHERE id = \(bind: id.rawValue)").run()
            let failures = try await db.raw("SELECT failed_sign_ins FROM users WHERE id = \(bind: id.rawValue)").first()
                .map { try $0.decode(column: "failed_sign_ins", as: Int64.self) } ?? 0
            if failures >= threshold {
                try await db.raw("UPDATE users SET locked_until = \(bind: Instant.format(now.addingTimeInterval(lockFor))), failed_sign_ins = 0 WHERE id = \(bind: id.rawValue)").run()
            }
        }
    }

    public func recordSignIn(_ id: User.ID) async throws {
        try await database.write { db in
            try await db.raw("UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE id = \(bind: id.rawValue)").run()
        }
    }

    // MARK: tokens

    public func createToken(for userID: User.ID, name: String, scope: APIToken.Scope, hash: String, by actor: Actor?, now: Date = Date()) async throws -> APIToken {
        if let actor { try AccessPolicy.require(actor, .manageTokens(ofUser: userID)) }
        let name = Normalise.name(name)
        guard !name.isEmpty, name.count <= 100 else { throw DomainError.invalid("/name", "must be 1 to 100 characters") }
        return try await database.write { db in
            guard try await Self.fetch(db, userID) != nil else { throw DomainError.invalid("/userID", "no user has id \(userID)") }
            guard let row = try await db.raw("""
                INSERT INTO api_tokens (user_id, name, scope, token_hash, created_at, last_used_at, revoked_at)
                VALUES (\(bind: userID.rawValue), \(bind: name), \(bind: scope.rawValue), \(bind: hash), \(bind: Instant.format(now)), NULL, NULL)
                RETURNING id
                """).first() else { throw StoreError.corrupt("insert returned no id") }
            let token = try await db.rows("SELECT * FROM api_tokens WHERE id = \(bind: try row.decode(column: "id", as: Int64.self))", Self.decodeToken)[0]
            try await AuditLog.append(db, actor: actor, action: .create, entity: "token", entityID: "\(token.id)",
                                      changes: FieldChange.diff(nil as APIToken?, token), at: now)
            return token
        }
    }

    public func tokens(of userID: User.ID?, by actor: Actor?) async throws -> [APIToken] {
        if let actor { try AccessPolicy.require(actor, .manageTokens(ofUser: userID ?? actor.userID)) }
        return try await database.read { db in
            if let userID {
                return try await db.rows("SELECT * FROM api_tokens WHERE user_id = \(bind: userID.rawValue) ORDER BY id", Self.decodeToken)
            }
            return try await db.rows("SELECT * FROM api_tokens ORDER BY id", Self.decodeToken)
        }
    }

    public func revokeToken(_ id: APIToken.ID, by actor: Actor?, now: Date = Date()) async throws {
        try await database.write { db in
            guard let token = try await db.rows("SELECT * FROM api_tokens WHERE id = \(bind: id.rawValue)", Self.decodeToken).first else {
                throw DomainError.notFound(entity: "token", id: "\(id)")
            }
            if let actor { try AccessPolicy.require(actor, .manageTokens(ofUser: token.userID)) }
            if token.revokedAt != nil { return }
            try await db.raw("UPDATE api_tokens SET revoked_at = \(bind: Instant.format(now)) WHERE id = \(bind: id.rawValue)").run()
            try await AuditLog.append(db, actor: actor, action: .revoke, entity: "token", entityID: "\(id)",
                                      changes: [FieldChange(field: "revokedAt", before: nil, after: Instant.format(now))], at: now)
        }
    }

    /// The live token with this hash and its enabled user, or nil.
    public func authenticate(tokenHash: String, now: Date = Date()) async throws -> (APIToken, User)? {
        let found = try await database.lookup { db in
            try await db.rows("""
                SELECT t.*, u.username, u.display_name, u.role, u.locale, u.disabled, u.created_at AS user_created_at
                FROM api_tokens t JOIN users u ON u.id = t.user_id
                WHERE t.token_hash = \(bind: tokenHash) AND t.revoked_at IS NULL AND u.disabled = FALSE
                """) { r -> (APIToken, User) in
                let token = try Self.decodeToken(r)
                let user = User(id: try r.id("user_id"), username: try r.string("username"), displayName: try r.string("display_name"),
                                role: try r.enumValue("role"), locale: try r.string("locale"), disabled: try r.bool("disabled"),
                                createdAt: try r.instant("user_created_at"))
                return (token, user)
            }.first
        }
        // Record use at most once a minute, so authenticating is not a write per request.
        if let (token, _) = found, (token.lastUsedAt.map { now.timeIntervalSince($0) > 60 } ?? true) {
            try await database.write { db in
                try await db.raw("UPDATE api_tokens SET last_used_at = \(bind: Instant.format(now)) WHERE id = \(bind: token.id.rawValue)").run()
            }
        }
        return found
    }

    static func fetch(_ db: any SQLDatabase, _ id: User.ID) async throws -> User? {
        try await db.rows("SELECT * FROM users WHERE id = \(bind: id.rawValue)", decode).first
    }

    static func decode(_ r: Row) throws -> User {
        User(id: try r.id("id"), username: try r.string("username"), displayName: try r.string("display_name"), role: try r.enumValue("role"),
             locale: try r.string("locale"), disabled: try r.bool("disabled"), createdAt: try r.instant("created_at"))
    }

    static func decodeToken(_ r: Row) throws -> APIToken {
        APIToken(id: try r.id("id"), userID: try r.id("user_id"), name: try r.string("name"), scope: try r.enumValue("scope"),
                 createdAt: try r.instant("created_at"), lastUsedAt: try r.optionalInstant("last_used_at"),
                 revokedAt: try r.optionalInstant("revoked_at"))
    }
}
