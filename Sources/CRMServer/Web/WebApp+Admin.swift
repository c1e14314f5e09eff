import CRMCore
import CRMStore
import CRMWeb
import Foundation
import Hummingbird

/// Administration pages. Each write goes through the store, which checks the role again.
extension WebApp {
    func registerAdmin(on router: Router<BasicRequestContext>) {
        router.get("/admin/users") { request, _ in
            try await signedIn(request) { visit, actor in
                let done = Self.query(request)["done"]
                let s = visit.page.strings
                let notice: String? = switch done {
                case "user": s[.userAdded]
                case "changed": s[.userChanged]
                case "analysis": s[.analysisDone]
                case "revoked": s[.tokenRevoked]
                case "field": s[.customFieldAdded]
                case "settings": s[.settingsSaved]
                default: nil
                }
                return html(try await adminPage(actor, notice: notice).render(visit.page), visit)
            }
        }
        router.post("/admin/users") { request, _ in try await signedIn(request) { visit, actor in try await addUser(request, visit, actor) } }
        router.post("/admin/users/:id/:change") { request, context in
            try await signedIn(request) { visit, actor in
                _ = try await form(request, visit)
                let id = User.ID(try context.parameters.require("id", as: Int64.self))
                let change = try context.parameters.require("change")
                guard change == "disable" || change == "enable" else { throw Refusal.badRequest("unknown change \(change)") }
                let user = try await store.users.get(id)
                _ = try await store.users.update(id, displayName: user.displayName, role: user.role, locale: user.locale,
                                                 disabled: change == "disable", by: actor)
                return redirect("/admin/users?done=changed")
            }
        }
        router.post("/admin/users/:id/role") { request, context in
            try await signedIn(request) { visit, actor in
                let form = try await form(request, visit)
                let id = User.ID(try context.parameters.require("id", as: Int64.self))
                guard let role = UserRole(rawValue: form["role"] ?? "") else { throw Refusal.badRequest("unknown role") }
                let user = try await store.users.get(id)
                _ = try await store.users.update(id, displayName: user.displayName, role: role, locale: user.locale, disabled: user.disabled, by: actor)
                return redirect("/admin/users?done=changed")
            }
        }
        router.post("/admin/fields") { request, _ in try await signedIn(request) { visit, actor in try await addField(request, visit, actor) } }
        router.post("/admin/tokens") { request, _ in try await signedIn(request) { visit, actor in try await addToken(request, visit, actor) } }
        router.post("/admin/tokens/:id/revoke") { request, context in
            try await signedIn(request) { visit, actor in
                _ = try await form(request, visit)
                try await store.users.revokeToken(APIToken.ID(try context.parameters.require("id", as: Int64.self)), by: actor)
                return redirect("/admin/users?done=revoked")
            }
        }
        router.post("/admin/analytics/settings") { request, _ in
            try await signedIn(request) { visit, actor in
                let form = try await form(request, visit)
                let typed = form.fields.compactMapValues(\.first)
                let (settings, problems) = AdminPage.applySettings(typed, to: try await store.analytics.settings())
                var errors = problems.reduce(into: [String: String]()) { $0["settings." + $1.key] = WebMessages.reason($1.value, visit.page.strings) }
                if errors.isEmpty {
                    do {
                        _ = try await store.analytics.saveSettings(settings, by: actor)
                        return redirect("/admin/users?done=settings")
                    } catch let error as DomainError {
                        guard case .invalid = error else { throw error }
                        let onForm = Set(AdminPage.settingsFields(settings).map(\.name))
                        errors = WebMessages.fieldErrors(error, visit.page.strings, prefix: "settings.") { pointer in
                            // "/loyalty" names the ladder, shown under its last field; a setting the
                            // form does not show (churn, trajectory …) is reported above the form.
                            let name = pointer.split(separator: "/").first.map(String.init) ?? "form"
                            return name == "loyalty" ? "loyalMinPurchases" : onForm.contains(name) ? name : "form"
                        }
                    }
                }
                var page = try await adminPage(actor, errors: errors)
                page.typedSettings = typed
                return html(page.render(visit.page), status: .badRequest, visit)
            }
        }
        router.post("/admin/analytics/run") { request, _ in
            try await signedIn(request) { visit, actor in
                _ = try await form(request, visit)
                try AccessPolicy.require(actor, .refreshAnalytics)
                _ = try await analytics.run(asOf: today, by: actor)
                return redirect("/admin/users?done=analysis")
            }
        }
    }

