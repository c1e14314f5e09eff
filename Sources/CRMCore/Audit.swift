import Foundation

/// One line of the append-only audit log: who did what to which record, and for an
/// update each changed field with its value before and after.
public struct AuditEntry: Sendable, Codable, Equatable {
    public typealias ID = Identifier<AuditEntry>

    public enum Action: String, Sendable, Codable, CaseIterable {
        case create, update, archive, merge, signIn, signInFailed, revoke
    }

    public var id: ID
    public var at: Date
    public var actorID: User.ID?
    /// The actor's name at the time, kept even if the user is later renamed or disabled.
    public var actorName: String
    public var action: Action
    public var entity: String
    public var entityID: String?
    public var changes: [FieldChange]

    public init(id: ID, at: Date, actorID: User.ID?, actorName: String, action: Action, entity: String, entityID: String?, changes: [FieldChange]) {
        self.id = id; self.at = at; self.actorID = actorID; self.actorName = actorName; self.action = action
        self.entity = entity; self.entityID = entityID; self.changes = changes
    }
}

public struct FieldChange: Sendable, Codable, Equatable {
    public var field: String
    public var before: String?
    public var after: String?

    public init(field: String, before: String?, after: String?) {
        self.field = field; self.before = before; self.after = after
    }

    /// The changed fields between two encodable values, compared as flattened JSON, so
    /// that the audit of every entity comes from one rule instead of per-type lists.
    public static func diff<T: Encodable>(_ before: T?, _ after: T?, ignoring: Set<String> = ["version", "updatedAt", "createdAt", "id"]) -> [FieldChange] {
        let a = before.map(flatten) ?? [:]
        let b = after.map(flatten) ?? [:]
        return Set(a.keys).union(b.keys).filter { !ignoring.contains($0) && a[$0] != b[$0] }.sorted()
            .map { FieldChange(field: $0, before: a[$0], after: b[$0]) }
    }

    static func flatten<T: Encodable>(_ value: T) -> [String: String] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, enc in
            var c = enc.singleValueContainer(); try c.encode(Instant.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value),
              let tree = try? JSONDecoder().decode(JSONValue.self, from: data) else { return [:] }
        var out: [String: String] = [:]
        func walk(_ node: JSONValue, _ path: String) {
            switch node {
            case .object(let dict):
                for (k, v) in dict { walk(v, path.isEmpty ? k : "\(path).\(k)") }
            case .null:
                return
            default:
                out[path] = node.text
            }
        }
        walk(tree, "")
        return out
    }
}

/// A JSON tree, for the few places that handle JSON generically (audit diffs).
public indirect enum JSONValue: Sendable, Codable, Equatable {
    case null, bool(Bool), integer(Int64), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .integer(i) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .integer(let i): try c.encode(i)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// Scalars as plain text; arrays of scalars comma-joined; anything nested as compact JSON.
    public var text: String {
        switch self {
        case .null: return ""
        case .bool(let b): return b ? "true" : "false"
        case .integer(let i): return String(i)
        case .number(let d): return String(d)
        case .string(let s): return s
        case .array(let a) where a.allSatisfy({ if case .array = $0 { return false }; if case .object = $0 { return false }; return true }):
            return a.map(\.text).joined(separator: ", ")
        default:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }
}

extension FieldChange {
    /// The audit of a new customer, the same as `diff(nil, customer)` but built directly,
    /// without a JSON round trip: an import creates a million at a time. Customers with
    /// contact windows, do-not-contact periods or numeric custom fields take the general way.
    public static func created(_ c: Customer) -> [FieldChange] {
        let simple = c.profile.contactWindows.isEmpty && c.profile.doNotContact.isEmpty
            && c.customFields.values.allSatisfy { if case .text = $0 { true } else { false } }
        guard simple else { return diff(nil as Customer?, c) }
        var f: [String: String] = [
            "kind": c.kind.rawValue, "name": c.name, "roles": c.roles.map(\.rawValue).joined(separator: ", "),
            "tags": c.tags.joined(separator: ", "), "profile.hobbies": c.profile.hobbies.joined(separator: ", "),
            "profile.timeZone": c.profile.timeZone, "profile.contactWindows": "", "profile.doNotContact": "",
        ]
        f["email"] = c.email
        f["phone"] = c.phone
        f["source"] = c.source
        f["ownerID"] = c.ownerID.map { String($0.rawValue) }
        f["externalID"] = c.externalID
        f["archivedAt"] = c.archivedAt.map(Instant.format)
        f["profile.gender"] = c.profile.gender?.rawValue
        f["profile.birthday"] = c.profile.birthday?.description
        f["profile.familyNotes"] = c.profile.familyNotes
        f["profile.preferredChannel"] = c.profile.preferredChannel?.rawValue
        f["profile.personalityStyle"] = c.profile.personalityStyle?.rawValue
        f["profile.personalityEvidence"] = c.profile.personalityEvidence
        f["profile.industry"] = c.profile.industry
        for (key, value) in c.customFields { f["customFields.\(key)"] = value.description }
        return f.keys.sorted().map { FieldChange(field: $0, before: nil, after: f[$0]) }
    }

    /// The audit of a new order, the same as `diff(nil, order)` built directly (an import
    /// creates millions).
    public static func created(_ o: Order) -> [FieldChange] {
        let t = o.totals
        var lines = "["
        for (i, l) in o.lines.enumerated() {
            if i > 0 { lines += "," }
            lines += "{\"discount\":\(l.discount),\"onPromotion\":\(l.onPromotion),\"productID\":\(l.productID.rawValue),"
                + "\"quantity\":\(l.quantity),\"unitCost\":\(l.unitCost),\"unitPrice\":\(l.unitPrice)}"
        }
        lines += "]"
        var f: [String: String] = [
            "customerID": String(o.customerID.rawValue), "orderDate": o.orderDate.description, "currency": o.currency.code,
            "lines": lines, "totals.revenue": String(t.revenue), "totals.cost": String(t.cost),
            "totals.promotionRevenue": String(t.promotionRevenue), "totals.profit": String(t.profit),
        ]
        f["channel"] = o.channel
        f["externalID"] = o.externalID
        return f.keys.sorted().map { FieldChange(field: $0, before: nil, after: f[$0]) }
    }
}
