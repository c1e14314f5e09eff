import Foundation

/// A person who signs in: what they may do follows from their role (domain §12).
public struct User: Sendable, Codable, Equatable {
    public typealias ID = Identifier<User>
    public var id: ID
    public var username: String
    public var displayName: String
    public var role: UserRole
    public var locale: String
    public var disabled: Bool
    public var createdAt: Date

    public init(id: ID, username: String, displayName: String, role: UserRole, locale: String = "zh-Hans", disabled: Bool = false, createdAt: Date) {
        self.id = id; self.username = username; self.displayName = displayName; self.role = role
        self.locale = locale; self.disabled = disabled; self.createdAt = createdAt
    }
}

/// 管理员, 经理, 销售, 市场, 客服.
public enum UserRole: String, Sendable, Codable, CaseIterable {
    case admin, manager, sales, marketing, service
}

/// A credential for an integration: stored as a hash, shown once, revocable.
public struct APIToken: Sendable, Codable, Equatable {
    public typealias ID = Identifier<APIToken>
    public enum Scope: String, Sendable, Codable, CaseIterable { case read, readWrite }
    public var id: ID
    public var userID: User.ID
    public var name: String
    public var scope: Scope
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(id: ID, userID: User.ID, name: String, scope: Scope, createdAt: Date, lastUsedAt: Date? = nil, revokedAt: Date? = nil) {
        self.id = id; self.userID = userID; self.name = name; self.scope = scope
        self.createdAt = createdAt; self.lastUsedAt = lastUsedAt; self.revokedAt = revokedAt
    }
}

extension User {
    /// Usernames are lower-case ASCII (letters, digits, . _ -), 2–64 characters.
    public static func validUsername(_ name: String) -> Bool {
        (2...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "._-@".contains($0)) }
    }
}