    func adminPage(_ actor: Actor, notice: String? = nil, newTokenSecret: String? = nil, errors: [String: String] = [:]) async throws -> AdminPage {
        try AccessPolicy.require(actor, .manageUsers)
        let users = try await store.users.list()
        let names = Dictionary(uniqueKeysWithValues: users.map { ($0.id, $0.displayName) })
        let tokens = try await store.users.tokens(of: nil, by: actor).map { ($0, names[$0.userID] ?? "#\($0.userID)") }
        let run = try await store.analytics.latestRun()
        return AdminPage(users: users, tokens: tokens, customFields: try await store.customFields.list(), settings: try await store.analytics.settings(),
                         lastRun: run.map { ($0.finishedAt, $0.customers, $0.seconds) }, notice: notice, newTokenSecret: newTokenSecret, errors: errors)
    }

    func addUser(_ request: Request, _ visit: Visit, _ actor: Actor) async throws -> Response {
        let form = try await self.form(request, visit)
        try AccessPolicy.require(actor, .manageUsers)
        let s = visit.page.strings
        var errors: [String: String] = [:]
        let username = form.text("username") ?? ""
        let password = form["password"] ?? ""
        if !User.validUsername(username.lowercased()) { errors["user.username"] = WebMessages.reason("must be 2–64 lower-case letters, digits or . _ - @", s) }
        if form.text("displayName") == nil { errors["user.displayName"] = WebMessages.reason("must not be empty", s) }
        do { try Authenticator.checkPasswordStrength(password) } catch { errors["user.password"] = WebMessages.describe(error, s) }
        if errors.isEmpty {
            do {
                let hash = try await Authenticator.hashPassword(password, cost: configuration.bcryptCost)
                _ = try await store.users.create(username: username, displayName: form.text("displayName")!,
                                                 role: UserRole(rawValue: form["role"] ?? "") ?? .sales,
                                                 passwordHash: hash, locale: UILanguage(locale: form["locale"] ?? "").rawValue, by: actor)
                return redirect("/admin/users?done=user")
            } catch let error as DomainError {
                guard case .invalid = error else { throw error }
                errors = WebMessages.fieldErrors(error, s, prefix: "user.") { $0.split(separator: "/").first.map(String.init) ?? "username" }
            }
        }
        return html(try await adminPage(actor, errors: errors).render(visit.page), status: .badRequest, visit)
    }

    func addField(_ request: Request, _ visit: Visit, _ actor: Actor) async throws -> Response {
        let form = try await self.form(request, visit)
        let options = (form["options"] ?? "").split(whereSeparator: { $0 == "," || $0 == "，" || $0 == "、" })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let definition = CustomFieldDefinition(key: form.text("key") ?? "", label: form.text("label") ?? "", labelZh: form.text("labelZh"),
                                               kind: CustomFieldDefinition.Kind(rawValue: form["kind"] ?? "") ?? .text, options: options)
        do {
            _ = try await store.customFields.create(definition, by: actor)
            return redirect("/admin/users?done=field")
        } catch let error as DomainError {
            guard case .invalid = error else { throw error }
            let errors = WebMessages.fieldErrors(error, visit.page.strings, prefix: "field.") { $0.split(separator: "/").first.map(String.init) ?? "form" }
            return html(try await adminPage(actor, errors: errors).render(visit.page), status: .badRequest, visit)
        }
    }

    func addToken(_ request: Request, _ visit: Visit, _ actor: Actor) async throws -> Response {
        let form = try await self.form(request, visit)
        guard let name = form.text("name") else {
            let errors = ["token.name": WebMessages.reason("must not be empty", visit.page.strings)]
            return html(try await adminPage(actor, errors: errors).render(visit.page), status: .badRequest, visit)
        }
        let secret = Authenticator.newTokenSecret()
        _ = try await store.users.createToken(for: actor.userID, name: name, scope: APIToken.Scope(rawValue: form["scope"] ?? "") ?? .read,
                                              hash: Authenticator.tokenHash(secret), by: actor)
        // Shown once, on this response only: the store keeps the hash.
        return html(try await adminPage(actor, notice: visit.page.strings[.tokenCreated], newTokenSecret: secret).render(visit.page), visit)
    }
}
