import CRMCore
import CRMStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import HummingbirdBcrypt
import NIOPosix

/// Who is making the current API request. Set by `AuthenticationMiddleware` around the
/// request, read by the handlers: the OpenAPI handlers see only their typed input, so the
/// actor travels in a task-local rather than a parameter.
public enum RequestActor {
    @TaskLocal public static var current: Actor?
    /// The raw request, for the few handlers that need its cookies (signing out).
    @TaskLocal public static var request: Request?

    public static func required() throws(DomainError) -> Actor {
        guard let actor = current else { throw .unauthenticated("send a bearer API token or sign in for a session cookie") }
        return actor
    }
}

/// What a browser session remembers: the user, and the token its forms and scripts must
/// echo on every write (CSRF protection on top of SameSite=Lax).
public struct BrowserSession: Codable, Sendable {
    public var userID: Int64
    public var csrfToken: String
}

/// Passwords, sessions and API tokens.
public struct Authenticator: Sendable {
    public static let cookieName = "crm_session"
    public static let csrfHeader = HTTPField.Name("X-CSRF-Token")!

    let store: Store
    let sessions: SessionStorage<BrowserSession>
    let configuration: ServerConfiguration
    let tokenCache = TokenCache()

    public init(store: Store, persist: any PersistDriver, configuration: ServerConfiguration) {
        self.store = store
        self.configuration = configuration
        sessions = SessionStorage(persist, configuration: .init(
            sessionCookieParameters: .init(name: Self.cookieName, path: "/", secure: configuration.secureCookies, sameSite: .lax),
            keyPrefix: "session."))
    }

    // MARK: passwords

    /// bcrypt is deliberately slow; it runs on the thread pool so the event loops keep serving.
    public static func hashPassword(_ password: String, cost: UInt8) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    static func verifyPassword(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    public static func checkPasswordStrength(_ password: String) throws(DomainError) {
        guard password.count >= 10 else { throw .invalid("/password", "must be at least 10 characters") }
        guard password.count <= 72 else { throw .invalid("/password", "must be at most 72 characters (bcrypt's limit)") }
    }

    /// A hash no password matches, verified for unknown users so timing does not tell
    /// which usernames exist.
    static let decoyHash = Bcrypt.hash("decoy password that matches nothing", cost: 10)

    public enum SignInResult: Sendable {
        case signedIn(User, cookie: Cookie, csrfToken: String)
        case refused(DomainError)
    }

    /// Checks the password, counting failures; a locked or disabled account is refused
    /// with the same message as a wrong password, except for the lock's end time.
    public func signIn(username: String, password: String, now: Date = Date()) async throws -> SignInResult {
        let refused = DomainError.unauthenticated("the username or password is not right")
        guard let creds = try await store.users.credentials(username: username) else {
            _ = try await Self.verifyPassword(password, hash: Self.decoyHash)
            try await store.audit.record(actor: nil, actorName: username, action: .signInFailed, entity: "user", entityID: nil)
            return .refused(refused)
        }
        let actor = Actor(userID: creds.user.id, name: creds.user.displayName, role: creds.user.role)
        if let until = creds.lockedUntil, until > now {
            try await store.audit.record(actor: actor, action: .signInFailed, entity: "user", entityID: "\(creds.user.id)")
            return .refused(.unauthenticated("too many failed sign-ins; try again after \(Instant.format(until))"))
        }
        guard try await Self.verifyPassword(password, hash: creds.passwordHash), !creds.user.disabled else {
            try await store.users.recordFailedSignIn(creds.user.id, threshold: configuration.signInFailureLimit,
                                                     lockFor: configuration.signInLockSeconds, now: now)
            try await store.audit.record(actor: actor, action: .signInFailed, entity: "user", entityID: "\(creds.user.id)")
            return .refused(refused)
        }
        try await store.users.recordSignIn(creds.user.id)
        try await store.audit.record(actor: actor, action: .signIn, entity: "user", entityID: "\(creds.user.id)")
        let csrf = Self.randomToken(bytes: 24)
        let cookie = try await sessions.save(session: BrowserSession(userID: creds.user.id.rawValue, csrfToken: csrf),
                                             expiresIn: configuration.sessionTimeout)
        return .signedIn(creds.user, cookie: cookie, csrfToken: csrf)
    }

    public func signOut(request: Request) async throws -> Cookie? {
        try? await sessions.delete(request: request)
    }

    // MARK: API tokens

    /// `crm_` and 32 random bytes in URL-safe base64: long enough that a hash lookup
    /// (SHA-256, not bcrypt) is safe and fast on every request.
    public static func newTokenSecret() -> String { "crm_" + randomToken(bytes: 32) }

    /// Lower-case hex of the secret's SHA-256, written from a table: it runs on every API
    /// request, where `String(format:)` per byte cost 6% of a customer read.
    public static func tokenHash(_ secret: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(64)
        for byte in SHA256.hash(data: Data(secret.utf8)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: hex, as: UTF8.self)
    }

    static func randomToken(bytes: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        let data = Data((0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &rng) })
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    // MARK: resolving a request

    public struct Resolved: Sendable {
        public var actor: Actor
        public var user: User
        /// Set when the request came with a session cookie rather than a token.
        public var session: BrowserSession?
    }

    public func resolve(_ request: Request) async throws -> Resolved? {
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
            let hash = Self.tokenHash(String(parts[1]))
            let found: (APIToken, User)?
            if let cached = tokenCache.lookup(hash) {
                found = cached
            } else {
                found = try await store.users.authenticate(tokenHash: hash)
                if let (token, user) = found { tokenCache.store(hash, token: token, user: user) }
            }
            guard let (token, user) = found else { return nil }
            return Resolved(actor: Actor(userID: user.id, name: user.displayName, role: user.role, tokenScope: token.scope), user: user, session: nil)
        }
        guard let session = try? await sessions.load(request: request) else { return nil }
        guard let user = try? await store.users.get(User.ID(session.userID)), !user.disabled else { return nil }
        return Resolved(actor: Actor(userID: user.id, name: user.displayName, role: user.role), user: user, session: session)
    }
}

