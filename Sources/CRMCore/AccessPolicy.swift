/// Who is acting: a signed-in user, or an integration holding one of their API tokens.
public struct Actor: Sendable, Equatable {
    public var userID: User.ID
    public var name: String
    public var role: UserRole
    /// Nil for a browser session; a token's scope otherwise (a read token never writes).
    public var tokenScope: APIToken.Scope?

    public init(userID: User.ID, name: String, role: UserRole, tokenScope: APIToken.Scope? = nil) {
        self.userID = userID; self.name = name; self.role = role; self.tokenScope = tokenScope
    }
}

/// The kinds of record hung on a customer, which departments write according to their work.
public enum CustomerRecordKind: String, Sendable, CaseIterable {
    case order, contact, interaction, task, consent
}

/// Everything the permission rules distinguish (domain §12).
public enum Permission: Sendable, Equatable {
    case readCustomers
    case createCustomer
    /// Update or archive a customer with this owner.
    case editCustomer(ownerID: User.ID?)
    /// Write an order, contact, interaction, task or consent on a customer with this owner.
    case writeRecord(CustomerRecordKind, customerOwnerID: User.ID?)
    case writeProducts
    case readAudit
    case readUsers
    case manageUsers
    case manageTokens(ofUser: User.ID)
    case manageCustomFields
    /// Run the customer-base analysis now (managers and admins).
    case refreshAnalytics
    /// Change the analysis's cut-offs and rules (admins).
    case manageAnalyticsSettings

    var isRead: Bool {
        switch self {
        case .readCustomers, .readAudit, .readUsers: return true
        default: return false
        }
    }
}

/// The permission matrix in one place: sales edit the customers they own and read the
/// others; managers and admins edit all; marketing and service read customers and write
/// their own kinds of records; only admins manage users, others' tokens and custom fields.
public enum AccessPolicy {
    public static func allows(_ actor: Actor, _ permission: Permission) -> Bool {
        if actor.tokenScope == .read && !permission.isRead { return false }
        switch (actor.role, permission) {
        case (.admin, _): return true
        case (_, .readCustomers), (_, .readUsers): return true
        case (_, .manageTokens(let owner)): return owner == actor.userID
        case (_, .manageUsers), (_, .manageCustomFields), (_, .manageAnalyticsSettings): return false
        case (.manager, _): return true
        case (_, .readAudit), (_, .writeProducts), (_, .refreshAnalytics): return false
        case (.sales, .createCustomer): return true
        case (.sales, .editCustomer(let owner)): return owner == actor.userID
        case (.sales, .writeRecord(_, let owner)): return owner == actor.userID
        case (.marketing, .writeRecord(let kind, _)): return [.interaction, .consent, .task].contains(kind)
        case (.service, .writeRecord(let kind, _)): return [.interaction, .consent, .task].contains(kind)
        case (.marketing, _), (.service, _): return false
        }
    }

    public static func require(_ actor: Actor, _ permission: Permission) throws(DomainError) {
        guard allows(actor, permission) else {
            throw .forbidden("the \(actor.role.rawValue) role\(actor.tokenScope == .read ? " with a read-only token" : "") may not do this")
        }
    }
}
