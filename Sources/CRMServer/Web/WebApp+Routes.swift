import CRMCore
import CRMStore
import CRMWeb
import Foundation
import HTTPTypes
import Hummingbird

extension WebApp {
    func register(on router: Router<BasicRequestContext>) {
        registerAssets(on: router)
        router.get("/login") { request, _ in try await signInPage(request) }
        router.post("/login") { request, _ in try await signIn(request) }
        router.post("/logout") { request, _ in try await signOut(request) }
        router.post("/language") { request, _ in try await switchLanguage(request) }

        router.get("/") { request, _ in try await signedIn(request) { visit, actor in try await dashboard(visit, actor) } }
        router.get("/tasks") { request, _ in try await signedIn(request) { visit, actor in try await tasks(visit, actor) } }
        router.post("/tasks/:id/done") { request, context in
            try await signedIn(request) { visit, actor in try await completeTask(request, visit, actor, id: try context.parameters.require("id", as: Int64.self)) }
        }
        router.get("/audit") { request, _ in try await signedIn(request) { visit, actor in try await audit(request, visit, actor) } }

        router.get("/customers") { request, _ in try await signedIn(request) { visit, actor in try await customerList(request, visit, actor) } }
        router.post("/customers/views") { request, _ in try await signedIn(request) { visit, actor in try await saveView(request, visit, actor) } }
        router.post("/customers/views/:id/delete") { request, context in
            try await signedIn(request) { visit, actor in
                _ = try await form(request, visit)
                try await store.savedViews.delete(SavedView.ID(try context.parameters.require("id", as: Int64.self)), by: actor)
                return redirect("/customers")
            }
        }
        router.get("/customers/new") { request, _ in try await signedIn(request) { visit, actor in try await newCustomer(visit, actor) } }
        router.post("/customers") { request, _ in try await signedIn(request) { visit, actor in try await createCustomer(request, visit, actor) } }
        router.get("/customers/:id") { request, context in
            try await signedIn(request) { visit, actor in
                try await customer360(request, visit, actor, id: try context.parameters.require("id", as: Int64.self))
            }
        }
        router.get("/customers/:id/edit") { request, context in
            try await signedIn(request) { visit, actor in try await editCustomer(visit, actor, id: try context.parameters.require("id", as: Int64.self)) }
        }
        router.post("/customers/:id/edit") { request, context in
            try await signedIn(request) { visit, actor in try await updateCustomer(request, visit, actor, id: try context.parameters.require("id", as: Int64.self)) }
        }
        router.post("/customers/:id/interactions") { request, context in
            try await signedIn(request) { visit, actor in try await logInteraction(request, visit, actor, id: try context.parameters.require("id", as: Int64.self)) }
        }
        router.post("/customers/:id/tasks") { request, context in
            try await signedIn(request) { visit, actor in try await addTask(request, visit, actor, id: try context.parameters.require("id", as: Int64.self)) }
        }
        registerImports(on: router)
        registerDuplicates(on: router)
        registerAdmin(on: router)
    }

    func registerAssets(on router: Router<BasicRequestContext>) {
        let assets: [(String, String, String)] = [
            (Assets.stylesheetPath, "text/css; charset=utf-8", Assets.stylesheet),
            (Assets.scriptPath, "text/javascript; charset=utf-8", Assets.script),
            (Assets.iconPath, "image/svg+xml", Assets.icon),
        ]
        for (path, type, content) in assets {
            let buffer = ByteBuffer(string: content)
            router.get(RouterPath(path)) { _, _ -> Response in
                var headers = Self.securityHeaders
                headers[.contentType] = type
                // The path carries the version, so the file never changes under it.
                headers[.cacheControl] = "public, max-age=31536000, immutable"
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
            }
        }
    }

    // MARK: sign in and out

    func signInPage(_ request: Request) async throws -> Response {
        let visit = try await visit(request)
        let query = Self.query(request)
        let next = Self.localPath(query["next"])
        if visit.actor != nil { return redirect(next) }
        let notice = query["signedOut"] != nil ? visit.page.strings[.signedOut] : nil
        return html(SignInPage(problem: notice, next: next).render(visit.page), visit)
    }

    func signIn(_ request: Request) async throws -> Response {
        let visit = try await visit(request)
        let form: WebForm
        do { form = try await self.form(request, visit) } catch { return errorResponse(error, visit) }
        let username = form.text("username") ?? ""
        let next = Self.localPath(form["next"])
        switch try await authenticator.signIn(username: username, password: form["password"] ?? "") {
        case .refused(let error):
            let page = SignInPage(username: username, problem: WebMessages.describe(error, visit.page.strings), next: next)
            return html(page.render(visit.page), status: .unauthorized, visit)
        case .signedIn(_, let cookie, _):
            return redirect(next, cookies: [cookie])
        }
    }

    func signOut(_ request: Request) async throws -> Response {
        let visit = try await visit(request)
        // Signed out already (the session expired): nothing to end, no token to check.
        guard visit.actor != nil else { return redirect("/login?signedOut=1") }
        do { _ = try await form(request, visit) } catch { return errorResponse(error, visit) }
        let expired = try await authenticator.signOut(request: request)
        return redirect("/login?signedOut=1", cookies: expired.map { [$0] } ?? [])
    }

    /// Signed in, the choice is saved on the account; before sign-in, in a cookie.
    func switchLanguage(_ request: Request) async throws -> Response {
        let visit = try await visit(request)
        do {
            let form = try await self.form(request, visit)
            let language = UILanguage(locale: form["language"] ?? "")
            let back = Self.localPath(form["back"])
            if let resolved = visit.resolved {
                let user = resolved.user
                _ = try await store.users.update(user.id, displayName: user.displayName, role: user.role, locale: language.rawValue,
                                                 disabled: user.disabled, by: resolved.actor)
                return redirect(back)
            }
            let cookie = Cookie(name: Self.languageCookie, value: language.rawValue, maxAge: 365 * 86_400, path: "/",
                                secure: configuration.secureCookies, httpOnly: true, sameSite: .lax)
            return redirect(back, cookies: [cookie] + visit.newCookies)
        } catch {
            return errorResponse(error, visit)
        }
    }
}
