import CRMCore
import Plot

/// Create or edit a customer: the fields a salesperson fills in, each with its own message
/// when the server refuses it.
public struct CustomerFormPage: Sendable {
    /// The form's fields as text, as typed (so a refused form comes back as it was sent).
    public struct Fields: Sendable, Equatable {
        public var kind: Customer.Kind = .person
        public var name = ""
        public var roles: [CustomerRole] = [.customer]
        public var email = ""
        public var phone = ""
        public var tags = ""
        public var source = ""
        public var ownerID: Int64?
        public var gender = ""
        public var birthday = ""
        public var hobbies = ""
        public var preferredChannel = ""
        public var personalityStyle = ""
        public var personalityEvidence = ""
        public var familyNotes = ""
        public var industry = ""

        public init() {}

        public init(_ c: Customer) {
            kind = c.kind; name = c.name; roles = c.roles; email = c.email ?? ""; phone = c.phone ?? ""
            tags = c.tags.joined(separator: ", "); source = c.source ?? ""; ownerID = c.ownerID?.rawValue
            gender = c.profile.gender?.rawValue ?? ""; birthday = c.profile.birthday?.description ?? ""
            hobbies = c.profile.hobbies.joined(separator: ", "); preferredChannel = c.profile.preferredChannel?.rawValue ?? ""
            personalityStyle = c.profile.personalityStyle?.rawValue ?? ""; personalityEvidence = c.profile.personalityEvidence ?? ""
            familyNotes = c.profile.familyNotes ?? ""; industry = c.profile.industry ?? ""
        }

        /// The submitted form: each field's values (roles repeat).
        public init(form: [String: [String]]) {
            func one(_ name: String) -> String { form[name]?.first ?? "" }
            kind = Customer.Kind(rawValue: one("kind")) ?? .person
            name = one("name"); roles = (form["roles"] ?? []).compactMap(CustomerRole.init(rawValue:))
            email = one("email"); phone = one("phone"); tags = one("tags"); source = one("source")
            ownerID = Int64(one("owner")); gender = one("gender"); birthday = one("birthday"); hobbies = one("hobbies")
            preferredChannel = one("preferredChannel"); personalityStyle = one("personalityStyle")
            personalityEvidence = one("personalityEvidence"); familyNotes = one("familyNotes"); industry = one("industry")
        }

        /// The fields whose value in `current` differs from this form's, by field name, with
        /// the current value: what someone else saved while this form was being filled in.
        public func differences(from current: Fields) -> [(field: String, current: String)] {
            let pairs: [(String, String, String)] = [
                ("name", name, current.name), ("email", email, current.email), ("phone", phone, current.phone),
                ("tags", tags, current.tags), ("source", source, current.source),
                ("owner", ownerID.map(String.init) ?? "", current.ownerID.map(String.init) ?? ""),
                ("gender", gender, current.gender), ("birthday", birthday, current.birthday), ("hobbies", hobbies, current.hobbies),
                ("preferredChannel", preferredChannel, current.preferredChannel), ("personalityStyle", personalityStyle, current.personalityStyle),
                ("personalityEvidence", personalityEvidence, current.personalityEvidence), ("familyNotes", familyNotes, current.familyNotes),
                ("industry", industry, current.industry),
                ("roles", roles.map(\.rawValue).sorted().joined(separator: ", "), current.roles.map(\.rawValue).sorted().joined(separator: ", ")),
            ]
            return pairs.filter { $0.1.trimmingCharacters(in: .whitespacesAndNewlines) != $0.2 }.map { ($0.0, $0.2) }
        }

        /// Applies the form to `base` (an existing customer's input keeps what the form does
        /// not show: contact windows, custom fields, external id). Text that cannot be read
        /// (a malformed date) is reported by field name.
        public func apply(to base: CustomerInput) -> (CustomerInput, [String: String]) {
            var input = base
            var problems: [String: String] = [:]
            func text(_ s: String) -> String? {
                let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
                return t.isEmpty ? nil : t
            }
            func list(_ s: String) -> [String] {
                s.split(whereSeparator: { $0 == "," || $0 == "，" || $0 == "、" }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            }
            input.kind = kind
            input.name = name
            input.roles = roles
            input.email = text(email); input.phone = text(phone)
            input.tags = list(tags); input.source = text(source)
            input.ownerID = ownerID.map(User.ID.init)
            input.profile.gender = text(gender).flatMap(Gender.init(rawValue:))
            if let b = text(birthday) {
                if let date = CalendarDate(b) { input.profile.birthday = date } else { problems["birthday"] = "must be a date YYYY-MM-DD" }
            } else { input.profile.birthday = nil }
            input.profile.hobbies = list(hobbies)
            input.profile.preferredChannel = text(preferredChannel).flatMap(ContactChannel.init(rawValue:))
            input.profile.personalityStyle = text(personalityStyle).flatMap(PersonalityStyle.init(rawValue:))
            input.profile.personalityEvidence = text(personalityEvidence)
            input.profile.familyNotes = text(familyNotes)
            input.profile.industry = text(industry)
            return (input, problems)
        }
    }

    /// nil for a new customer.
    public var customerID: Int64?
    public var version: Int64?
    public var fields: Fields
    /// Messages by field name (name, email, birthday …).
    public var errors: [String: String]
    public var notice: String?
    public var owners: [(id: Int64, name: String)]
    /// After a stale save: the current values that differ from the form's.
    public var currentValues: [(field: String, current: String)] = []

