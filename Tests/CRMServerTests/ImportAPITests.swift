import CRMCore
import CRMServer
import CRMStore
import CRMTestSupport
import Foundation
import Testing

@Suite("Import, export, duplicates and merge through the API")
struct ImportAPITests {
    /// Polls the job until it is no longer running.
    static func finished(_ api: APIClient, _ id: Int64, as user: String) async throws -> APIResponse {
        for _ in 0..<200 {
            let job = try await api.get("/imports/\(id)", as: user)
            if job.object["status"] as? String != "running" { return job }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("import \(id) did not finish")
        return try await api.get("/imports/\(id)", as: user)
    }

    static func upload(_ api: APIClient, _ query: String, _ csv: String, as user: String) async throws -> APIResponse {
        try await api.call(.post, "/imports/customers\(query)", as: user, json: csv, headers: ["Content-Type": "text/csv"])
    }

    @Test(arguments: TestBackend.available)
    func productsThenOrdersImportAsJobs(backend: TestBackend) async throws {
        try await withAPI(backend) { api, store, users in
            var customer = makeCustomerInput("王五")
            customer.externalID = "C-5"
            let c = try await store.customers.create(customer, by: users.admin)
            let products = "sku,name,list_price,unit_cost\nT-1,茶,10,4\n"
            let refused = try await api.call(.post, "/imports/products", as: "sales", json: products, headers: ["Content-Type": "text/csv"])
            #expect(refused.status == 403, "salespeople do not change the catalogue")
            let p = try await api.call(.post, "/imports/products", as: "manager", json: products, headers: ["Content-Type": "text/csv"])
            let productJob = try await Self.finished(api, try #require(p.id), as: "manager")
            #expect(productJob.object["kind"] as? String == "products")
            #expect((productJob.object["report"] as? [String: Any])?["created"] as? Int == 1)

            let noDate = try await api.call(.post, "/imports/orders", as: "admin", json: "order_id,customer,sku,quantity,unit_price\nA,C-5,T-1,1,10\n",
                                            headers: ["Content-Type": "text/csv"])
            #expect(noDate.status == 400 && noDate.text.contains("/columns/orderDate"))
            let orders = "订单号,客户编号,日期,商品编码,数量,单价\nA,C-5,2026-02-01,T-1,2,10\nA,C-5,2026-02-01,T-1,1,9.5\nB,C-5,2026-02-03,T-9,1,1\n"
            let started = try await api.call(.post, "/imports/orders?currency=CNY", as: "admin", json: orders, headers: ["Content-Type": "text/csv"])
            #expect(started.status == 202 && started.object["kind"] as? String == "orders")
            let job = try await Self.finished(api, try #require(started.id), as: "admin")
            let report = try #require(job.object["report"] as? [String: Any])
            #expect(report["created"] as? Int == 1 && report["linesWritten"] as? Int == 2 && report["failed"] as? Int == 1)
            let errors = try await api.get("/imports/\(try #require(started.id))/errors", as: "admin")
            #expect(errors.text.contains("4,商品编码,T-9,unknown product: no product has SKU T-9"))
            #expect(try await store.summaries.summaries(of: c.id).first?.revenue == 2_950)

            let whole = try await api.call(.post, "/imports/orders?mode=allOrNothing", as: "admin",
                                           json: "order_id,customer,order_date,sku,quantity,unit_price\nC,C-5,2026-02-05,T-1,1,10\nD,C-5,2026-02-05,T-9,1,1\n",
                                           headers: ["Content-Type": "text/csv"])
            let wholeID = try #require(whole.id)
            let wholeReport = try #require(try await Self.finished(api, wholeID, as: "admin").object["report"] as? [String: Any])
            #expect(wholeReport["mode"] as? String == "allOrNothing" && wholeReport["committed"] as? Bool == false)
            #expect(try await store.orders.list(.init(customerID: c.id)).items.count == 1, "order C is not written")
        }
    }

    @Test(arguments: TestBackend.available)
    func importJobReportsProgressResultAndEveryBadRow(backend: TestBackend) async throws {
        try await withAPI(backend) { api, store, users in
            let csv = "姓名,手机,邮箱\n张三,13800001111,zhang@example.com\n李四,13800002222,not-an-email\n"
            let started = try await Self.upload(api, "?source=%E5%B1%95%E4%BC%9A&tags=2026&followUp=%E5%9B%9E%E8%AE%BF&roles=prospect", csv, as: "sales")
            #expect(started.status == 202 && started.object["estimatedRows"] as? Int == 3)
            let id = try #require(started.id)
            let job = try await Self.finished(api, id, as: "sales")
            let report = try #require(job.object["report"] as? [String: Any])
            #expect(job.object["status"] as? String == "finished" && report["created"] as? Int == 1 && report["failed"] as? Int == 1)
            #expect(report["tasksCreated"] as? Int == 1 && report["committed"] as? Bool == true)
            let problems = report["problems"] as? [[String: Any]] ?? []
            #expect(problems.first?["row"] as? Int == 3 && problems.first?["column"] as? String == "邮箱")

            let errors = try await api.get("/imports/\(id)/errors", as: "sales")
            #expect(errors.status == 200 && errors.text.contains("3,邮箱,not-an-email,is not an e-mail address"))
            #expect(try await api.get("/imports/\(id)", as: "sales2").status == 404, "another salesperson's import is not theirs to see")
            #expect(try await api.get("/imports/\(id)", as: "manager").status == 200)

            let zhang = try #require(try await store.customers.search("张三").first)
            let stored = try await store.customers.get(zhang.id)
            #expect(stored.ownerID == users.sales.userID && stored.roles == [.prospect] && stored.source == "展会" && stored.tags == ["2026"])

            let noName = try await Self.upload(api, "", "email,phone\na@example.com,1\n", as: "admin")
            #expect(noName.status == 400 && noName.isProblem && noName.pointers == ["/columns/name"])
            let dry = try await Self.upload(api, "?dryRun=true&mode=allOrNothing", "name,email\n钱七,qian@example.com\n", as: "admin")
            let dryJob = try await Self.finished(api, try #require(dry.id), as: "admin")
            let dryReport = dryJob.object["report"] as? [String: Any]
            #expect(dryReport?["created"] as? Int == 1 && dryReport?["committed"] as? Bool == false)
            #expect(try await store.customers.search("钱七").isEmpty)
            #expect(try await Self.upload(api, "", csv, as: "marketing").status == 403)
            let unknownProfile = try await Self.upload(api, "?profile=nope", csv, as: "admin")
            #expect(unknownProfile.status == 400 && unknownProfile.pointers == ["/query/profile"])
            let saving = try await Self.upload(api, "?saveProfile=cards&map=%E5%9B%BA%E8%AF%9D%3Dphone", "姓名,固话\n孙八,01088880000\n", as: "admin")
            _ = try await Self.finished(api, try #require(saving.id), as: "admin")
            #expect(try await store.importProfiles.mapping(named: "cards") == ["固话": "phone"])
            let reused = try await Self.upload(api, "?profile=cards", "姓名,固话\n周九,01088881111\n", as: "admin")
            _ = try await Self.finished(api, try #require(reused.id), as: "admin")
            #expect(try await store.customers.search("周九").first?.phone == "+861088881111")
            #expect(try await Self.upload(api, "?mode=sometimes", csv, as: "admin").status == 400)
        }
    }

    @Test(arguments: TestBackend.available)
    func exportStreamsCSVAndJSONLines(backend: TestBackend) async throws {
        try await withAPI(backend) { api, store, users in
            for name in ["王五", "赵六"] { _ = try await store.customers.create(makeCustomerInput(name), by: users.admin) }
            let csv = try await api.get("/exports/customers", as: "service")
            #expect(csv.status == 200 && csv.text.hasPrefix("\u{FEFF}external_id,id,kind,name"))
            #expect(csv.text.split(separator: "\r\n").count == 3 && csv.text.contains(",王五,") && csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = try await api.get("/exports/customers?format=jsonl&kind=person", as: "service")
            let names = lines.text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.map { $0["name"] as? String }
            #expect(names == ["王五", "赵六"])
            #expect(try await api.get("/exports/customers?format=xml").status == 400)
        }
    }

    @Test(arguments: TestBackend.available)
    func duplicatesMergeAndUndo(backend: TestBackend) async throws {
        try await withAPI(backend) { api, store, users in
            let a = try await store.customers.create(makeCustomerInput("陈晨", email: "chen@example.com", owner: users.sales.userID), by: users.admin)
            let b = try await store.customers.create(makeCustomerInput("陈 晨", email: "CHEN@example.com", phone: "13911112222"), by: users.admin)
            let dups = try await api.get("/duplicates?minScore=0.6", as: "service")
            #expect(dups.object["total"] as? Int == 1)
            let pair = try #require(dups.items.first)
            #expect((pair["first"] as? [String: Any])?["name"] as? String == "陈晨" && pair["reasons"] as? [String] == ["sameEmail"])
            #expect(try await api.get("/duplicates?minScore=2").status == 400)

            #expect(try await api.post("/customers/\(a.id)/merge", #"{"mergedID":\#(b.id)}"#, as: "sales").status == 403,
                    "b is not the salesperson's to merge away")
            let unknown = try await api.post("/customers/\(a.id)/merge", #"{"mergedID":999999}"#, as: "admin")
            #expect(unknown.status == 400 && unknown.pointers == ["/mergedID"])
            let badChoice = try await api.post("/customers/\(a.id)/merge", #"{"mergedID":\#(b.id),"choices":{"name":"both"}}"#, as: "admin")
            #expect(badChoice.status == 400 && badChoice.isProblem)
            let merged = try await api.post("/customers/\(a.id)/merge", #"{"mergedID":\#(b.id),"choices":{"name":"merged"}}"#, as: "manager")
            #expect(merged.status == 200 && merged.etag != nil)
            let customer = try #require(merged.object["customer"] as? [String: Any])
            #expect(customer["name"] as? String == "陈 晨" && customer["phone"] as? String == "+8613911112222")
            let merge = try #require(merged.object["merge"] as? [String: Any])
            let mergeID = try #require((merge["id"] as? NSNumber)?.int64Value)
            #expect(try await store.customers.get(b.id).archivedAt != nil)
            #expect(try await api.get("/customers/\(b.id)/merges").array.count == 1)
            let audit = try await api.get("/audit?entity=customer&entityID=\(b.id)&action=merge", as: "manager")
            #expect(audit.items.count == 1)

            let undone = try await api.post("/merges/\(mergeID)/undo", "", as: "manager")
            #expect(undone.status == 200 && (undone.object["restored"] as? [String: Any])?["archivedAt"] == nil)
            #expect((undone.object["survivor"] as? [String: Any])?["name"] as? String == "陈晨")
            #expect(try await api.post("/merges/\(mergeID)/undo", "", as: "manager").status == 409)
            #expect(try await api.post("/merges/424242/undo", "", as: "manager").status == 404)
        }
    }
}
