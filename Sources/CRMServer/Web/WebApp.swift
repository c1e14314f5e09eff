import CRMAnalytics
import CRMCore
import CRMStore
import CRMWeb
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Logging

/// The browser application: server-rendered pages over the same store, permissions and
/// audit as the API. Handlers read the store and hand plain models to `CRMWeb`, which
/// renders them; the pages themselves never see the database.
struct WebApp: Sendable {
    /// Before sign-in, forms carry a token that must match this cookie (double submit), so
    /// another site cannot sign a browser in or switch its language.
    static let csrfCookie = "crm_csrf"
    static let languageCookie = "crm_lang"
    /// Form bodies are small; uploads go through `multipartLimit`.
    static let formLimit = 1 << 20

    let store: Store
    let authenticator: Authenticator
    let analytics: CustomerBaseRefresh
    let imports: ImportJobs
    let configuration: ServerConfiguration
    let logger: Logger
    /// The time zone "today" is read in (due dates, the default follow-up date).
    let businessTimeZone = TimeZone(identifier: "Asia/Shanghai")!

    var today: CalendarDate { CalendarDate(Date(), in: businessTimeZone) }
    /// Uploads waiting for their column mapping (shared by every copy of this value).
    let uploads = PendingUploads()

    /// A browser request as the pages see it: who, in which language, with which token.
    struct Visit: Sendable {
        var resolved: Authenticator.Resolved?
        var page: PageContext
        /// A new anonymous CSRF cookie to set with the response.
        var newCookies: [Cookie]
        var actor: Actor? { resolved?.actor }
    }

    /// Why a request is answered with something other than its page.
    enum Refusal: Error {
        case signInFirst(next: String)
        case csrf
        case badRequest(String)
    }

    func visit(_ request: Request) async throws -> Visit {
        let path = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        var resolved: Authenticator.Resolved?
        if request.headers[.authorization] == nil { resolved = try await authenticator.resolve(request) }
        if let resolved, let session = resolved.session {
            let viewer = Viewer(id: resolved.user.id.rawValue, name: resolved.user.displayName, role: resolved.user.role)
            return Visit(resolved: resolved, page: PageContext(language: UILanguage(locale: resolved.user.locale), viewer: viewer,
                                                              csrfToken: session.csrfToken, path: path), newCookies: [])
        }
        let language = request.cookies[Self.languageCookie].map { UILanguage(locale: $0.value) }
            ?? UILanguage.preferred(acceptLanguage: request.headers[.acceptLanguage])
        var cookies: [Cookie] = []
        let token: String
        if let existing = request.cookies[Self.csrfCookie]?.value, existing.count >= 20 {
            token = existing
        } else {
            token = Authenticator.randomToken(bytes: 24)
            cookies.append(Cookie(name: Self.csrfCookie, value: token, path: "/", secure: configuration.secureCookies, httpOnly: true, sameSite: .lax))
        }
        return Visit(resolved: nil, page: PageContext(language: language, viewer: nil, csrfToken: token, path: path), newCookies: cookies)
    }

    // MARK: responses

