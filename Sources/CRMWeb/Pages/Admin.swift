import CRMAnalytics
import CRMCore
import Foundation
import Plot

/// Administration: users and roles, API tokens, custom fields, and the customer analysis.
public struct AdminPage: Sendable {
    public var users: [User]
    public var tokens: [(token: APIToken, owner: String)]
    public var customFields: [CustomFieldDefinition]
    public var settings: AnalyticsSettings
    public var lastRun: (at: Date, customers: Int, seconds: Double)?
    public var notice: String?
    /// A token's secret, shown once right after it is made.
    public var newTokenSecret: String?
    public var errors: [String: String]
    /// A refused settings form's values, by field.
    public var typedSettings: [String: String] = [:]

    public init(users: [User], tokens: [(token: APIToken, owner: String)], customFields: [CustomFieldDefinition], settings: AnalyticsSettings,
                lastRun: (at: Date, customers: Int, seconds: Double)?, notice: String? = nil, newTokenSecret: String? = nil,
                errors: [String: String] = [:]) {
        self.users = users; self.tokens = tokens; self.customFields = customFields; self.settings = settings; self.lastRun = lastRun
        self.notice = notice; self.newTokenSecret = newTokenSecret; self.errors = errors
    }

    public func render(_ context: PageContext) -> String {
        let s = context.strings
        return Layout.page(s[.navAdmin], context, section: .admin, [
            .h1(.text(s[.navAdmin])),
            .unwrap(notice) { .p(.class("notice"), .id("notice"), .attribute(named: "role", value: "status"), .text($0)) },
            .unwrap(newTokenSecret) { secret in
                .p(.class("notice"), .id("new-token"), .text(s[.tokenShownOnce] + " "), .element(named: "code", text: secret))
            },
            .section(.class("card"), .id("users"), .h2(.text(s[.users])), userTable(context), addUserForm(context)),
            .section(.class("card"), .id("tokens"), .h2(.text(s[.apiTokens])), tokenTable(context), addTokenForm(context)),
            .div(.class("grid"),
                 .section(.class("card"), .id("custom-fields"), .h2(.text(s[.customFields])), customFieldList(s), addFieldForm(context)),
                 .section(.class("card"), .id("analysis"), .h2(.text(s[.analyticsSettings])), analysis(context))),
        ]).document
    }

    func error(_ key: String) -> Node<HTML.FormContext> {
        .unwrap(errors[key]) { .p(.class("field-error"), .id("error-" + key.replacingOccurrences(of: ".", with: "-")), .text($0)) }
    }

    func userTable(_ context: PageContext) -> Node<HTML.BodyContext> {
        let s = context.strings
        return .div(.class("scroll"), .table(.class("responsive"),
            .thead(.tr(.th(.text(s[.username])), .th(.text(s[.displayName])), .th(.text(s[.role])), .th(.text(s[.language])),
                       .th(.text(s[.status])), .th(.text("")))),
            .tbody(.forEach(users) { user in
                .tr(.td(.attribute(named: "data-label", value: s[.username]), .text(user.username)),
                    .td(.attribute(named: "data-label", value: s[.displayName]), .text(user.displayName)),
                    .td(.attribute(named: "data-label", value: s[.role]), user.id.rawValue == context.viewer?.id
                        ? .text(s.term(user.role))
                        : .form(.class("inline"), .action("/admin/users/\(user.id)/role"), .method(.post),
                                Layout.hiddenCSRF(context),
                                FormElements.select(id: "role-\(user.id)", name: "role", UserRole.allCases.map { ($0.rawValue, s.term($0), $0 == user.role) }),
                                .text(" "), .button(.type(.submit), .class("quiet"), .text(s[.save])))),
                    .td(.attribute(named: "data-label", value: s[.language]), .text(UILanguage(locale: user.locale).nativeName)),
                    .td(.attribute(named: "data-label", value: s[.status]), .text(user.disabled ? s[.disabled] : s[.active])),
                    .td(.if(user.id.rawValue != context.viewer?.id,
                        .form(.class("inline"), .action("/admin/users/\(user.id)/\(user.disabled ? "enable" : "disable")"), .method(.post),
                              Layout.hiddenCSRF(context),
                              .button(.type(.submit), .class("quiet"), .text(user.disabled ? s[.enableUser] : s[.disableUser]))))))
            })))
    }

