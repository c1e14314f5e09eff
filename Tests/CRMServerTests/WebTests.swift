import CRMCore
import CRMServer
import CRMStore
import CRMTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A browser without JavaScript: keeps cookies, follows nothing by itself, and reads the
/// CSRF token from the last page so forms can be posted as a person would.
final class TestBrowser: @unchecked Sendable {
    // @unchecked: each test drives its browser from one task, one request at a time.
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    var csrf: String?

    init(client: any TestClientProtocol) { self.client = client }

    struct Page {
        var status: Int
        var headers: HTTPFields
        var html: String
        var location: String? { headers[.location] }
    }

    @discardableResult
    func request(_ method: HTTPRequest.Method, _ path: String, body: ByteBuffer? = nil, contentType: String? = nil) async throws -> Page {
        var headers = HTTPFields()
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        if let contentType { headers[.contentType] = contentType }
        let page = try await client.execute(uri: path, method: method, headers: headers, body: body) { r in
            Page(status: Int(r.status.code), headers: r.headers, html: String(buffer: r.body))
        }
        for field in page.headers where field.name == .setCookie {
            let pair = field.value.split(separator: ";")[0].split(separator: "=", maxSplits: 1).map(String.init)
            if pair.count == 2 {
                if field.value.contains("Max-Age=0") || field.value.contains("1970") { cookies[pair[0]] = nil } else { cookies[pair[0]] = pair[1] }
            }
        }
        if let range = page.html.range(of: #"name="_csrf" value=""#) {
            csrf = String(page.html[range.upperBound...].prefix { $0 != "\"" })
        }
        return page
    }

    func get(_ path: String) async throws -> Page { try await request(.get, path) }

    /// Posts a form with the page's CSRF token (unless `csrf` is false).
    func post(_ path: String, _ fields: [(String, String)], csrf: Bool = true) async throws -> Page {
        let all = (csrf ? [("_csrf", self.csrf ?? "")] : []) + fields
        let body = all.map { "\(Self.escape($0.0))=\(Self.escape($0.1))" }.joined(separator: "&")
        return try await request(.post, path, body: ByteBuffer(string: body), contentType: "application/x-www-form-urlencoded")
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s
    }

    /// Signs in and opens the dashboard, so the next form carries the session's token.
    @discardableResult
    func signIn(_ username: String, password: String = "correct horse battery") async throws -> Page {
        try await get("/login")
        let page = try await post("/login", [("username", username), ("password", password), ("next", "/")])
        if page.status == 303 { try await get("/") }
        return page
    }
}

/// Runs `body` against the whole application (API and pages) with every test user's
/// password set to "correct horse battery".
func withWeb(_ backend: TestBackend, _ body: @escaping @Sendable (TestBrowser, Store, TestUsers) async throws -> Void) async throws {
    try await withTestStore(backend) { store, users in
        let hash = try await Authenticator.hashPassword("correct horse battery", cost: 4)
        for actor in users.all { try await store.users.setPassword(actor.userID, hash: hash, by: nil) }
        let configuration = ServerConfiguration(signInFailureLimit: 3, bcryptCost: 4, logLevel: .warning)
        let router = try buildRouter(configuration: configuration, dependencies: .init(store: store), logger: testLogger)
        let app = Application(router: router, logger: testLogger)
        try await app.test(.router) { client in try await body(TestBrowser(client: client), store, users) }
    }
}

