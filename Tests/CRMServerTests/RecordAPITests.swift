import CRMCore
import CRMServer
import CRMStore
import CRMTestSupport
import Foundation
import Testing

@Suite("Records through the API")
struct RecordAPITests {
    @Test(arguments: TestBackend.available)
    func productsOrdersAndSummaries(backend: TestBackend) async throws {
        try await withAPI(backend) { api, store, _ in
            let customer = try #require(try await api.post("/customers", customerJSON("孙丽")).id)
            let product = try await api.post("/products", #"{"sku":"INK-1","name":"墨盒","category":"耗材","listPrice":{"minorUnits":19900,"currency":"CNY"},"unitCost":{"minorUnits":9000,"currency":"CNY"}}"#)
            let pid = try #require(product.id)
            #expect(try await api.post("/products", #"{"sku":"INK-1","name":"dup","listPrice":{"minorUnits":1,"currency":"CNY"},"unitCost":{"minorUnits":1,"currency":"CNY"}}"#).pointers == ["/sku"])
            let renamed = try await api.put("/products/\(pid)", #"{"sku":"INK-1","name":"墨盒（黑）","category":"耗材","listPrice":{"minorUnits":19900,"currency":"CNY"},"unitCost":{"minorUnits":9000,"currency":"CNY"}}"#, ifMatch: product.etag)
            #expect(renamed.status == 200 && renamed.object["name"] as? String == "墨盒(黑)", "full-width brackets are folded")
            #expect(try await api.get("/products?category=耗材".addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!).items.count == 1)

            func order(_ date: String, qty: Int) -> String {
                #"{"customerID":\#(customer),"orderDate":"\#(date)","currency":"CNY","lines":[{"productID":\#(pid),"quantity":\#(qty),"unitPrice":19900,"discount":0,"unitCost":9000,"onPromotion":true}]}"#
            }
            let first = try await api.post("/orders", order("2026-09-01", qty: 1))
            _ = try await api.post("/orders", order("2026-10-01", qty: 2))
            let moved = try await api.put("/orders/\(first.id!)", order("2026-09-02", qty: 3), ifMatch: first.etag)
            #expect(moved.status == 200 && moved.etag == "\"2\"")
            #expect(try await api.put("/orders/\(first.id!)", order("2026-09-03", qty: 3), ifMatch: first.etag).status == 412)
            let badLine = try await api.post("/orders", order("2026-10-05", qty: 1).replacingOccurrences(of: #""productID":\#(pid)"#, with: #""productID":777"#))
            #expect(badLine.status == 400 && badLine.pointers == ["/lines/0/productID"])
            let badDate = try await api.post("/orders", order("2026-02-30", qty: 1))
            #expect(badDate.status == 400 && badDate.pointers == ["/orderDate"])

            let summary = try await api.get("/customers/\(customer)/summary").array.first
            #expect(summary?["orderCount"] as? NSNumber == 2 && (summary?["revenue"] as? NSNumber)?.int64Value == 99_500)
            #expect((summary?["promotionRevenue"] as? NSNumber)?.int64Value == 99_500 && summary?["firstPurchase"] as? String == "2026-09-02")
            #expect(try await api.get("/orders?customerID=\(customer)").items.count == 2)
            #expect(try await api.get("/orders/\(first.id!)").object["orderDate"] as? String == "2026-09-02")
            #expect(try await store.summaries.verify().isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func contactsInteractionsTasksAndConsents(backend: TestBackend) async throws {
        try await withAPI(backend) { api, _, users in
            let org = try #require(try await api.post("/customers", customerJSON("京东", kind: "organisation")).id)
            let person = try #require(try await api.post("/customers", customerJSON("刘强")).id)
            let contact = try await api.post("/contacts", #"{"organisationID":\#(org),"personID":\#(person),"influence":80}"#)
            let changed = try await api.put("/contacts/\(contact.id!)", #"{"organisationID":\#(org),"personID":\#(person),"buyingRole":"influencer","influence":101}"#, ifMatch: contact.etag)
            #expect(changed.status == 400 && changed.pointers == ["/influence"])
            let fixed = try await api.put("/contacts/\(contact.id!)", #"{"organisationID":\#(org),"personID":\#(person),"buyingRole":"influencer","influence":60}"#, ifMatch: contact.etag)
            #expect(fixed.status == 200 && fixed.object["buyingRole"] as? String == "influencer")
            #expect(try await api.get("/contacts/\(contact.id!)").object["influence"] as? NSNumber == 60)
            #expect(try await api.post("/contacts", #"{"organisationID":\#(person),"personID":\#(org),"influence":5}"#).pointers == ["/organisationID", "/personID"])

            let call = try await api.post("/interactions", #"{"customerID":\#(person),"kind":"call","direction":"outbound","notes":"问了价格"}"#, as: "service")
            #expect(call.status == 201 && (call.object["userID"] as? NSNumber)?.int64Value == users.service.userID.rawValue)
            #expect(try await api.get("/interactions/\(call.id!)").object["notes"] as? String == "问了价格")
            #expect(try await api.get("/interactions?customerID=\(person)&kind=call").items.count == 1)

            let task = try await api.post("/tasks", #"{"customerID":\#(person),"title":"回电","dueDate":"2026-11-30","status":"open","assigneeID":\#(users.service.userID)}"#)
            #expect(task.status == 201)
            #expect(try await api.get("/tasks?assigneeID=\(users.service.userID)&status=open").items.count == 1)
            let done = try await api.put("/tasks/\(task.id!)", #"{"customerID":\#(person),"title":"回电","dueDate":"2026-11-30","status":"done"}"#, ifMatch: task.etag, as: "service")
            #expect(done.status == 200 && done.object["status"] as? String == "done")
            #expect(try await api.get("/tasks/\(task.id!)").etag == "\"2\"")

            #expect(try await api.post("/consents", #"{"customerID":\#(person),"channel":"sms","status":"granted","method":"paper"}"#, as: "marketing").status == 201)
            #expect(try await api.post("/consents", #"{"customerID":\#(person),"channel":"sms","status":"revoked","method":"phone"}"#, as: "marketing").status == 201)
            let history = try await api.get("/customers/\(person)/consents").array
            #expect(history.map { $0["status"] as? String } == ["granted", "revoked"])
            #expect((history[1]["supersedes"] as? NSNumber)?.int64Value == (history[0]["id"] as? NSNumber)?.int64Value)
        }
    }

    @Test(arguments: TestBackend.available)
    func usersAndCustomFields(backend: TestBackend) async throws {
        try await withAPI(backend) { api, _, users in
            let weak = try await api.post("/users", #"{"username":"newbie","displayName":"新人","role":"sales","password":"short"}"#)
            #expect(weak.status == 400 && weak.pointers == ["/password"])
            let user = try await api.post("/users", #"{"username":"newbie","displayName":"新人","role":"sales","password":"long enough pw","locale":"en"}"#)
            #expect(user.status == 201 && user.object["locale"] as? String == "en")
            #expect(try await api.post("/users", #"{"username":"newbie","displayName":"x","role":"sales","password":"long enough pw"}"#).pointers == ["/username"])
            #expect(try await api.get("/users").array.count == 7)
            let promoted = try await api.put("/users/\(user.id!)", #"{"displayName":"新人","role":"manager","locale":"en","disabled":false}"#, ifMatch: nil)
            #expect(promoted.object["role"] as? String == "manager")
            #expect(try await api.put("/users/\(users.sales.userID)", #"{"displayName":"Me","role":"admin","locale":"en","disabled":false}"#, ifMatch: nil, as: "sales").status == 403)
            #expect(try await api.put("/users/\(users.sales.userID)", #"{"displayName":"Me","role":"sales","locale":"en","disabled":false}"#, ifMatch: nil, as: "sales").status == 200)
            #expect(try await api.post("/users/\(user.id!)/password", #"{"password":"another long one"}"#).status == 204)
            #expect(try await api.post("/users/\(user.id!)/password", #"{"password":"another long one"}"#, as: "sales").status == 403)
            #expect(try await api.get("/users/\(user.id!)").object["displayName"] as? String == "新人")

            let field = try await api.post("/custom-fields", #"{"key":"region","label":"Region","labelZh":"区域","kind":"choice","options":["华东","华北"],"required":false}"#)
            #expect(field.status == 201)
            #expect(try await api.post("/custom-fields", #"{"key":"Bad Key","label":"x","kind":"text","options":[],"required":false}"#).pointers == ["/key"])
            let widened = try await api.put("/custom-fields/region", #"{"key":"region","label":"Region","kind":"choice","options":["华东","华北","华南"],"required":false}"#, ifMatch: nil)
            #expect(widened.status == 200)
            #expect(try await api.get("/custom-fields").array.first?["options"] as? [String] == ["华东", "华北", "华南"])
            let valued = try await api.post("/customers", customerJSON("区域客户").replacingOccurrences(of: #""customFields":{}"#, with: #""customFields":{"region":"华南"}"#))
            #expect(valued.status == 201)
            let wrong = try await api.post("/customers", customerJSON("区域客户").replacingOccurrences(of: #""customFields":{}"#, with: #""customFields":{"region":"火星"}"#))
            #expect(wrong.status == 400 && wrong.pointers == ["/customFields/region"])
        }
    }

    @Test func healthMetricsAndTheSpecAreServed() async throws {
        try await withAPI(.sqlite) { api, _, _ in
            let health = try await api.call(.get, "/healthz", as: nil)
            #expect(health.status == 200 && health.text == "ok")
            let spec = try await api.call(.get, "/openapi.yaml", as: nil)
            #expect(spec.status == 200 && spec.text.hasPrefix("openapi: 3.1.0") && spec.text.contains("operationId: getCustomer360"))
            #expect(try await api.call(.get, "/metrics", as: nil).status == 200)
        }
    }
}