    func addUserForm(_ context: PageContext) -> Node<HTML.BodyContext> {
        let s = context.strings
        let roles: [FormElements.Choice] = UserRole.allCases.map { ($0.rawValue, s.term($0), $0 == .sales) }
        let languages: [FormElements.Choice] = UILanguage.allCases.map { ($0.rawValue, $0.nativeName, $0 == context.language) }
        return FormElements.details(id: "add-user", summary: s[.addUser], open: errors.keys.contains { $0.hasPrefix("user.") },
            .form(.class("stack"), .action("/admin/users"), .method(.post),
                  Layout.hiddenCSRF(context),
                  .label(.for("new-username"), .text(s[.username])),
                  .input(.type(.text), .id("new-username"), .name("username"), .required(true), .attribute(named: "autocapitalize", value: "none")),
                  error("user.username"),
                  .label(.for("new-display-name"), .text(s[.displayName])),
                  .input(.type(.text), .id("new-display-name"), .name("displayName"), .required(true)),
                  error("user.displayName"),
                  .label(.for("new-role"), .text(s[.role])), FormElements.select(id: "new-role", name: "role", roles),
                  .label(.for("new-language"), .text(s[.language])), FormElements.select(id: "new-language", name: "locale", languages),
                  .label(.for("new-password"), .text(s[.password])),
                  .input(.type(.password), .id("new-password"), .name("password"), .required(true), .attribute(named: "autocomplete", value: "new-password")),
                  error("user.password"),
                  .p(.button(.type(.submit), .id("save-user"), .text(s[.save])))))
    }

    func tokenTable(_ context: PageContext) -> Node<HTML.BodyContext> {
        let s = context.strings
        if tokens.isEmpty { return .p(.class("muted"), .text(s[.nothingYet])) }
        return .div(.class("scroll"), .table(.class("responsive"),
            .thead(.tr(.th(.text(s[.name])), .th(.text(s[.owner])), .th(.text(s[.scope])), .th(.text(s[.lastUsed])), .th(.text("")))),
            .tbody(.forEach(tokens) { row in
                .tr(.td(.attribute(named: "data-label", value: s[.name]), .text(row.token.name)),
                    .td(.attribute(named: "data-label", value: s[.owner]), .text(row.owner)),
                    .td(.attribute(named: "data-label", value: s[.scope]), .text(row.token.scope == .read ? s[.scopeRead] : s[.scopeReadWrite])),
                    .td(.attribute(named: "data-label", value: s[.lastUsed]), .text(row.token.lastUsedAt.map { s.dateTime($0) } ?? "—")),
                    .td(row.token.revokedAt == nil
                        ? .form(.class("inline"), .action("/admin/tokens/\(row.token.id)/revoke"), .method(.post),
                                Layout.hiddenCSRF(context), .button(.type(.submit), .class("quiet"), .text(s[.revoke])))
                        : .span(.class("muted"), .text(s[.revoked]))))
            })))
    }

    func addTokenForm(_ context: PageContext) -> Node<HTML.BodyContext> {
        let s = context.strings
        let scopes: [FormElements.Choice] = [("read", s[.scopeRead], true), ("readWrite", s[.scopeReadWrite], false)]
        return FormElements.details(id: "add-token", summary: s[.newToken], open: errors["token.name"] != nil,
            .form(.class("stack"), .action("/admin/tokens"), .method(.post),
                  Layout.hiddenCSRF(context),
                  .label(.for("token-name"), .text(s[.name])),
                  .input(.type(.text), .id("token-name"), .name("name"), .required(true)),
                  error("token.name"),
                  .label(.for("token-scope"), .text(s[.scope])), FormElements.select(id: "token-scope", name: "scope", scopes),
                  .p(.button(.type(.submit), .id("save-token"), .text(s[.save])))))
    }