@Suite("Web pages: sign-in, forms, permissions and CSRF")
struct WebTests {
    @Test(arguments: TestBackend.available)
    func signInIsRequiredAndChecked(backend: TestBackend) async throws {
        try await withWeb(backend) { browser, _, _ in
            let anonymous = try await browser.get("/customers?q=%E5%BC%A0")
            #expect(anonymous.status == 303 && anonymous.location == "/login?next=%2Fcustomers%3Fq%3D%25E5%25BC%25A0")

            let form = try await browser.get("/login")
            #expect(form.status == 200 && browser.cookies["crm_csrf"] != nil && browser.csrf == browser.cookies["crm_csrf"])
            let forged = try await browser.post("/login", [("username", "sales"), ("password", "correct horse battery")], csrf: false)
            #expect(forged.status == 403 && browser.cookies["crm_session"] == nil)
            let wrong = try await browser.post("/login", [("username", "sales"), ("password", "not the password")])
            #expect(wrong.status == 401 && wrong.html.contains("用户名或密码不正确") && browser.cookies["crm_session"] == nil)

            let signedIn = try await browser.post("/login", [("username", "sales"), ("password", "correct horse battery"), ("next", "//evil.example/")])
            #expect(signedIn.status == 303 && signedIn.location == "/" && browser.cookies["crm_session"] != nil)
            let dashboard = try await browser.get("/")
            #expect(dashboard.status == 200 && dashboard.html.contains("<h1>仪表盘</h1>") && dashboard.html.contains("Sales · 销售"))

            let out = try await browser.post("/logout", [])
            #expect(out.status == 303 && out.location == "/login?signedOut=1")
            #expect(try await browser.get("/").status == 303)
        }
    }

    @Test(arguments: TestBackend.available)
    func loggingAContactShowsItOnTheTimeline(backend: TestBackend) async throws {
        try await withWeb(backend) { browser, store, users in
            let customer = try await store.customers.create(makeCustomerInput("张伟", owner: users.sales.userID), by: users.sales)
            try await browser.signIn("sales")
            #expect(try await browser.get("/customers/\(customer.id)").status == 200)

            let forged = try await browser.post("/customers/\(customer.id)/interactions", [("kind", "visit"), ("subject", "forged")], csrf: false)
            #expect(forged.status == 403)
            let logged = try await browser.post("/customers/\(customer.id)/interactions",
                                                [("kind", "visit"), ("direction", "outbound"), ("subject", "季度回访 <b>"), ("notes", "")])
            #expect(logged.status == 303 && logged.location == "/customers/\(customer.id)?done=interaction")

            let stored = try await store.interactions.list(.init(customerID: customer.id)).items
            #expect(stored.count == 1 && stored.first?.kind == .visit && stored.first?.subject == "季度回访 <b>" && stored.first?.notes == nil)
            let page = try await browser.get("/customers/\(customer.id)?done=interaction")
            #expect(page.html.contains("联系记录已保存"))
            #expect(page.html.contains("拜访 · 主动联系 · 季度回访 &lt;b&gt;"))
            #expect(!page.html.contains("季度回访 <b>"))

            let task = try await browser.post("/customers/\(customer.id)/tasks", [("title", "寄报价单"), ("dueDate", "2026-13-01")])
            #expect(task.status == 400 && task.html.contains("日期格式应为 YYYY-MM-DD"))
            #expect(try await store.tasks.list(.init(customerID: customer.id)).items.isEmpty)
            // A follow-up due today (in Shanghai) is on the dashboard with its customer.
            let today = CalendarDate(Date(), in: TimeZone(identifier: "Asia/Shanghai")!)
            #expect(try await browser.post("/customers/\(customer.id)/tasks", [("title", "寄报价单"), ("dueDate", today.description)]).status == 303)
            let dashboard = try await browser.get("/")
            #expect(dashboard.html.contains(#"寄报价单 · <a href="/customers/\#(customer.id)">张伟</a>"#))
        }
    }