    public init(customerID: Int64?, version: Int64?, fields: Fields, errors: [String: String] = [:], notice: String? = nil,
                owners: [(id: Int64, name: String)]) {
        self.customerID = customerID; self.version = version; self.fields = fields; self.errors = errors
        self.notice = notice; self.owners = owners
    }

    /// The form field a JSON pointer from the domain's validation names.
    public static func field(forPointer pointer: String) -> String {
        let parts = pointer.split(separator: "/").map(String.init)
        guard let first = parts.first else { return "form" }
        if first == "profile", parts.count > 1 { return parts[1] }
        if first == "tags" { return "tags" }
        if first == "ownerID" { return "owner" }
        return first
    }

    public func render(_ context: PageContext) -> String {
        let s = context.strings
        let title = customerID == nil ? s[.newCustomer] : s[.editCustomer]
        let action = customerID.map { "/customers/\($0)/edit" } ?? "/customers"
        return Layout.page(title, context, section: .customers, [
            .h1(.text(title)),
            .unwrap(notice) { .p(.class("error"), .id("form-notice"), .attribute(named: "role", value: "alert"), .text($0)) },
            .if(!currentValues.isEmpty, .ul(.id("current-values"), .forEach(currentValues) { change in
                .li(.element(named: "b", text: MergePage.label(change.field, s)), .text(": " + (change.current.isEmpty ? "—" : change.current)))
            })),
            .if(!errors.isEmpty && notice == nil, .p(.class("error"), .attribute(named: "role", value: "alert"), .text(s[.fieldsWithProblems]))),
            .form(.class("stack card"), .id("customer-form"), .action(action), .method(.post),
                  Layout.hiddenCSRF(context),
                  .unwrap(version) { .input(.type(.hidden), .name("version"), .value(String($0))) },
                  .if(customerID == nil, choice("kind", s[.kind], Customer.Kind.allCases.map { ($0.rawValue, s.term($0)) }, fields.kind.rawValue, s, optional: false)),
                  .if(customerID != nil, .input(.type(.hidden), .name("kind"), .value(fields.kind.rawValue))),
                  textField("name", s[.name], fields.name, required: true),
                  roleBoxes(s),
                  textField("email", s[.email], fields.email, type: .email),
                  textField("phone", s[.phone], fields.phone, type: .tel),
                  choice("owner", s[.owner], owners.map { (String($0.id), $0.name) }, fields.ownerID.map(String.init) ?? "", s, optional: true, none: s[.noOwner]),
                  textField("tags", s[.tags] + " (" + s[.tagsHint] + ")", fields.tags),
                  textField("source", s[.source], fields.source),
                  choice("gender", s[.gender], Gender.allCases.map { ($0.rawValue, s.term($0)) }, fields.gender, s, optional: true),
                  textField("birthday", s[.birthday], fields.birthday, type: .date),
                  textField("hobbies", s[.hobbies] + " (" + s[.hobbiesHint] + ")", fields.hobbies),
                  choice("preferredChannel", s[.preferredChannel], ContactChannel.allCases.map { ($0.rawValue, s.term($0)) }, fields.preferredChannel, s, optional: true),
                  choice("personalityStyle", s[.personalityStyle], PersonalityStyle.allCases.map { ($0.rawValue, s.term($0)) }, fields.personalityStyle, s, optional: true),
                  textArea("personalityEvidence", s[.personalityEvidence], fields.personalityEvidence),
                  textArea("familyNotes", s[.familyNotes], fields.familyNotes),
                  textField("industry", s[.industry], fields.industry),
                  .p(.button(.type(.submit), .id("save-customer"), .text(s[.save])), .text(" "),
                     .a(.href(customerID.map { "/customers/\($0)" } ?? "/customers"), .text(s[.cancel])))),
        ]).document
    }

    func error(_ name: String) -> Node<HTML.FormContext> {
        .unwrap(errors[name]) { .p(.class("field-error"), .id("error-" + name), .text($0)) }
    }

    func textField(_ name: String, _ label: String, _ value: String, type: HTMLInputType = .text, required: Bool = false) -> Node<HTML.FormContext> {
        .group(.label(.for(name), .text(label)),
               .input(.type(type), .id(name), .name(name), .value(value.attributeEscaped), .required(required),
                      .attribute(named: "aria-invalid", value: errors[name] != nil ? "true" : "false")),
               error(name))
    }

    func textArea(_ name: String, _ label: String, _ value: String) -> Node<HTML.FormContext> {
        .group(.label(.for(name), .text(label)), .textarea(.id(name), .name(name), .text(value)), error(name))
    }

    func choice(_ name: String, _ label: String, _ options: [(String, String)], _ chosen: String, _ s: Strings,
                optional: Bool, none: String? = nil) -> Node<HTML.FormContext> {
        let choices: [FormElements.Choice] = (optional ? [("", none ?? "—", chosen.isEmpty)] : [])
            + options.map { ($0.0, $0.1, $0.0 == chosen) }
        return .group(.label(.for(name), .text(label)), FormElements.select(id: name, name: name, choices), error(name))
    }

    func roleBoxes(_ s: Strings) -> Node<HTML.FormContext> {
        .group(.fieldset(.element(named: "legend", text: s[.roles]),
            .forEach(CustomerRole.allCases) { role in
                .label(.class("check"), .input(.type(.checkbox), .name("roles"), .value(role.rawValue), .checked(fields.roles.contains(role))),
                       .text(" " + s.term(role)))
            }), error("roles"))
    }
}
