import CRMCore
import CRMServer
import CRMStore
import CRMTestSupport
import Foundation
import Testing

@Suite("Customer API")
struct CustomerAPITests {
    @Test(arguments: TestBackend.available)
    func createReadUpdateArchiveWithETags(backend: TestBackend) async throws {
        try await withAPI(backend) { api, store, users in
            let created = try await api.post("/customers", customerJSON("张伟", email: "ZW@Example.com"))
            #expect(created.status == 201)
            #expect(created.etag == "\"1\"")
            let id = try #require(created.id)
            #expect(created.headers[.location] == "/api/v1/customers/\(id)")
            #expect(created.object["email"] as? String == "zw@example.com")

            let read = try await api.get("/customers/\(id)")
            #expect(read.status == 200 && read.etag == "\"1\"" && read.object["name"] as? String == "张伟")

            let updated = try await api.put("/customers/\(id)", customerJSON("张伟", email: "zhang@example.com"), ifMatch: "\"1\"")
            #expect(updated.status == 200 && updated.etag == "\"2\"")

            let stale = try await api.put("/customers/\(id)", customerJSON("张三", email: "x@example.com"), ifMatch: "\"1\"")
            #expect(stale.status == 412 && stale.isProblem && stale.pointers == ["/header/If-Match"])
            let missing = try await api.put("/customers/\(id)", customerJSON("张三"), ifMatch: nil)
            #expect(missing.status == 428 && missing.isProblem)
            let after = try await api.get("/customers/\(id)")
            #expect(after.object["name"] as? String == "张伟" && after.object["email"] as? String == "zhang@example.com", "nothing overwritten")

            let archived = try await api.post("/customers/\(id)/archive", "")
            #expect(archived.status == 200 && archived.object["archivedAt"] != nil)
            #expect(try await api.get("/customers").items.isEmpty)
            #expect(try await api.get("/customers?includeArchived=true").items.count == 1)

            let audit = try await api.get("/audit?entity=customer&entityID=\(id)")
            #expect(audit.items.map { $0["action"] as? String } == ["archive", "update", "create"])
            let change = (audit.items[1]["changes"] as? [[String: Any]])?.first
            #expect(change?["field"] as? String == "email" && change?["before"] as? String == "zw@example.com" && change?["after"] as? String == "zhang@example.com")
            #expect(audit.items[1]["actorID"] as? Int64 ?? (audit.items[1]["actorID"] as? NSNumber)?.int64Value == users.admin.userID.rawValue)
        }
    }

