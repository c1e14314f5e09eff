import Foundation

/// A party in the broad sense of 客户的内涵: a person or an organisation that may be a
/// customer, a prospect, a supplier, a partner or another stakeholder, in any combination.
public struct Customer: Sendable, Codable, Equatable {
    public typealias ID = Identifier<Customer>

    public enum Kind: String, Sendable, Codable, CaseIterable {
        case person, organisation
    }

    public var id: ID
    public var kind: Kind
    public var name: String
    public var roles: [CustomerRole]
    public var email: String?
    public var phone: String?
    public var profile: CustomerProfile
    public var tags: [String]
    public var source: String?
    public var ownerID: User.ID?
    public var customFields: [String: CustomFieldValue]
    /// An identifier in another system (the import's upsert key); unique when present.
    public var externalID: String?
    public var archivedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    /// Optimistic-concurrency version; the ETag is derived from it.
    public var version: Int64

    public init(id: ID, kind: Kind, name: String, roles: [CustomerRole], email: String? = nil, phone: String? = nil,
                profile: CustomerProfile = CustomerProfile(), tags: [String] = [], source: String? = nil,
                ownerID: User.ID? = nil, customFields: [String: CustomFieldValue] = [:], externalID: String? = nil,
                archivedAt: Date? = nil, createdAt: Date, updatedAt: Date, version: Int64) {
        self.id = id; self.kind = kind; self.name = name; self.roles = roles; self.email = email; self.phone = phone
        self.profile = profile; self.tags = tags; self.source = source; self.ownerID = ownerID
        self.customFields = customFields; self.externalID = externalID; self.archivedAt = archivedAt
        self.createdAt = createdAt; self.updatedAt = updatedAt; self.version = version
    }
}

/// The roles a party plays for the firm (利益相关者).
public enum CustomerRole: String, Sendable, Codable, CaseIterable {
    case customer, prospect, supplier, partner, stakeholder
}

public enum Gender: String, Sendable, Codable, CaseIterable {
    case female, male, other, unknown
}

/// Channels through which the firm reaches a customer; consents are per channel.
public enum ContactChannel: String, Sendable, Codable, CaseIterable {
    case phone, email, sms, wechat, post, visit
}

/// The four personality styles of domain §5, on the axes of sociability and control.
public enum PersonalityStyle: String, Sendable, Codable, CaseIterable {
    case analytical, driver, expressive, amiable
}

/// The "rich profile" of domain §1: what a salesperson needs to know before the call.
public struct CustomerProfile: Sendable, Codable, Equatable {
    public var gender: Gender?
    public var birthday: CalendarDate?
    public var hobbies: [String]
    public var familyNotes: String?
    public var preferredChannel: ContactChannel?
    /// IANA zone the contact windows are read in (Asia/Shanghai unless told otherwise).
    public var timeZone: String
    public var contactWindows: [ContactWindow]
    public var doNotContact: [DoNotContactPeriod]
    public var personalityStyle: PersonalityStyle?
    /// What was observed that suggests the style: office, dress, speech, punctuality.
    public var personalityEvidence: String?
    public var industry: String?

    public init(gender: Gender? = nil, birthday: CalendarDate? = nil, hobbies: [String] = [], familyNotes: String? = nil,
                preferredChannel: ContactChannel? = nil, timeZone: String = "Asia/Shanghai",
                contactWindows: [ContactWindow] = [], doNotContact: [DoNotContactPeriod] = [],
                personalityStyle: PersonalityStyle? = nil, personalityEvidence: String? = nil, industry: String? = nil) {
        self.gender = gender; self.birthday = birthday; self.hobbies = hobbies; self.familyNotes = familyNotes
        self.preferredChannel = preferredChannel; self.timeZone = timeZone; self.contactWindows = contactWindows
        self.doNotContact = doNotContact; self.personalityStyle = personalityStyle
        self.personalityEvidence = personalityEvidence; self.industry = industry
    }
}

/// A good time to reach the customer (选择合适的时间联系客户): a weekday and a time range,
/// in the customer's own time zone.
public struct ContactWindow: Sendable, Codable, Equatable {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    public var weekday: Int
    /// `HH:MM`, 24-hour.
    public var start: String
    public var end: String

    public init(weekday: Int, start: String, end: String) {
        self.weekday = weekday; self.start = start; self.end = end
    }

    static func minutes(_ hhmm: String) -> Int? {
        let parts = hhmm.split(separator: ":")
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
              let h = Int(parts[0]), let m = Int(parts[1]), (0...23).contains(h), (0...59).contains(m) else { return nil }
        return h * 60 + m
    }
}

/// A period in which the customer must not be contacted (mourning, exams, a complaint in progress).
public struct DoNotContactPeriod: Sendable, Codable, Equatable {
    public var from: CalendarDate
    public var to: CalendarDate
    public var reason: String?

    public init(from: CalendarDate, to: CalendarDate, reason: String? = nil) {
        self.from = from; self.to = to; self.reason = reason
    }
}

/// What a client sends to create or replace a customer; the server fills in id, times, version.
public struct CustomerInput: Sendable, Codable, Equatable {
    public var kind: Customer.Kind
    public var name: String
    public var roles: [CustomerRole]
    public var email: String?
    public var phone: String?
    public var profile: CustomerProfile
    public var tags: [String]
    public var source: String?
    public var ownerID: User.ID?
    public var customFields: [String: CustomFieldValue]
    public var externalID: String?

