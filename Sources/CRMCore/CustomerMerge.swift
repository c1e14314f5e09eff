import Foundation

/// Two records of one party made one: the survivor keeps its id and takes, field by field,
/// the values chosen; everything attached to the other record moves to it; the other record
/// is archived, marked as merged. A merge can be undone exactly while the survivor has not
/// changed since.
public struct CustomerMerge: Sendable, Codable, Equatable {
    public typealias ID = Identifier<CustomerMerge>

    /// Which record a field's value is taken from.
    public enum Side: String, Sendable, Codable, CaseIterable {
        case survivor, merged
    }

    /// The fields whose value can be chosen. Roles and tags are always the union; custom
    /// fields are chosen by `custom.<key>`.
    public static let choosableFields = ["name", "email", "phone", "gender", "birthday", "hobbies", "familyNotes", "preferredChannel",
                                         "timeZone", "contactWindows", "doNotContact", "personalityStyle", "personalityEvidence",
                                         "industry", "source", "owner", "externalID"]

    public var id: ID
    public var survivorID: Customer.ID
    public var mergedID: Customer.ID
    public var mergedAt: Date
    public var mergedBy: User.ID?
    /// How many records of each kind moved to the survivor (orders, interactions, …).
    public var moved: [String: Int]
    public var undoneAt: Date?

    public init(id: ID, survivorID: Customer.ID, mergedID: Customer.ID, mergedAt: Date, mergedBy: User.ID?, moved: [String: Int], undoneAt: Date?) {
        self.id = id; self.survivorID = survivorID; self.mergedID = mergedID; self.mergedAt = mergedAt; self.mergedBy = mergedBy
        self.moved = moved; self.undoneAt = undoneAt
    }

    /// The survivor's data after the merge. A field not chosen keeps the survivor's value, or
    /// takes the merged record's where the survivor has none (nothing known is lost by default).
    public static func combine(survivor: Customer, merged: Customer, choices: [String: Side]) throws(DomainError) -> CustomerInput {
        var v = Validator()
        for key in choices.keys.sorted() where !choosableFields.contains(key) {
            if key.hasPrefix("custom.") {
                let k = String(key.dropFirst(7))
                if survivor.customFields[k] == nil && merged.customFields[k] == nil { v.add("/choices/\(key)", "neither record has this custom field") }
            } else {
                v.add("/choices/\(key)", "is not a field that can be chosen (\(choosableFields.joined(separator: ", ")), custom.<key>)")
            }
        }
        if survivor.id == merged.id { v.add("/mergedID", "must be another customer than the survivor") }
        if survivor.kind != merged.kind { v.add("/mergedID", "is a \(merged.kind.rawValue); a \(survivor.kind.rawValue) can only be merged with a \(survivor.kind.rawValue)") }
        if merged.archivedAt != nil { v.add("/mergedID", "is archived") }
        if survivor.archivedAt != nil { v.add("/survivorID", "is archived") }
        try v.check()

        func pick<T>(_ field: String, _ path: KeyPath<Customer, T?>) -> T? {
            switch choices[field] {
            case .merged: merged[keyPath: path]
            case .survivor: survivor[keyPath: path]
            case nil: survivor[keyPath: path] ?? merged[keyPath: path]
            }
        }
        func pickList<T>(_ field: String, _ path: KeyPath<Customer, [T]>) -> [T] {
            switch choices[field] {
            case .merged: merged[keyPath: path]
            case .survivor: survivor[keyPath: path]
            case nil: survivor[keyPath: path].isEmpty ? merged[keyPath: path] : survivor[keyPath: path]
            }
        }
        var out = CustomerInput(survivor)
        out.name = choices["name"] == .merged ? merged.name : survivor.name
        out.email = pick("email", \.email)
        out.phone = pick("phone", \.phone)
        out.source = pick("source", \.source)
        out.ownerID = pick("owner", \.ownerID)
        out.externalID = pick("externalID", \.externalID)
        out.profile.gender = pick("gender", \.profile.gender)
        out.profile.birthday = pick("birthday", \.profile.birthday)
        out.profile.familyNotes = pick("familyNotes", \.profile.familyNotes)
        out.profile.preferredChannel = pick("preferredChannel", \.profile.preferredChannel)
        out.profile.personalityStyle = pick("personalityStyle", \.profile.personalityStyle)
        out.profile.personalityEvidence = pick("personalityEvidence", \.profile.personalityEvidence)
        out.profile.industry = pick("industry", \.profile.industry)
        out.profile.timeZone = choices["timeZone"] == .merged ? merged.profile.timeZone : survivor.profile.timeZone
        out.profile.hobbies = pickList("hobbies", \.profile.hobbies)
        out.profile.contactWindows = pickList("contactWindows", \.profile.contactWindows)
        out.profile.doNotContact = pickList("doNotContact", \.profile.doNotContact)
        out.roles = Array(Set(survivor.roles + merged.roles)).sorted { $0.rawValue < $1.rawValue }
        out.tags = survivor.tags + merged.tags.filter { !survivor.tags.contains($0) }
        var custom = merged.customFields.merging(survivor.customFields, uniquingKeysWith: { _, s in s })
        for (key, side) in choices where key.hasPrefix("custom.") {
            let k = String(key.dropFirst(7))
            custom[k] = side == .merged ? merged.customFields[k] : survivor.customFields[k]
        }
        out.customFields = custom
        return out
    }
}