    @Test(arguments: TestBackend.available)
    func editingChecksFieldsVersionsAndOwnership(backend: TestBackend) async throws {
        try await withWeb(backend) { browser, store, users in
            let mine = try await store.customers.create(makeCustomerInput("王芳", owner: users.sales.userID), by: users.sales)
            let theirs = try await store.customers.create(makeCustomerInput("赵强", owner: users.otherSales.userID), by: users.otherSales)
            try await browser.signIn("sales")

            #expect(try await browser.get("/customers/\(theirs.id)/edit").status == 403)
            let editForm = try await browser.get("/customers/\(mine.id)/edit")
            #expect(editForm.status == 200 && editForm.html.contains(#"name="version" value="\#(mine.version)""#))
            let fields: [(String, String)] = [("version", "\(mine.version)"), ("kind", "person"), ("name", "王芳"), ("roles", "customer"),
                                              ("email", "not an address"), ("birthday", "1990-02-30"), ("owner", "\(users.sales.userID)")]
            let refused = try await browser.post("/customers/\(mine.id)/edit", fields)
            #expect(refused.status == 400)
            #expect(refused.html.contains(#"id="error-email""#) && refused.html.contains(#"id="error-birthday""#))
            #expect(try await store.customers.get(mine.id).version == mine.version)

            // Someone else saves first: the stale form is refused and shows the latest values.
            var changed = CustomerInput(mine)
            changed.profile.industry = "医疗器械"
            _ = try await store.customers.update(mine.id, with: changed, ifVersion: mine.version, by: users.manager)
            let stale = try await browser.post("/customers/\(mine.id)/edit", [("version", "\(mine.version)"), ("kind", "person"), ("name", "王芳芳"),
                                                                            ("roles", "customer"), ("owner", "\(users.sales.userID)")])
            // The typed name stays in the form; the other's change is listed; the form now
            // carries the new version.
            #expect(stale.status == 409 && stale.html.contains(#"id="name" name="name" value="王芳芳""#))
            #expect(stale.html.contains("<li><b>行业</b>: 医疗器械</li>") && stale.html.contains("<li><b>名称</b>: 王芳</li>"))
            #expect(!stale.html.contains("<li><b>邮箱</b>"))  // equal on both sides: not listed
            #expect(stale.html.contains(#"name="version" value="\#(mine.version + 1)""#))
            #expect(try await store.customers.get(mine.id).name == "王芳")

            let saved = try await browser.post("/customers/\(mine.id)/edit", [("version", "\(mine.version + 1)"), ("kind", "person"), ("name", "王芳芳"),
                                                                            ("roles", "customer"), ("roles", "prospect"), ("industry", "医疗器械"),
                                                                            ("owner", "\(users.sales.userID)")])
            #expect(saved.status == 303)
            let after = try await store.customers.get(mine.id)
            #expect(after.name == "王芳芳" && after.roles == [.customer, .prospect] && after.profile.industry == "医疗器械")
        }
    }

    @Test(arguments: TestBackend.available)
    func languageChoiceIsKeptOnTheAccount(backend: TestBackend) async throws {
        try await withWeb(backend) { browser, store, users in
            try await browser.get("/login")
            // Before sign-in the switch is a cookie.
            let anonymous = try await browser.post("/language", [("language", "en"), ("back", "/login")])
            #expect(anonymous.status == 303 && browser.cookies["crm_lang"] == "en")
            #expect(try await browser.get("/login").html.contains(#"<html lang="en">"#))

            try await browser.signIn("marketing")
            #expect(try await browser.get("/").html.contains(#"<html lang="zh-Hans">"#))
            let switched = try await browser.post("/language", [("language", "en"), ("back", "https://evil.example/")])
            #expect(switched.status == 303 && switched.location == "/")
            #expect(try await store.users.get(users.marketing.userID).locale == "en")
            #expect(try await browser.get("/").html.contains("<h1>Dashboard</h1>"))
        }
    }

