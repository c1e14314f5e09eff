import Foundation

/// A field of a customer that a CSV column can fill. Headers are recognised in English
/// and in Chinese (the names an Excel sheet from a Chinese office uses); a custom field by
/// its key or either label.
public enum CustomerImportField: ImportField, Codable {
    case externalID, kind, name, roles, email, phone, tags, source, owner, gender, birthday, industry
    case preferredChannel, timeZone, familyNotes, hobbies, personalityStyle
    /// The organisation a person works for (by name): the person becomes its contact.
    case organisation, jobTitle, buyingRole
    case custom(String)

    /// Header names recognised without a saved mapping, compared after `Normalise.searchKey`
    /// with `_`, `-` and spaces removed.
    public static let synonyms: [CustomerImportField: [String]] = [
        .externalID: ["externalid", "customerid", "外部编号", "客户编号", "编号"],
        .kind: ["kind", "type", "类型", "客户类型"],
        .name: ["name", "fullname", "customername", "姓名", "名称", "客户名称", "客户", "名字"],
        .roles: ["roles", "role", "角色"],
        .email: ["email", "mail", "emailaddress", "邮箱", "电子邮件", "电子邮箱", "邮件"],
        .phone: ["phone", "mobile", "tel", "telephone", "phonenumber", "电话", "手机", "手机号", "手机号码", "联系电话"],
        .tags: ["tags", "tag", "标签"],
        .source: ["source", "来源", "客户来源"],
        .owner: ["owner", "负责人", "销售", "客户经理"],
        .gender: ["gender", "sex", "性别"],
        .birthday: ["birthday", "birthdate", "dateofbirth", "生日", "出生日期"],
        .industry: ["industry", "行业"],
        .preferredChannel: ["preferredchannel", "channel", "偏好渠道", "联系方式偏好"],
        .timeZone: ["timezone", "时区"],
        .familyNotes: ["familynotes", "family", "家庭"],
        .hobbies: ["hobbies", "hobby", "interests", "爱好", "兴趣"],
        .personalityStyle: ["personalitystyle", "personality", "性格", "性格类型"],
        .organisation: ["organisation", "organization", "company", "employer", "公司", "单位", "工作单位", "所属公司"],
        .jobTitle: ["jobtitle", "title", "position", "职位", "职务"],
        .buyingRole: ["buyingrole", "采购角色"],
    ]

    public var description: String {
        switch self {
        case .externalID: "externalID"
        case .kind: "kind"
        case .name: "name"
        case .roles: "roles"
        case .email: "email"
        case .phone: "phone"
        case .tags: "tags"
        case .source: "source"
        case .owner: "owner"
        case .gender: "gender"
        case .birthday: "birthday"
        case .industry: "industry"
        case .preferredChannel: "preferredChannel"
        case .timeZone: "timeZone"
        case .familyNotes: "familyNotes"
        case .hobbies: "hobbies"
        case .personalityStyle: "personalityStyle"
        case .organisation: "organisation"
        case .jobTitle: "jobTitle"
        case .buyingRole: "buyingRole"
        case .custom(let key): "custom.\(key)"
        }
    }


    public static let required: [CustomerImportField] = [.name]

    public static func custom(_ key: String) -> CustomerImportField? {
        // Typed as the enum, so `.custom` is the case and not this function calling itself.
        let field: CustomerImportField = .custom(key)
        return field
    }

    public var customKey: String? {
        if case .custom(let key) = self { key } else { nil }
    }
}

/// Which column of a customer file fills which field.
public typealias CustomerImportMapping = ImportMapping<CustomerImportField>

/// One thing wrong with one CSV row: row number as a spreadsheet shows it (the header is
/// row 1), the column, the value found and why it was refused.
public struct ImportProblem: Sendable, Equatable, Codable {
    public var row: Int
    public var column: String
    public var value: String
    public var reason: String