    @Test(arguments: TestBackend.available)
    func everyBadRequestIsAProblemNamingTheField(backend: TestBackend) async throws {
        try await withAPI(backend) { api, store, users in
            let malformed = try await api.post("/customers", #"{"kind": "person", "#)
            #expect(malformed.status == 400 && malformed.isProblem && malformed.problemType == "/problems/malformed-request")

            let missing = try await api.post("/customers", #"{"kind":"person","roles":["customer"],"profile":{"timeZone":"Asia/Shanghai","hobbies":[],"contactWindows":[],"doNotContact":[]},"tags":[],"customFields":{}}"#)
            #expect(missing.status == 400 && missing.pointers == ["/name"])

            let invalid = try await api.post("/customers", customerJSON("李四", email: "not-an-email"))
            #expect(invalid.status == 400 && invalid.pointers == ["/email"] && invalid.problemType == "/problems/validation")

            let badDate = try await api.post("/customers", customerJSON("李四", extra: #""externalID":"x1""#).replacingOccurrences(of: #""hobbies":[]"#, with: #""hobbies":[],"birthday":"2020-02-30""#))
            #expect(badDate.status == 400 && badDate.pointers == ["/profile/birthday"])

            let unknownField = try await api.post("/customers", customerJSON("李四").replacingOccurrences(of: #""customFields":{}"#, with: #""customFields":{"shoe_size":42}"#))
            #expect(unknownField.status == 400 && unknownField.pointers == ["/customFields/shoe_size"])

            let unknownID = try await api.get("/customers/424242")
            #expect(unknownID.status == 404 && unknownID.isProblem && unknownID.problemType == "/problems/not-found")

            let forbidden = try await api.post("/customers", customerJSON("王五"), as: "marketing")
            #expect(forbidden.status == 403 && forbidden.isProblem)

            let anonymous = try await api.get("/customers", as: nil)
            #expect(anonymous.status == 401 && anonymous.isProblem)

            let wrongType = try await api.post("/customers", customerJSON("x").replacingOccurrences(of: #""name":"x""#, with: #""name":5"#))
            #expect(wrongType.status == 400 && wrongType.pointers == ["/name"])
            let badFilter = try await api.get("/customers?role=emperor")
            #expect(badFilter.status == 400 && badFilter.isProblem)

            let badCursor = try await api.get("/customers?cursor=nonsense")
            #expect(badCursor.status == 400 && badCursor.pointers == ["/query/cursor"])

            let stored = try await store.customers.list(.init(includeArchived: true))
            #expect(stored.items.isEmpty, "no bad request stored anything")
            _ = users
        }
    }

    @Test(arguments: TestBackend.available)
    func searchFindsChineseByOneAndTwoCharacters(backend: TestBackend) async throws {
        try await withAPI(backend) { api, _, _ in
            for name in ["张伟", "张三丰", "李伟", "John Smith"] { _ = try await api.post("/customers", customerJSON(name)) }

            func names(_ q: String) async throws -> Set<String> {
                let r = try await api.get("/search?q=" + q.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!)
                #expect(r.status == 200)
                return Set(r.items.compactMap { $0["name"] as? String })
            }
            #expect(try await names("张") == ["张伟", "张三丰"])
            #expect(try await names("伟") == ["张伟", "李伟"])
            #expect(try await names("张伟") == ["张伟"])
            #expect(try await names("smi") == ["John Smith"])
            #expect(try await api.get("/search?q=%20").status == 400)
            let oneLetter = try await api.get("/search?q=a")
            #expect(oneLetter.status == 400 && oneLetter.pointers == ["/query/q"], "one Latin letter would match nearly everyone")
        }
    }

    @Test(arguments: TestBackend.available)
    func customer360AndItsParts(backend: TestBackend) async throws {
        try await withAPI(backend) { api, _, _ in
            let org = try #require(try await api.post("/customers", customerJSON("腾讯", kind: "organisation")).id)
            let person = try #require(try await api.post("/customers", customerJSON("小马")).id)
            let contact = try await api.post("/contacts", #"{"organisationID":\#(org),"personID":\#(person),"jobTitle":"CEO","buyingRole":"decisionMaker","influence":90}"#)
            #expect(contact.status == 201)
            let product = try await api.post("/products", #"{"sku":"P-1","name":"打印机","listPrice":{"minorUnits":129900,"currency":"CNY"},"unitCost":{"minorUnits":90000,"currency":"cny"}}"#)
            #expect(product.status == 201)
            let pid = try #require(product.id)
            let order = try await api.post("/orders", #"{"customerID":\#(org),"orderDate":"2026-10-01","currency":"CNY","lines":[{"productID":\#(pid),"quantity":2,"unitPrice":129900,"discount":9900,"unitCost":90000,"onPromotion":false}]}"#)
            #expect(order.status == 201)
            #expect((order.object["totals"] as? [String: Any])?["profit"] as? NSNumber == 69900)
            #expect(try await api.post("/interactions", #"{"customerID":\#(org),"kind":"visit","direction":"outbound","subject":"拜访"}"#).status == 201)
            #expect(try await api.post("/tasks", #"{"customerID":\#(org),"title":"报价","dueDate":"2026-12-01","status":"open"}"#).status == 201)
            #expect(try await api.post("/consents", #"{"customerID":\#(org),"channel":"email","status":"granted","method":"web form"}"#).status == 201)

            let view = try await api.get("/customers/\(org)/360")

            #expect(view.status == 200)
            #expect((view.object["customer"] as? [String: Any])?["name"] as? String == "腾讯")
            #expect((view.object["contacts"] as? [[String: Any]])?.first?["personName"] as? String == "小马")
            let summary = (view.object["summaries"] as? [[String: Any]])?.first
            #expect(summary?["revenue"] as? NSNumber == 249900 && summary?["repeatCount"] as? NSNumber == 0)
            #expect((view.object["recentOrders"] as? [Any])?.count == 1)
            #expect((view.object["interactions"] as? [Any])?.count == 1)
            #expect((view.object["openTasks"] as? [Any])?.count == 1)
            #expect((view.object["consents"] as? [Any])?.count == 1)
            #expect(try await api.get("/customers/\(person)/contacts").array.first?["organisationName"] as? String == "腾讯")
            #expect(try await api.get("/customers/\(org)/summary").array.count == 1)
            #expect(try await api.get("/customers/\(org)/consents").array.count == 1)
            #expect(try await api.get("/customers/999/360").status == 404)
        }
    }
}