    func customFieldList(_ s: Strings) -> Node<HTML.BodyContext> {
        if customFields.isEmpty { return .p(.class("muted"), .text(s[.nothingYet])) }
        return .ul(.forEach(customFields) { field in
            .li(.element(named: "code", text: field.key), .text(" · " + (s.language == .zhHans ? field.labelZh ?? field.label : field.label)
                + " · " + field.kind.rawValue + (field.options.isEmpty ? "" : " (" + field.options.joined(separator: ", ") + ")")))
        })
    }

    func addFieldForm(_ context: PageContext) -> Node<HTML.BodyContext> {
        let s = context.strings
        let kinds: [FormElements.Choice] = CustomFieldDefinition.Kind.allCases.map { ($0.rawValue, $0.rawValue, $0 == .text) }
        return FormElements.details(id: "add-field", summary: s[.addCustomField], open: errors.keys.contains { $0.hasPrefix("field.") },
            .form(.class("stack"), .action("/admin/fields"), .method(.post),
                  Layout.hiddenCSRF(context),
                  .unwrap(errors["field.form"]) { .p(.class("field-error"), .text($0)) },
                  .label(.for("field-key"), .text(s[.fieldKey])),
                  .input(.type(.text), .id("field-key"), .name("key"), .required(true), .attribute(named: "pattern", value: "[a-z][a-z0-9_]*")),
                  error("field.key"),
                  .label(.for("field-label"), .text(s[.fieldLabelEnglish])), .input(.type(.text), .id("field-label"), .name("label"), .required(true)),
                  error("field.label"),
                  .label(.for("field-label-zh"), .text(s[.fieldLabelChinese])), .input(.type(.text), .id("field-label-zh"), .name("labelZh")),
                  .label(.for("field-kind"), .text(s[.kind])), FormElements.select(id: "field-kind", name: "kind", kinds),
                  .label(.for("field-options"), .text(s[.fieldOptions])), .input(.type(.text), .id("field-options"), .name("options")),
                  error("field.options"),
                  .p(.button(.type(.submit), .id("save-field"), .text(s[.save])))))
    }

    /// The analysis settings as a form: numbers as people think of them (percentages, months, days).
    public struct SettingsField: Sendable {
        public var name: String
        public var label: UIText
        public var value: String
        /// "%" fields are shares shown as percentages.
        public var unit: String
    }

    public static func settingsFields(_ settings: AnalyticsSettings) -> [SettingsField] {
        // Enough digits that saving the form again changes nothing (0.125% stays 0.125%).
        func percent(_ v: Double) -> String {
            let p = (v * 100 * 1e9).rounded() / 1e9
            return p == p.rounded() ? String(Int(p)) : String(format: "%.9g", p)
        }
        return [
            .init(name: "platinumShare", label: .platinumShare, value: percent(settings.platinumShare), unit: "%"),
            .init(name: "goldShare", label: .goldShare, value: percent(settings.goldShare), unit: "%"),
            .init(name: "ironShare", label: .ironShare, value: percent(settings.ironShare), unit: "%"),
            .init(name: "windowMonths", label: .windowMonths, value: String(settings.windowMonths), unit: ""),
            .init(name: "promotionShareThreshold", label: .promotionThreshold, value: percent(settings.promotionShareThreshold), unit: "%"),
            .init(name: "repeatMinPurchases", label: .repeatMinPurchases, value: String(settings.loyalty.repeatMinPurchases), unit: ""),
            .init(name: "longStandingMinPurchases", label: .longStandingMinPurchases, value: String(settings.loyalty.longStandingMinPurchases), unit: ""),
            .init(name: "loyalMinPurchases", label: .loyalMinPurchases, value: String(settings.loyalty.loyalMinPurchases), unit: ""),
            .init(name: "forecastDays", label: .forecastDays, value: String(settings.forecastDays), unit: ""),
            .init(name: "clvMonths", label: .clvMonths, value: String(settings.clvMonths), unit: ""),
            .init(name: "monthlyDiscountRate", label: .monthlyDiscountRate, value: percent(settings.monthlyDiscountRate), unit: "%"),
            .init(name: "refreshIntervalMinutes", label: .refreshEvery, value: String(settings.refreshIntervalMinutes), unit: "min"),
        ]
    }