/// Resolves the caller of each API request into `RequestActor.current`. It rejects only
/// what is certainly wrong (a bad token, a cookie write without its CSRF token); whether
/// an anonymous caller may proceed is the handler's decision.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let resolved = try await authenticator.resolve(request)
        if resolved == nil, request.headers[.authorization] != nil {
            return ProblemDetails(type: "/problems/unauthenticated", title: "Sign in first", status: 401,
                                  detail: "The bearer token is unknown, revoked, or its user is disabled.").response
        }
        let signingIn = request.method == .post && request.uri.path.hasSuffix("/session")
        if let session = resolved?.session, ![.get, .head, .options].contains(request.method), !signingIn,
           request.headers[Authenticator.csrfHeader] != session.csrfToken {
            return ProblemDetails(type: "/problems/csrf", title: "Missing or wrong CSRF token", status: 403,
                                  detail: "Writes with a session cookie must send the session's CSRF token in X-CSRF-Token.",
                                  errors: [.init(pointer: "/header/X-CSRF-Token", reason: "does not match the session")]).response
        }
        var response = try await RequestActor.$current.withValue(resolved?.actor) {
            try await RequestActor.$request.withValue(request) {
                try await next(request, context)
            }
        }
        Self.decodeURIStyle(&response.headers)
        return response
    }

    /// The OpenAPI runtime writes header values percent-encoded (as URI "simple" style),
    /// which turns `"3"` into `%223%22`; these headers must go out as HTTP defines them.
    static func decodeURIStyle(_ headers: inout HTTPFields) {
        for name in [HTTPField.Name.eTag, .setCookie, .location] {
            if let value = headers[name], value.contains("%"), let decoded = value.removingPercentEncoding {
                headers[name] = decoded
            }
        }
    }
}
