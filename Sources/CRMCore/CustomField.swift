/// A field an administrator adds to the customer profile; its values are validated like
/// the built-in fields, and an unknown key is an error rather than silently stored.
public struct CustomFieldDefinition: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case text, number, date, choice
    }

    /// Lower-case ASCII identifier (`preferred_store`), stable across renames of the label.
    public var key: String
    public var label: String
    public var labelZh: String?
    public var kind: Kind
    /// The allowed values of a `choice` field.
    public var options: [String]
    public var required: Bool

    public init(key: String, label: String, labelZh: String? = nil, kind: Kind, options: [String] = [], required: Bool = false) {
        self.key = key; self.label = label; self.labelZh = labelZh; self.kind = kind; self.options = options; self.required = required
    }

    public func validated() throws(DomainError) -> CustomFieldDefinition {
        var v = Validator()
        let keyOK = !key.isEmpty && key.count <= 40 && key.first!.isLetter &&
            key.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }
        v.require(keyOK, "/key", "must be lower-case ASCII letters, digits and _ starting with a letter (at most 40)")
        v.require(!label.trimmingCharacters(in: .whitespaces).isEmpty, "/label", "must not be empty")
        if kind == .choice { v.require(!options.isEmpty, "/options", "a choice field needs at least one option") }
        else { v.require(options.isEmpty, "/options", "only choice fields have options") }
        try v.check()
        return self
    }

    /// Checks every value against its definition; pointers are `/customFields/<key>`.
    public static func validate(_ values: [String: CustomFieldValue], against definitions: [CustomFieldDefinition]) -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        let byKey = Dictionary(definitions.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        for key in values.keys.sorted() {
            let pointer = "/customFields/\(key)"
            guard let definition = byKey[key] else {
                issues.append(ValidationIssue(pointer: pointer, reason: "is not a defined custom field"))
                continue
            }
            switch (definition.kind, values[key]!) {
            case (.text, .text(let s)):
                if s.count > 2000 { issues.append(ValidationIssue(pointer: pointer, reason: "must be at most 2000 characters")) }
            case (.number, .number): break
            case (.date, .text(let s)):
                if CalendarDate(s) == nil { issues.append(ValidationIssue(pointer: pointer, reason: "must be a date YYYY-MM-DD")) }
            case (.choice, .text(let s)):
                if !definition.options.contains(s) {
                    issues.append(ValidationIssue(pointer: pointer, reason: "must be one of: \(definition.options.joined(separator: ", "))"))
                }
            case (.number, _): issues.append(ValidationIssue(pointer: pointer, reason: "must be a number"))
            default: issues.append(ValidationIssue(pointer: pointer, reason: "must be text"))
            }
        }
        for definition in definitions where definition.required && values[definition.key] == nil {
            issues.append(ValidationIssue(pointer: "/customFields/\(definition.key)", reason: "is required"))
        }
        return issues
    }
}

/// A custom field's value as it travels in JSON: a string (text, date, choice) or a number.
public enum CustomFieldValue: Sendable, Codable, Equatable, CustomStringConvertible {
    case text(String)
    case number(Double)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let d = try? c.decode(Double.self) { self = .number(d) } else { self = .text(try c.decode(String.self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .text(let s): try c.encode(s)
        case .number(let d): try c.encode(d)
        }
    }

    public var description: String {
        switch self {
        case .text(let s): return s
        case .number(let d): return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        }
    }
}
