/// One thing wrong with one input field. `pointer` is a JSON Pointer into the request
/// body (`/email`, `/lines/2/quantity`) so a client can put the message beside the field.
public struct ValidationIssue: Hashable, Sendable, Codable {
    public var pointer: String
    public var reason: String

    public init(pointer: String, reason: String) {
        self.pointer = pointer
        self.reason = reason
    }
}

/// What can go wrong in the domain, said in the domain's terms. The server maps each case
/// once, at the edge, to an HTTP status and a problem+json body.
public enum DomainError: Error, Equatable, Sendable {
    case invalid([ValidationIssue])
    case notFound(entity: String, id: String)
    /// The record changed since the client read it (If-Match did not match).
    case staleVersion(entity: String, id: String, current: Int64)
    case forbidden(String)
    case conflict(String)
    case unauthenticated(String)

    public static func invalid(_ pointer: String, _ reason: String) -> DomainError {
        .invalid([ValidationIssue(pointer: pointer, reason: reason)])
    }
}

extension DomainError: CustomStringConvertible {
    /// What a person reads (the command line prints errors so): each bad field and why.
    public var description: String {
        switch self {
        case .invalid(let issues): issues.map { "\($0.pointer) \($0.reason)" }.joined(separator: "; ")
        case .notFound(let entity, let id): "no \(entity) has id \(id)"
        case .staleVersion(let entity, let id, let current): "\(entity) \(id) changed meanwhile (now version \(current))"
        case .forbidden(let why): "not allowed: \(why)"
        case .conflict(let why): why
        case .unauthenticated(let why): why
        }
    }
}

/// Collects issues so a form or a CSV row reports every bad field at once, not just the first.
public struct Validator: Sendable {
    public private(set) var issues: [ValidationIssue] = []

    public init() {}

    public mutating func add(_ pointer: String, _ reason: String) {
        issues.append(ValidationIssue(pointer: pointer, reason: reason))
    }

    public mutating func require(_ condition: Bool, _ pointer: String, _ reason: String) {
        if !condition { add(pointer, reason) }
    }

    public mutating func merge(_ other: [ValidationIssue], prefix: String = "") {
        issues.append(contentsOf: other.map { ValidationIssue(pointer: prefix + $0.pointer, reason: $0.reason) })
    }

    public func check() throws(DomainError) {
        if !issues.isEmpty { throw .invalid(issues) }
    }
}
