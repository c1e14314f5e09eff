import CRMCore
import CRMServer
import CRMStore
import CRMTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// A response with its JSON body parsed for checking.
struct APIResponse {
    var status: Int
    var headers: HTTPFields
    var text: String

    var json: Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }
    var object: [String: Any] { json as? [String: Any] ?? [:] }
    var array: [[String: Any]] { json as? [[String: Any]] ?? [] }
    var items: [[String: Any]] { object["items"] as? [[String: Any]] ?? [] }
    var pointers: [String] { (object["errors"] as? [[String: Any]] ?? []).compactMap { $0["pointer"] as? String } }
    var problemType: String? { object["type"] as? String }
    var isProblem: Bool { headers[.contentType] == "application/problem+json" }
    var id: Int64? { (object["id"] as? NSNumber)?.int64Value }
    var etag: String? { headers[.eTag] }
}

/// Drives the API in-process, authenticated as one of the test users by bearer token.
struct APIClient {
    let client: any TestClientProtocol
    let tokens: [String: String]

    func call(_ method: HTTPRequest.Method, _ path: String, as user: String? = "admin", json: String? = nil,
              headers extra: [String: String] = [:]) async throws -> APIResponse {
        var headers = HTTPFields()
        if let user, let token = tokens[user] { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        for (k, v) in extra { headers[HTTPField.Name(k)!] = v }
        let uri = path.hasPrefix("/api") || path.hasPrefix("/healthz") || path.hasPrefix("/metrics") || path.hasPrefix("/openapi") ? path : "/api/v1" + path
        return try await client.execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }) { r in
            APIResponse(status: Int(r.status.code), headers: r.headers, text: String(buffer: r.body))
        }
    }

    func get(_ path: String, as user: String? = "admin") async throws -> APIResponse { try await call(.get, path, as: user) }
    func post(_ path: String, _ json: String, as user: String? = "admin", headers: [String: String] = [:]) async throws -> APIResponse {
        try await call(.post, path, as: user, json: json, headers: headers)
    }
    func put(_ path: String, _ json: String, ifMatch: String?, as user: String? = "admin") async throws -> APIResponse {
        try await call(.put, path, as: user, json: json, headers: ifMatch.map { ["If-Match": $0] } ?? [:])
    }
}

/// Builds the API over a fresh store with one user per role, each with a read-write token
/// (and `readonly`, the admin's read-scoped token), and runs `body` against it in-process.
func withAPI(_ backend: TestBackend, _ body: @escaping @Sendable (APIClient, Store, TestUsers) async throws -> Void) async throws {
    try await withTestStore(backend) { store, users in
        var tokens: [String: String] = [:]
        let named: [(String, Actor)] = [("admin", users.admin), ("manager", users.manager), ("sales", users.sales), ("sales2", users.otherSales),
                                        ("marketing", users.marketing), ("service", users.service)]
        for (name, actor) in named {
            let secret = Authenticator.newTokenSecret()
            _ = try await store.users.createToken(for: actor.userID, name: "test", scope: .readWrite, hash: Authenticator.tokenHash(secret), by: nil)
            tokens[name] = secret
        }
        let readSecret = Authenticator.newTokenSecret()
        _ = try await store.users.createToken(for: users.admin.userID, name: "read", scope: .read, hash: Authenticator.tokenHash(readSecret), by: nil)
        tokens["readonly"] = readSecret
        let configuration = ServerConfiguration(signInFailureLimit: 3, bcryptCost: 4, logLevel: .warning)
        let router = try buildRouter(configuration: configuration, dependencies: .init(store: store), logger: testLogger)
        // No services: the test fixture already runs the database.
        let app = Application(router: router, logger: testLogger)
        let frozenTokens = tokens
        try await app.test(.router) { client in
            try await body(APIClient(client: client, tokens: frozenTokens), store, users)
        }
    }
}

/// A minimal valid customer body.
func customerJSON(_ name: String, kind: String = "person", email: String? = nil, owner: User.ID? = nil, extra: String = "") -> String {
    var fields = [#""kind":"\#(kind)""#, #""name":"\#(name)""#, #""roles":["customer"]"#,
                  #""profile":{"timeZone":"Asia/Shanghai","hobbies":[],"contactWindows":[],"doNotContact":[]}"#,
                  #""tags":[]"#, #""customFields":{}"#]
    if let email { fields.append(#""email":"\#(email)""#) }
    if let owner { fields.append(#""ownerID":\#(owner.rawValue)"#) }
    if !extra.isEmpty { fields.append(extra) }
    return "{" + fields.joined(separator: ",") + "}"
}