    public init(row: Int, column: String, value: String, reason: String) {
        self.row = row; self.column = column; self.value = value; self.reason = reason
    }
}

/// One CSV row turned into a customer input, plus what only an import knows: the owner
/// and organisation by name, the contact's job title and buying role.
public struct CustomerImportRow: Sendable, Equatable {
    public var row: Int
    public var input: CustomerInput
    public var ownerUsername: String?
    public var organisation: String?
    public var jobTitle: String?
    public var buyingRole: BuyingRole?
    /// Whether the row gave a time zone (an update keeps the stored one otherwise).
    public var timeZoneGiven = false

    /// Reads one row. Every unreadable value is reported (not just the first); a row with
    /// problems yields none of its data.
    public static func parse(_ values: [String], row: Int, mapping: CustomerImportMapping, defaults: CustomerImportDefaults,
                             customFields: [CustomFieldDefinition]) -> Result<CustomerImportRow, ImportProblems> {
        var cells = ImportCells(values, row: row, mapping: mapping)
        if let wrongWidth = cells.wrongWidth { return .failure(ImportProblems([wrongWidth])) }
        func value(_ field: CustomerImportField) -> String? { cells.value(field) }
        func problem(_ field: CustomerImportField, _ reason: String) { cells.problem(field, reason) }
        var kind = Customer.Kind.person
        if let k = value(.kind) {
            switch Normalise.searchKey(k) {
            case "person", "individual", "个人", "人": kind = .person
            case "organisation", "organization", "company", "business", "企业", "公司", "组织", "单位", "机构": kind = .organisation
            default: problem(.kind, "must be person or organisation (个人 / 企业)")
            }
        }
        var roles = defaults.roles
        if let r = value(.roles) {
            roles = []
            for part in split(r) {
                if let role = CustomerRole(rawValue: part.lowercased()) ?? Self.chineseRoles[part] { roles.append(role) } else {
                    problem(.roles, "\(part) is not a role (customer, prospect, supplier, partner, stakeholder)")
                }
            }
        }
        var profile = CustomerProfile()
        if let g = value(.gender) {
            switch Normalise.searchKey(g) {
            case "female", "f", "女", "woman": profile.gender = .female
            case "male", "m", "男", "man": profile.gender = .male
            case "other", "其他": profile.gender = .other
            case "unknown", "未知": profile.gender = .unknown
            default: problem(.gender, "must be female, male, other or unknown (女 / 男)")
            }
        }
        if let b = value(.birthday) {
            if let d = parseDate(b) { profile.birthday = d } else { problem(.birthday, "is not a date (YYYY-MM-DD)") }
        }
        profile.industry = value(.industry)
        profile.familyNotes = value(.familyNotes)
        profile.hobbies = value(.hobbies).map(split) ?? []
        if let c = value(.preferredChannel) {
            if let channel = ContactChannel(rawValue: c.lowercased()) { profile.preferredChannel = channel } else {
                problem(.preferredChannel, "must be one of \(ContactChannel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        if let p = value(.personalityStyle) {
            if let style = PersonalityStyle(rawValue: p.lowercased()) { profile.personalityStyle = style } else {
                problem(.personalityStyle, "must be one of \(PersonalityStyle.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        if let tz = value(.timeZone) { profile.timeZone = tz } else { profile.timeZone = defaults.timeZone }
        var buyingRole: BuyingRole?
        if let b = value(.buyingRole) {
            if let role = BuyingRole(rawValue: b) { buyingRole = role } else {
                problem(.buyingRole, "must be one of \(BuyingRole.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        var custom: [String: CustomFieldValue] = [:]
        for case .custom(let key) in mapping.fields.values {
            guard let text = value(.custom(key)), let def = customFields.first(where: { $0.key == key }) else { continue }
            switch def.kind {
            case .number:
                // "nan" and "inf" parse, but no JSON can hold them.
                if let n = Double(text), n.isFinite { custom[key] = .number(n) } else { problem(.custom(key), "must be a number") }
            case .date:
                if let d = parseDate(text) { custom[key] = .text(d.description) } else { problem(.custom(key), "is not a date (YYYY-MM-DD)") }
            case .text, .choice:
                custom[key] = .text(text)
            }
        }
        var input = CustomerInput(kind: kind, name: value(.name) ?? "", roles: roles, email: value(.email), phone: value(.phone),
                                  profile: profile, tags: (value(.tags).map(split) ?? []) + defaults.tags,
                                  source: value(.source) ?? defaults.source, ownerID: nil, customFields: custom,
                                  externalID: value(.externalID))
        if cells.problems.isEmpty {
            do {
                input = try input.normalised(customFieldDefinitions: customFields, defaultCountryCode: defaults.countryCode)
            } catch {
                if case .invalid(let issues) = error {
                    for issue in issues { problem(Self.field(for: issue.pointer), issue.reason) }
                } else {
                    cells.problems.append(ImportProblem(row: row, column: "", value: "", reason: "\(error)"))
                }
            }
        }
        if kind == .organisation && value(.organisation) != nil {
            problem(.organisation, "applies to persons only: an organisation does not work for another")
        }
        if !cells.problems.isEmpty { return .failure(ImportProblems(cells.problems)) }
        return .success(CustomerImportRow(row: row, input: input, ownerUsername: value(.owner), organisation: value(.organisation).map(Normalise.name),
                                          jobTitle: value(.jobTitle), buyingRole: buyingRole, timeZoneGiven: value(.timeZone) != nil))
    }

    static let chineseRoles: [String: CustomerRole] = [
        "客户": .customer, "潜在客户": .prospect, "供应商": .supplier, "合作伙伴": .partner, "利益相关者": .stakeholder,
    ]

    /// Lists in a cell: `a;b`, `a, b`, `a、b`, `a，b`.
    static func split(_ text: String) -> [String] {
        text.split(whereSeparator: { ";,；，、|".contains($0) }).map(Normalise.trimmed).filter { !$0.isEmpty }
    }

    /// ISO dates, and the forms spreadsheets in China produce: 2024/3/5, 2024.3.5, 2024年3月5日.
    public static func parseDate(_ text: String) -> CalendarDate? {
        if let d = CalendarDate(text) { return d }
        let parts = text.split(whereSeparator: { "-/.年月日 ".contains($0) })
        guard parts.count == 3, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), parts[0].count == 4 else { return nil }
        return CalendarDate(year: y, month: m, day: d)
    }

    static func field(for pointer: String) -> CustomerImportField {
        switch pointer {
        case "/name": .name
        case "/email": .email
        case "/phone": .phone
        case "/roles": .roles
        case "/source": .source
        case "/externalID": .externalID
        case "/profile/timeZone": .timeZone
        case "/profile/birthday": .birthday
        case "/profile/gender": .gender
        default:
            if pointer.hasPrefix("/tags") { .tags } else if pointer.hasPrefix("/customFields/") {
                .custom(String(pointer.dropFirst("/customFields/".count)))
            } else { .name }
        }
    }
}

/// The problems of one row, as an error.
public struct ImportProblems: Error, Sendable, Equatable {
    public var problems: [ImportProblem]
    public init(_ problems: [ImportProblem]) { self.problems = problems }
}

/// What an import fills in where the file says nothing (a trade show's business cards:
/// role prospect, source and campaign, an owner).
public struct CustomerImportDefaults: Sendable, Equatable {
    public var roles: [CustomerRole]
    public var source: String?
    public var tags: [String]
    public var timeZone: String
    public var countryCode: String

    public init(roles: [CustomerRole] = [.customer], source: String? = nil, tags: [String] = [], timeZone: String = "Asia/Shanghai",
                countryCode: String = "86") {
        self.roles = roles; self.source = source; self.tags = tags; self.timeZone = timeZone; self.countryCode = countryCode
    }
}