    func html(_ body: String, status: HTTPResponse.Status = .ok, _ visit: Visit) -> Response {
        var headers = Self.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        // Pages hold customer data: never keep them in shared or back-button caches.
        headers[.cacheControl] = "no-store"
        for cookie in visit.newCookies { headers.append(HTTPField(name: .setCookie, value: cookie.description)) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func redirect(_ location: String, cookies: [Cookie] = []) -> Response {
        var headers = Self.securityHeaders
        headers[.location] = location
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie.description)) }
        return Response(status: .seeOther, headers: headers)
    }

    /// Everything is served by the product itself, so the policy can forbid the rest.
    static let securityHeaders: HTTPFields = {
        var h = HTTPFields()
        h[.contentSecurityPolicy] = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        h[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        h[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        return h
    }()

    /// Only paths on this site, so a crafted `next` or `back` cannot send the browser away.
    static func localPath(_ text: String?, otherwise fallback: String = "/") -> String {
        // Browsers drop tabs and newlines from URLs, so "/\t/evil" would become "//evil": refuse
        // every control character and space, and backslashes (read as slashes).
        guard let text, text.hasPrefix("/"), !text.hasPrefix("//"),
              text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && $0 != "\\" }) else { return fallback }
        return text
    }

    // MARK: handling

    /// Runs a page handler for a signed-in browser; errors become pages in the viewer's language.
    func signedIn(_ request: Request, _ handler: (Visit, Actor) async throws -> Response) async throws -> Response {
        let visit = try await visit(request)
        do {
            guard let actor = visit.actor else {
                // After a POST, come back to the page the form was on, not to the form's action.
                let next = request.method == .get ? visit.page.path : Self.refererPath(request) ?? "/"
                throw Refusal.signInFirst(next: next)
            }
            return try await handler(visit, actor)
        } catch {
            return errorResponse(error, visit)
        }
    }

    func errorResponse(_ error: any Error, _ visit: Visit) -> Response {
        let s = visit.page.strings
        switch error {
        case Refusal.signInFirst(let next):
            return redirect("/login?next=" + URLQuery.escape(next), cookies: visit.newCookies)
        case Refusal.csrf:
            return html(Layout.errorPage(status: 403, message: s[.csrfRejected], visit.page).document, status: .forbidden, visit)
        case Refusal.badRequest(let why):
            return html(Layout.errorPage(status: 400, message: why, visit.page).document, status: .badRequest, visit)
        case let e as DomainError:
            let status: HTTPResponse.Status = switch e {
            case .notFound: .notFound
            case .forbidden: .forbidden
            case .staleVersion, .conflict: .conflict
            case .unauthenticated: .unauthorized
            case .invalid: .badRequest
            }
            if case .unauthenticated = e, visit.actor == nil { return redirect("/login", cookies: visit.newCookies) }
            return html(Layout.errorPage(status: status.code, message: WebMessages.describe(e, s), visit.page).document, status: status, visit)
        case let e as any HTTPResponseError where e.status.code < 500:
            let message = e.status == .contentTooLarge ? s[.uploadTooLarge] : s[.somethingWrong]
            return html(Layout.errorPage(status: Int(e.status.code), message: message, visit.page).document, status: e.status, visit)
        default:
            logger.error("page failed", metadata: ["path": "\(visit.page.path)", "error": "\(error)"])
            return html(Layout.errorPage(status: 500, message: s[.somethingWrong], visit.page).document, status: .internalServerError, visit)
        }
    }

    /// The posted form, after checking its CSRF token against the session (or, before
    /// sign-in, the CSRF cookie).
    func form(_ request: Request, _ visit: Visit) async throws -> WebForm {
        var request = request
        let body = try await request.collectBody(upTo: Self.formLimit)
        let form = WebForm(urlEncoded: String(buffer: body))
        guard let sent = form[csrfFieldName], Self.constantTimeEqual(sent, visit.page.csrfToken) else { throw Refusal.csrf }
        // An anonymous token only counts if the browser also holds it as a cookie.
        if visit.actor == nil, request.cookies[Self.csrfCookie]?.value != sent { throw Refusal.csrf }
        return form
    }

    /// The path of a same-site Referer, if the browser sent one.
    static func refererPath(_ request: Request) -> String? {
        guard let referer = request.headers[.referer], let url = URLComponents(string: referer) else { return nil }
        let path = url.percentEncodedPath + (url.percentEncodedQuery.map { "?" + $0 } ?? "")
        return localPath(path, otherwise: "/")
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The query string's first value of each name, decoded as forms encode it (`+` is a space).
    static func query(_ request: Request) -> [String: String] {
        WebForm(urlEncoded: request.uri.query ?? "").fields.compactMapValues(\.first)
    }
}

/// A posted `application/x-www-form-urlencoded` body.
struct WebForm: Sendable {
    var fields: [String: [String]] = [:]

    init(urlEncoded text: String) {
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.decode(parts[0]), value = parts.count > 1 ? Self.decode(parts[1]) : ""
            fields[key, default: []].append(value)
        }
    }

    static func decode(_ s: Substring) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    subscript(_ name: String) -> String? { fields[name]?.first }

    /// The field's text trimmed, nil when empty.
    func text(_ name: String) -> String? {
        guard let value = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }
}

/// Domain errors in the viewer's language: the field's name and, where known, the reason.
enum WebMessages {
    static func describe(_ error: DomainError, _ s: Strings) -> String {
        switch error {
        case .invalid(let issues): issues.map { reason($0.reason, s) }.joined(separator: "; ")
        default: reason(error.description, s)
        }
    }

    /// The reasons people meet most, in Chinese; others stay as the domain wrote them.
    static let chinese: [String: String] = [
        "must not be empty": "不能为空",
        "is not an e-mail address": "不是有效的邮箱地址",
        "is not a phone number": "不是有效的电话号码",
        "must name at least one role": "至少选择一个角色",
        "must be a date YYYY-MM-DD": "日期格式应为 YYYY-MM-DD",
        "is in the future": "不能是将来的日期",
        "applies to persons only": "只适用于个人客户",
        "must be at most 200 characters": "最多 200 个字",
        "must be at least two letters or digits, or one Chinese character": "请至少输入两个字母或数字，或一个汉字",
        "must contain a letter, digit or character to search for": "请输入要搜索的文字",
        "the username or password is not right": "用户名或密码不正确",
        "must be 2–64 lower-case letters, digits or . _ - @": "应为 2–64 个小写字母、数字或 . _ - @",
        "must be at least 10 characters": "至少 10 个字符",
        "must be a number": "应为数字",
        "must be a whole number": "应为整数",
        "must be a share between 0 and 1": "应在 0% 到 100% 之间",
        "platinum, gold and iron shares add up to more than 1": "白金、黄金、铁客户占比合计超过 100%",
    ]

    static func reason(_ english: String, _ s: Strings) -> String {
        s.language == .zhHans ? chinese[english] ?? english : english
    }

    /// Messages by form field, from the pointers of a validation error.
    static func fieldErrors(_ error: DomainError, _ s: Strings, prefix: String = "", field: (String) -> String) -> [String: String] {
        guard case .invalid(let issues) = error else { return [prefix + "form": describe(error, s)] }
        var out: [String: String] = [:]
        for issue in issues {
            let key = prefix + field(issue.pointer)
            out[key] = [out[key], reason(issue.reason, s)].compactMap { $0 }.joined(separator: "; ")
        }
        return out
    }
}