    @Test(arguments: TestBackend.available)
    func uploadedImportReportsItsBadRow(backend: TestBackend) async throws {
        try await withWeb(backend) { browser, store, users in
            // A custom field is offered in the mapping too (its recognition once recursed forever).
            _ = try await store.customFields.create(CustomFieldDefinition(key: "region", label: "Region", labelZh: "区域", kind: .text), by: users.admin)
            try await browser.signIn("manager")
            try await browser.get("/imports")
            let boundary = "----crmtest"
            let csv = "编号,姓名,邮箱,备注\nx-1,周杰,zhou@example.com,老客户\nx-2,吴敏,not-an-email,\n"
            var body = ""
            for (name, value) in [("_csrf", browser.csrf ?? ""), ("kind", "customers"), ("mode", "validRows")] {
                body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
            }
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list.csv\"\r\nContent-Type: text/csv\r\n\r\n\(csv)\r\n--\(boundary)--\r\n"
            let mapping = try await browser.request(.post, "/imports", body: ByteBuffer(string: body), contentType: "multipart/form-data; boundary=\(boundary)")
            // Step two: the columns as recognised from the Chinese headers, the unknown one ignored.
            #expect(mapping.status == 200 && mapping.html.contains("list.csv"))
            #expect(mapping.html.contains(#"<option value="externalID" selected="selected">"#) && mapping.html.contains(#"<option value="email" selected="selected">"#))
            #expect(mapping.html.contains(#"<option value selected="selected">"#))  // 备注 is not a customer field: ignored
            #expect(mapping.html.contains(#"<option value="custom.region">"#))
            let upload = try #require(mapping.html.range(of: #"name="upload" value="[^"]+""#, options: .regularExpression).map {
                String(mapping.html[$0].dropFirst(#"name="upload" value=""#.count).dropLast())
            })
            // Without a name column the import cannot start: the page says so and keeps the file.
            let refused = try await browser.post("/imports/start", [("upload", upload), ("map.0", "externalID"), ("map.1", ""), ("map.2", "email"), ("map.3", "")])
            #expect(refused.status == 400 && refused.html.contains("is required"))
            #expect(try await browser.post("/imports/start", [("upload", "not-a-token"), ("map.0", "externalID")]).status == 410)
            // An upload is only its uploader's to start.
            _ = try await browser.post("/logout", [])
            try await browser.signIn("admin")
            #expect(try await browser.post("/imports/start", [("upload", upload), ("map.0", "externalID"), ("map.1", "name")]).status == 410)
            _ = try await browser.post("/logout", [])
            try await browser.signIn("manager")
            let started = try await browser.post("/imports/start", [("upload", upload), ("map.0", "externalID"), ("map.1", "name"), ("map.2", "email"), ("map.3", "")])
            #expect(started.status == 303)
            let location = try #require(started.location)
            var page = try await browser.get(location)
            for _ in 0..<100 where page.html.contains(#"data-status="running""#) {
                try await Task.sleep(for: .milliseconds(50))
                page = try await browser.get(location)
            }
            #expect(page.html.contains(#"data-status="finished""#))
            #expect(page.html.contains("<td class=\"num\" data-label=\"行\">3</td>") && page.html.contains("not-an-email"))
            #expect(try await store.customers.search("周杰").count == 1)
            #expect(try await store.customers.search("吴敏").isEmpty)
            let report = try await browser.get(location + "/errors.csv")
            #expect(report.status == 200 && report.html.contains("not-an-email"))
        }
    }

    @Test(arguments: TestBackend.available)
    func duplicatesAreMergedAndTheMergeUndone(backend: TestBackend) async throws {
        try await withWeb(backend) { browser, store, users in
            let kept = try await store.customers.create(makeCustomerInput("刘洋", email: "liu.yang@example.com", phone: "13900139000"), by: users.manager)
            let twin = try await store.customers.create(makeCustomerInput("刘阳", email: "liu.yang@example.com"), by: users.manager)
            _ = try await store.interactions.create(.init(customerID: twin.id, kind: .call, subject: "询价"), by: users.manager)
            try await browser.signIn("manager")

            let list = try await browser.get("/duplicates")
            #expect(list.html.contains("/duplicates/merge?survivor=\(kept.id)&merged=\(twin.id)") && list.html.contains("邮箱相同"))
            let form = try await browser.get("/duplicates/merge?survivor=\(kept.id)&merged=\(twin.id)")
            #expect(form.status == 200 && form.html.contains(#"name="field.name" value="merged""#))
            #expect(!form.html.contains(#"name="field.email""#))  // equal on both sides: nothing to choose

            let merged = try await browser.post("/duplicates/merge", [("survivor", "\(kept.id)"), ("merged", "\(twin.id)"), ("field.name", "merged")])
            #expect(merged.status == 303 && merged.location == "/customers/\(kept.id)?done=merged")
            #expect(try await store.customers.get(kept.id).name == "刘阳")
            #expect(try await store.interactions.list(.init(customerID: kept.id)).items.count == 1)
            let page = try await browser.get("/customers/\(kept.id)?done=merged")
            let mergeID = try #require(try await store.merges.merges(of: kept.id).first?.id)
            #expect(page.html.contains(#"action="/merges/\#(mergeID)/undo""#))

            let undone = try await browser.post("/merges/\(mergeID)/undo", [])
            #expect(undone.status == 303)
            #expect(try await store.customers.get(kept.id).name == "刘洋")
            #expect(try await store.customers.get(twin.id).archivedAt == nil)
            #expect(try await store.interactions.list(.init(customerID: twin.id)).items.count == 1)
            #expect(try await browser.post("/merges/\(mergeID)/undo", []).status == 409)
        }
    }