    public init(kind: Customer.Kind, name: String, roles: [CustomerRole] = [.customer], email: String? = nil,
                phone: String? = nil, profile: CustomerProfile = CustomerProfile(), tags: [String] = [],
                source: String? = nil, ownerID: User.ID? = nil, customFields: [String: CustomFieldValue] = [:],
                externalID: String? = nil) {
        self.kind = kind; self.name = name; self.roles = roles; self.email = email; self.phone = phone
        self.profile = profile; self.tags = tags; self.source = source; self.ownerID = ownerID
        self.customFields = customFields; self.externalID = externalID
    }

    /// Validates and normalises: names folded and trimmed, e-mail lower-cased, phone in
    /// E.164, tags de-duplicated, custom fields checked against their definitions.
    /// Every problem is reported with its JSON pointer.
    public func normalised(customFieldDefinitions: [CustomFieldDefinition], defaultCountryCode: String = "86") throws(DomainError) -> CustomerInput {
        var v = Validator()
        var out = self
        out.name = Normalise.name(name)
        v.require(!out.name.isEmpty, "/name", "must not be empty")
        v.require(out.name.count <= 200, "/name", "must be at most 200 characters")
        v.require(!roles.isEmpty, "/roles", "must name at least one role")
        out.roles = Array(Set(roles)).sorted { $0.rawValue < $1.rawValue }
        if let email, !Normalise.trimmed(email).isEmpty {
            if let e = Normalise.email(email) { out.email = e } else { v.add("/email", "is not an e-mail address") }
        } else { out.email = nil }
        if let phone, !Normalise.trimmed(phone).isEmpty {
            if let p = Normalise.phone(phone, defaultCountryCode: defaultCountryCode) { out.phone = p } else { v.add("/phone", "is not a phone number") }
        } else { out.phone = nil }
        var seen = Set<String>()
        out.tags = tags.map(Normalise.name).filter { !$0.isEmpty && seen.insert($0).inserted }
        for (i, tag) in out.tags.enumerated() where tag.count > 50 { v.add("/tags/\(i)", "must be at most 50 characters") }
        out.source = source.map(Normalise.name).flatMap { $0.isEmpty ? nil : $0 }
        out.externalID = externalID.map(Normalise.trimmed).flatMap { $0.isEmpty ? nil : $0 }
        out.profile.hobbies = profile.hobbies.map(Normalise.name).filter { !$0.isEmpty }
        if TimeZone(identifier: profile.timeZone) == nil { v.add("/profile/timeZone", "is not an IANA time zone such as Asia/Shanghai") }
        if let b = profile.birthday, b > CalendarDate(utc: Date()) { v.add("/profile/birthday", "is in the future") }
        for (i, w) in profile.contactWindows.enumerated() {
            v.require((1...7).contains(w.weekday), "/profile/contactWindows/\(i)/weekday", "must be 1 (Monday) to 7 (Sunday)")
            let s = ContactWindow.minutes(w.start), e = ContactWindow.minutes(w.end)
            v.require(s != nil, "/profile/contactWindows/\(i)/start", "must be HH:MM")
            v.require(e != nil, "/profile/contactWindows/\(i)/end", "must be HH:MM")
            if let s, let e { v.require(s < e, "/profile/contactWindows/\(i)/end", "must be after start") }
        }
        for (i, p) in profile.doNotContact.enumerated() {
            v.require(p.from <= p.to, "/profile/doNotContact/\(i)/to", "must not be before from")
        }
        if kind == .organisation && (profile.gender != nil || profile.birthday != nil) {
            v.add(profile.gender != nil ? "/profile/gender" : "/profile/birthday", "applies to persons only")
        }
        v.merge(CustomFieldDefinition.validate(customFields, against: customFieldDefinitions))
        try v.check()
        return out
    }
}

/// A person acting for an organisation in its buying (客户 ≠ 消费者: the firm buys,
/// its people decide, use and influence).
public struct Contact: Sendable, Codable, Equatable {
    public typealias ID = Identifier<Contact>
    public var id: ID
    public var organisationID: Customer.ID
    public var personID: Customer.ID
    public var jobTitle: String?
    public var buyingRole: BuyingRole?
    /// 0–100: how much this person sways the organisation's decision.
    public var influence: Int
    public var createdAt: Date
    public var version: Int64

    public init(id: ID, organisationID: Customer.ID, personID: Customer.ID, jobTitle: String?, buyingRole: BuyingRole?, influence: Int, createdAt: Date, version: Int64) {
        self.id = id; self.organisationID = organisationID; self.personID = personID; self.jobTitle = jobTitle
        self.buyingRole = buyingRole; self.influence = influence; self.createdAt = createdAt; self.version = version
    }
}

/// Roles in an organisation's buying centre: 决策者, 影响者, 使用者, gatekeeper, 内线.
public enum BuyingRole: String, Sendable, Codable, CaseIterable {
    case decisionMaker, influencer, user, gatekeeper, insideCoach
}

extension CustomerInput {
    /// The input that reproduces `customer` (for updates that change one field).
    public init(_ customer: Customer) {
        self.init(kind: customer.kind, name: customer.name, roles: customer.roles, email: customer.email, phone: customer.phone,
                  profile: customer.profile, tags: customer.tags, source: customer.source, ownerID: customer.ownerID,
                  customFields: customer.customFields, externalID: customer.externalID)
    }
}