    /// Applies a submitted settings form to `base`; unreadable numbers are named by field.
    public static func applySettings(_ form: [String: String], to base: AnalyticsSettings) -> (AnalyticsSettings, [String: String]) {
        var s = base
        var problems: [String: String] = [:]
        func share(_ name: String, _ apply: (Double) -> Void) {
            guard let text = form[name] else { return }
            if let v = Double(text.trimmingCharacters(in: .whitespaces)), v.isFinite { apply(v / 100) } else { problems[name] = "must be a number" }
        }
        func whole(_ name: String, _ apply: (Int) -> Void) {
            guard let text = form[name] else { return }
            if let v = Int(text.trimmingCharacters(in: .whitespaces)) { apply(v) } else { problems[name] = "must be a whole number" }
        }
        if let m = form["measure"].flatMap(ValueMeasure.init(rawValue:)) { s.measure = m }
        if let m = form["model"].flatMap(AnalyticsSettings.RepeatModel.init(rawValue:)) { s.model = m }
        share("platinumShare") { s.platinumShare = $0 }
        share("goldShare") { s.goldShare = $0 }
        share("ironShare") { s.ironShare = $0 }
        whole("windowMonths") { s.windowMonths = $0 }
        share("promotionShareThreshold") { s.promotionShareThreshold = $0 }
        whole("repeatMinPurchases") { s.loyalty.repeatMinPurchases = $0 }
        whole("longStandingMinPurchases") { s.loyalty.longStandingMinPurchases = $0 }
        whole("loyalMinPurchases") { s.loyalty.loyalMinPurchases = $0 }
        whole("forecastDays") { s.forecastDays = $0 }
        whole("clvMonths") { s.clvMonths = $0 }
        share("monthlyDiscountRate") { s.monthlyDiscountRate = $0 }
        whole("refreshIntervalMinutes") { s.refreshIntervalMinutes = $0 }
        return (s, problems)
    }

    func analysis(_ context: PageContext) -> Node<HTML.BodyContext> {
        let s = context.strings
        // A refused form shows the choices as they were sent, like its numbers.
        let measure = typedSettings["measure"] ?? settings.measure.rawValue
        let model = typedSettings["model"] ?? settings.model.rawValue
        let measures: [FormElements.Choice] = [("profit", s[.profit], measure == "profit"), ("revenue", s[.revenue], measure == "revenue")]
        let models: [FormElements.Choice] = AnalyticsSettings.RepeatModel.allCases.map { ($0.rawValue, $0 == .bgnbd ? "BG/NBD" : "Pareto/NBD", $0.rawValue == model) }
        return .group(
            .form(.class("stack"), .id("settings-form"), .action("/admin/analytics/settings"), .method(.post),
                  Layout.hiddenCSRF(context),
                  .unwrap(errors["settings.form"]) { .p(.class("field-error"), .text($0)) },
                  .label(.for("setting-measure"), .text(s[.rankedBy])), FormElements.select(id: "setting-measure", name: "measure", measures),
                  .forEach(Self.settingsFields(settings)) { field in
                      .group(.label(.for("setting-" + field.name), .text(s[field.label] + (field.unit.isEmpty ? "" : " (" + field.unit + ")"))),
                             .input(.type(.text), .id("setting-" + field.name), .name(field.name), .value((errorsValue(field.name) ?? field.value).attributeEscaped),
                                    .attribute(named: "inputmode", value: "decimal")),
                             error("settings." + field.name))
                  },
                  .label(.for("setting-model"), .text(s[.repeatModel])), FormElements.select(id: "setting-model", name: "model", models),
                  .p(.button(.type(.submit), .id("save-settings"), .text(s[.save])))),
            .unwrap(lastRun) { run in
                .p(.class("muted"), .text(s[.lastAnalysis] + ": " + s.dateTime(run.at) + " · " + s.count(run.customers) + " · "
                                          + String(format: "%.1f s", run.seconds)))
            },
            .form(.action("/admin/analytics/run"), .method(.post), Layout.hiddenCSRF(context),
                  .button(.type(.submit), .id("run-analysis"), .text(s[.runAnalysisNow]))))
    }

    /// A refused settings form shows what was typed.
    func errorsValue(_ name: String) -> String? { typedSettings[name] }
}