    @Test(arguments: TestBackend.available)
    func adminManagesUsersAndTokens(backend: TestBackend) async throws {
        try await withWeb(backend) { browser, store, users in
            try await browser.signIn("manager")
            #expect(try await browser.get("/admin/users").status == 403)
            _ = try await browser.post("/logout", [])

            try await browser.signIn("admin")
            #expect(try await browser.get("/admin/users").status == 200)
            let weak = try await browser.post("/admin/users", [("username", "Bad Name"), ("displayName", "孙丽"), ("role", "service"), ("password", "short")])
            #expect(weak.status == 400 && weak.html.contains(#"id="error-user-username""#) && weak.html.contains(#"id="error-user-password""#))
            let added = try await browser.post("/admin/users", [("username", "sunli"), ("displayName", "孙丽"), ("role", "service"),
                                                               ("locale", "en"), ("password", "a long enough password")])
            #expect(added.status == 303)
            let sunli = try #require(try await store.users.list().first { $0.username == "sunli" })
            #expect(sunli.role == .service && sunli.locale == "en")

            #expect(try await browser.post("/admin/users/\(sunli.id)/role", [("role", "marketing")]).status == 303)
            #expect(try await browser.post("/admin/users/\(sunli.id)/disable", []).status == 303)
            let changed = try await store.users.get(sunli.id)
            #expect(changed.disabled && changed.role == .marketing)

            let badField = try await browser.post("/admin/fields", [("key", "Bad Key"), ("label", "Budget"), ("kind", "number")])
            #expect(badField.status == 400 && badField.html.contains(#"id="error-field-key""#))
            #expect(try await browser.post("/admin/fields", [("key", "region"), ("label", "Region"), ("labelZh", "区域"), ("kind", "choice"),
                                                             ("options", "华东，华北、华南")]).status == 303)
            #expect(try await store.customFields.list().first { $0.key == "region" }?.options == ["华东", "华北", "华南"])

            let settings = try await browser.post("/admin/analytics/settings", [("measure", "revenue"), ("goldShare", "10"), ("windowMonths", "6"),
                                                                               ("monthlyDiscountRate", "0.5"), ("model", "paretonbd")])
            #expect(settings.status == 303)
            let saved = try await store.analytics.settings()
            #expect(saved.measure == .revenue && saved.goldShare == 0.10 && saved.windowMonths == 6 && saved.model == .paretonbd)
            #expect(abs(saved.monthlyDiscountRate - 0.005) < 1e-12 && saved.platinumShare == 0.01)
            let unreadable = try await browser.post("/admin/analytics/settings", [("goldShare", "ten"), ("ironShare", "95")])
            #expect(unreadable.status == 400 && unreadable.html.contains(#"id="error-settings-goldShare""#) && unreadable.html.contains(#"value="ten""#))
            // A refused form keeps its choices as sent, not as stored.
            #expect(try await browser.post("/admin/analytics/settings", [("measure", "profit"), ("goldShare", "x")]).html
                .contains(#"<option value="profit" selected="selected">"#))
            let tooMuch = try await browser.post("/admin/analytics/settings", [("ironShare", "95")])
            #expect(tooMuch.status == 400 && tooMuch.html.contains(#"id="error-settings-ironShare""#))
            #expect(try await store.analytics.settings() == saved)

            let token = try await browser.post("/admin/tokens", [("name", "ERP sync"), ("scope", "read")])
            let secret = try #require(token.html.range(of: #"crm_[A-Za-z0-9_-]+"#, options: .regularExpression).map { String(token.html[$0]) })
            let me = try await browser.client.execute(uri: "/api/v1/me", method: .get, headers: [.authorization: "Bearer \(secret)"]) { Int($0.status.code) }
            #expect(me == 200)
            #expect(!(try await browser.get("/admin/users").html.contains(secret)))
            _ = users
        }
    }

    @Test(arguments: TestBackend.available)
    func hostileInputIsRefusedOrNeutralised(backend: TestBackend) async throws {
        try await withWeb(backend) { browser, store, users in
            _ = try await store.customers.create(makeCustomerInput("Zhang Wei", owner: users.sales.userID), by: users.sales)
            try await browser.get("/login")
            // A tab inside "next" would let a browser read "/\t/evil" as "//evil".
            let signedIn = try await browser.post("/login", [("username", "sales"), ("password", "correct horse battery"), ("next", "/\t/evil.example")])
            #expect(signedIn.location == "/")
            // "+" in a query string is a space.
            let found = try await browser.get("/customers?q=Zhang+Wei")
            #expect(found.html.contains(">Zhang Wei</a>"))
            // A part whose headers end right before the next boundary is skipped, not a crash.
            try await browser.get("/imports")
            let body = "--B\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n\(browser.csrf ?? "")\r\n--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n--B--\r\n"
            let odd = try await browser.request(.post, "/imports", body: ByteBuffer(string: body), contentType: "multipart/form-data; boundary=B")
            #expect(odd.status == 400)
        }
    }

    @Test(arguments: TestBackend.available)
    func savedViewsBelongToTheirUser(backend: TestBackend) async throws {
        try await withWeb(backend) { browser, store, users in
            try await browser.signIn("sales")
            try await browser.get("/customers?tier=gold")
            let saved = try await browser.post("/customers/views", [("name", "金牌 高风险"), ("query", "tier=gold&churn=high&evil=%3Cx%3E")])
            #expect(saved.status == 303 && saved.location == "/customers?tier=gold&churn=high&sort=name")
            let views = try await store.savedViews.views(of: users.sales.userID)
            #expect(views.map(\.name) == ["金牌 高风险"] && views.first?.query == "tier=gold&churn=high&sort=name")
            #expect(try await browser.get("/customers").html.contains(">金牌 高风险</a>"))
            let id = try #require(views.first?.id)

            _ = try await browser.post("/logout", [])
            try await browser.signIn("sales2")
            #expect(!(try await browser.get("/customers").html.contains("金牌 高风险")))
            #expect(try await browser.post("/customers/views/\(id)/delete", []).status == 404)
            #expect(try await store.savedViews.views(of: users.sales.userID).count == 1)
        }
    }

    @Test(arguments: TestBackend.available)
    func searchHonoursTheOwnerAndTagFilters(backend: TestBackend) async throws {
        try await withWeb(backend) { browser, store, users in
            let mine = try await store.customers.create(makeCustomerInput("张伟", owner: users.sales.userID, tags: ["VIP"]), by: users.sales)
            let theirs = try await store.customers.create(makeCustomerInput("张伟明", owner: users.otherSales.userID), by: users.otherSales)
            try await browser.signIn("manager")
            let all = try await browser.get("/customers?q=%E5%BC%A0")
            #expect(all.html.contains("/customers/\(mine.id)\"") && all.html.contains("/customers/\(theirs.id)\""))
            #expect(all.html.contains(">Sales2</td>"))  // each hit names its owner
            let owned = try await browser.get("/customers?q=%E5%BC%A0&owner=\(users.otherSales.userID)")
            #expect(!owned.html.contains("/customers/\(mine.id)\"") && owned.html.contains("/customers/\(theirs.id)\""))
            let tagged = try await browser.get("/customers?q=%E5%BC%A0&tag=VIP")
            #expect(tagged.html.contains("/customers/\(mine.id)\"") && !tagged.html.contains("/customers/\(theirs.id)\""))
            // The owner narrows the search before its limit: a customer that twenty others
            // outrank is still found among one's own.
            for i in 0..<22 { _ = try await store.customers.create(makeCustomerInput("张伟\(i)", owner: users.otherSales.userID), by: users.otherSales) }
            let late = try await store.customers.create(makeCustomerInput("张伟强", owner: users.sales.userID), by: users.sales)
            let narrowed = try await browser.get("/customers?q=%E5%BC%A0%E4%BC%9F&owner=\(users.sales.userID)&fragment=results")
            #expect(narrowed.html.contains("/customers/\(late.id)\""))
        }
    }
}
