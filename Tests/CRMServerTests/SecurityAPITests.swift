import CRMCore
import CRMServer
import CRMStore
import CRMTestSupport
import Foundation
import HTTPTypes
import Testing

@Suite("Sign-in, sessions, tokens and permissions")
struct SecurityAPITests {
    /// Stored token hashes are lower-case hex SHA-256: tokens made before must keep matching.
    @Test func tokenHashIsLowerCaseHexSHA256() {
        #expect(Authenticator.tokenHash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Authenticator.tokenHash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test(arguments: TestBackend.available)
    func sessionCookieWithCSRFAndLockout(backend: TestBackend) async throws {
        try await withAPI(backend) { api, store, users in
            let hash = try await Authenticator.hashPassword("correct horse battery", cost: 4)
            try await store.users.setPassword(users.sales.userID, hash: hash, by: nil)

            let signIn = try await api.post("/session", #"{"username":"sales","password":"correct horse battery"}"#, as: nil)
            #expect(signIn.status == 200)
            let setCookie = try #require(signIn.headers[.setCookie])
            #expect(setCookie.hasPrefix("crm_session=") && setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax"))
            let cookie = String(setCookie.split(separator: ";")[0])
            let csrf = try #require(signIn.object["csrfToken"] as? String)

            let me = try await api.call(.get, "/me", as: nil, headers: ["Cookie": cookie])
            #expect(me.status == 200 && me.object["username"] as? String == "sales")
            let noCSRF = try await api.call(.post, "/customers", as: nil, json: customerJSON("赵六"), headers: ["Cookie": cookie])
            #expect(noCSRF.status == 403 && noCSRF.problemType == "/problems/csrf")
            let withCSRF = try await api.call(.post, "/customers", as: nil, json: customerJSON("赵六"), headers: ["Cookie": cookie, "X-CSRF-Token": csrf])
            #expect(withCSRF.status == 201)
            let signOut = try await api.call(.delete, "/session", as: nil, headers: ["Cookie": cookie, "X-CSRF-Token": csrf])
            #expect(signOut.status == 204)
            #expect(try await api.call(.get, "/me", as: nil, headers: ["Cookie": cookie]).status == 401)

            for _ in 0..<3 {
                #expect(try await api.post("/session", #"{"username":"sales","password":"wrong password!"}"#, as: nil).status == 401)
            }
            let locked = try await api.post("/session", #"{"username":"sales","password":"correct horse battery"}"#, as: nil)
            #expect(locked.status == 401 && (locked.object["detail"] as? String)?.contains("too many failed sign-ins") == true)
            #expect(try await api.post("/session", #"{"username":"nobody","password":"whatever it is"}"#, as: nil).status == 401)

            let audit = try await api.get("/audit?entity=user&entityID=\(users.sales.userID)")
            let actions = audit.items.compactMap { $0["action"] as? String }
            #expect(actions.filter { $0 == "signIn" }.count == 1 && actions.filter { $0 == "signInFailed" }.count == 4)
        }
    }

    @Test(arguments: TestBackend.available)
    func tokensAreScopedAndRevocable(backend: TestBackend) async throws {
        try await withAPI(backend) { api, _, users in
            #expect(try await api.get("/customers", as: "readonly").status == 200)
            let write = try await api.post("/customers", customerJSON("钱七"), as: "readonly")
            #expect(write.status == 403)
            #expect(try await api.call(.get, "/customers", as: nil, headers: ["Authorization": "Bearer crm_made_up"]).status == 401)

            let created = try await api.post("/tokens", #"{"name":"erp sync","scope":"read"}"#, as: "sales")
            #expect(created.status == 201)
            let secret = try #require(created.object["secret"] as? String)
            let tokenID = try #require(((created.object["token"] as? [String: Any])?["id"] as? NSNumber)?.int64Value)
            #expect(try await api.call(.get, "/me", as: nil, headers: ["Authorization": "Bearer \(secret)"]).object["username"] as? String == "sales")
            #expect(try await api.get("/tokens", as: "sales").array.count == 2)
            #expect(try await api.get("/tokens?userID=\(users.sales.userID)", as: "sales2").status == 403)
            #expect(try await api.call(.delete, "/tokens/\(tokenID)", as: "sales2").status == 403)
            #expect(try await api.call(.delete, "/tokens/\(tokenID)", as: "sales").status == 204)
            #expect(try await api.call(.get, "/me", as: nil, headers: ["Authorization": "Bearer \(secret)"]).status == 401)
        }
    }

    /// Role × action: what each role may do through the API (domain §12).
    @Test(arguments: TestBackend.available)
    func permissionMatrix(backend: TestBackend) async throws {
        try await withAPI(backend) { api, store, users in
            let owned = try await store.customers.create(makeCustomerInput("销售的客户"), by: users.sales)
            let product = try await store.products.create(makeProductInput(), by: users.admin)
            let roles = ["admin", "manager", "sales", "sales2", "marketing", "service"]
            typealias Action = (name: String, run: (String, Int) async throws -> Int)
            let actions: [Action] = [
                ("read customers", { who, _ in try await api.get("/customers", as: who).status }),
                ("create customer", { who, n in try await api.post("/customers", customerJSON("新客户\(n)"), as: who).status }),
                ("edit sales' customer", { who, _ in
                    let current = try await api.get("/customers/\(owned.id)")
                    return try await api.put("/customers/\(owned.id)", customerJSON("销售的客户", owner: users.sales.userID, extra: #""source":"\#(who)""#), ifMatch: current.etag, as: who).status
                }),
                ("order for sales' customer", { who, _ in
                    try await api.post("/orders", #"{"customerID":\#(owned.id),"orderDate":"2026-11-01","currency":"CNY","lines":[{"productID":\#(product.id),"quantity":1,"unitPrice":100,"discount":0,"unitCost":50,"onPromotion":false}]}"#, as: who).status
                }),
                ("log interaction", { who, _ in try await api.post("/interactions", #"{"customerID":\#(owned.id),"kind":"call","direction":"inbound"}"#, as: who).status }),
                ("create product", { who, n in try await api.post("/products", #"{"sku":"M-\#(n)","name":"x","listPrice":{"minorUnits":1,"currency":"CNY"},"unitCost":{"minorUnits":1,"currency":"CNY"}}"#, as: who).status }),
                ("read audit", { who, _ in try await api.get("/audit", as: who).status }),
                ("create user", { who, n in try await api.post("/users", #"{"username":"u\#(n)","displayName":"U","role":"service","password":"long enough pw"}"#, as: who).status }),
                ("define custom field", { who, n in try await api.post("/custom-fields", #"{"key":"f\#(n)","label":"F","kind":"text","options":[],"required":false}"#, as: who).status }),
            ]
            let expected: [String: [Int]] = [
                // read, create, edit sales', order, interaction, product, audit, user, custom field
                "admin": [200, 201, 200, 201, 201, 201, 200, 201, 201],
                "manager": [200, 201, 200, 201, 201, 201, 200, 403, 403],
                "sales": [200, 201, 200, 201, 201, 403, 403, 403, 403],
                "sales2": [200, 201, 403, 403, 403, 403, 403, 403, 403],
                "marketing": [200, 403, 403, 403, 201, 403, 403, 403, 403],
                "service": [200, 403, 403, 403, 201, 403, 403, 403, 403],
            ]
            var n = 0
            for role in roles {
                var got: [Int] = []
                for action in actions {
                    n += 1
                    got.append(try await action.run(role, n))
                }
                #expect(got == expected[role], "\(role): \(zip(actions.map(\.name), got).map { "\($0)=\($1)" })")
            }
        }
    }
}
