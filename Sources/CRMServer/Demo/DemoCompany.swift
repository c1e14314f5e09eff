import CRMCore
import CRMStore
import Foundation
import Logging

/// Builds a realistic, reproducible demo company: users in every role, a product
/// catalogue, persons and organisations with Chinese and English names, contacts in
/// buying roles, two years of orders (some customers buy mostly on promotion, a few buy
/// a great deal, some stop buying), interactions, follow-up tasks and consents.
public struct DemoCompany: Sendable {
    public var customers: Int
    public var orderLines: Int
    public var seed: UInt64
    public var asOf: CalendarDate

    public static let password = "crm-demo-2026"
    public static let users: [(username: String, name: String, role: UserRole)] = [
        ("admin", "系统管理员", .admin), ("manager", "陈经理", .manager), ("sales", "李销售", .sales),
        ("sales2", "王销售", .sales), ("sales3", "Emma Sales", .sales), ("marketing", "周市场", .marketing),
        ("service", "吴客服", .service),
    ]

    public init(customers: Int = 3_000, orderLines: Int? = nil, seed: UInt64 = 2026, asOf: CalendarDate = CalendarDate(utc: Date())) {
        self.customers = max(customers, 10)
        self.orderLines = orderLines ?? self.customers * 8
        self.seed = seed
        self.asOf = asOf
    }

    public struct Report: Sendable {
        public var customers: Int
        public var orders: Int
        public var orderLines: Int
        public var seconds: Double
    }

    /// Loads the company into an empty database. `progress` is told how far it got.
    public func load(into store: Store, passwordHash: String, logger: Logger,
                     progress: @Sendable (String) -> Void = { _ in }) async throws -> Report {
        let started = Date()
        guard try await store.users.list().isEmpty, try await store.customers.list(.init(includeArchived: true, limit: 1)).items.isEmpty else {
            throw DomainError.conflict("the database already has data; demo data goes into an empty database")
        }
        var userIDs: [UserRole: [User.ID]] = [:]
        for u in Self.users {
            let user = try await store.users.create(username: u.username, displayName: u.name, role: u.role, passwordHash: passwordHash,
                                                    locale: u.role == .sales && u.name.hasPrefix("Emma") ? "en" : "zh-Hans", by: nil)
            userIDs[u.role, default: []].append(user.id)
        }
        let sales = userIDs[.sales]!
        let system = Actor(userID: userIDs[.admin]![0], name: "系统管理员", role: .admin)
        var products: [Product] = []
        for p in Self.catalogue {
            products.append(try await store.products.create(
                ProductInput(sku: p.sku, name: p.name, category: p.category, listPrice: Money(minorUnits: p.price, currency: .cny),
                             unitCost: Money(minorUnits: p.price * p.costShare / 100, currency: .cny)), by: system))
        }
        _ = try await store.customFields.create(CustomFieldDefinition(key: "annual_budget", label: "Annual budget (CNY)", labelZh: "年度预算（元）", kind: .number), by: system)
        _ = try await store.customFields.create(CustomFieldDefinition(key: "region", label: "Region", labelZh: "区域", kind: .choice,
                                                                        options: ["华东", "华北", "华南", "西南", "东北"]), by: system)

        let loader = BulkLoader(database: store.database)
        var rng = SeededRandom(seed: seed)
        let linesPerOrder = 2.0
        // Each buying customer gets a Pareto weight; orders are shared out in proportion.
        let ordersWanted = Double(orderLines) / linesPerOrder
        let expectedWeight = 3.0 // mean of Pareto(1.5)
        let buyingShare = 0.72
        // Organisations bring their people as stakeholders, so about two thirds of the rows are
        // top-level parties, and `buyingShare` of those are customers.
        let ordersPerWeight = ordersWanted / (Double(customers) * 0.67 * buyingShare * expectedWeight)

        var nextCustomer: Int64 = 1, nextOrder: Int64 = 1, nextContact: Int64 = 1
        var orderCount = 0, lineCount = 0
        let stamp = Instant.format(Date())
        let chunk = 5_000
        while nextCustomer <= Int64(customers) {
            var customerRows: [[BulkLoader.Value]] = [], contactRows: [[BulkLoader.Value]] = []
            var orderRows: [[BulkLoader.Value]] = [], lineRows: [[BulkLoader.Value]] = []
            var interactionRows: [[BulkLoader.Value]] = [], taskRows: [[BulkLoader.Value]] = [], consentRows: [[BulkLoader.Value]] = []
            let chunkEnd = min(nextCustomer + Int64(chunk) - 1, Int64(customers))
            while nextCustomer <= chunkEnd {
                let id = nextCustomer
                let owner = rng.pick(sales)
                let isOrganisation = rng.chance(0.25) && id + 1 <= chunkEnd
                let person = isOrganisation ? nil : makePerson(&rng)
                let name = isOrganisation ? makeOrganisationName(&rng) : person!.name
                let roll = rng.unit()
                let roles = roll < buyingShare ? "customer" : roll < 0.92 ? "prospect" : roll < 0.96 ? "partner" : "supplier"
                customerRows.append(customerRow(id: id, kind: isOrganisation ? "organisation" : "person", name: name, roles: roles,
                                                person: person, owner: owner, stamp: stamp, rng: &rng))
                nextCustomer += 1
                if isOrganisation {
                    // Its people, in buying roles (决策者, 影响者, 使用者 …).
                    let count = min(rng.int(1...3), Int(chunkEnd - nextCustomer + 1))
                    let buyingRoles: [BuyingRole] = [.decisionMaker, .influencer, .user, .gatekeeper, .insideCoach]
                    for n in 0..<count {
                        let p = makePerson(&rng)
                        let pid = nextCustomer
                        customerRows.append(customerRow(id: pid, kind: "person", name: p.name, roles: "stakeholder", person: p,
                                                        owner: owner, stamp: stamp, rng: &rng))
                        let role = n == 0 ? BuyingRole.decisionMaker : rng.pick(buyingRoles)
                        contactRows.append([nextContact, id, pid, rng.pick(Self.jobTitles), role.rawValue,
                                            Int64(role == .decisionMaker ? rng.int(70...100) : rng.int(10...70)), stamp, stamp, Int64(1)])
                        nextContact += 1
                        nextCustomer += 1
                    }
                }
                if roles == "customer" {
                    let dealSeeker = rng.chance(0.25)
                    let weight = rng.pareto(alpha: 1.5)
                    let orders = max(1, Int((weight * ordersPerWeight * (0.5 + rng.unit())).rounded()))
                    let start = rng.int(0...700)
                    let churned = rng.chance(0.3)
                    let end = churned ? min(729, start + rng.int(30...300)) : 729
                    for _ in 0..<orders {
                        let day = asOf.adding(days: -730 + rng.int(start...max(start, end)))
                        var revenue: Int64 = 0, cost: Int64 = 0, promo: Int64 = 0
                        let lineTotal = rng.chance(0.5) ? 1 : rng.int(2...4)
                        let onPromotion = dealSeeker ? rng.chance(0.8) : rng.chance(0.1)
                        for n in 0..<lineTotal {
                            let p = rng.pick(products)
                            let qty = Int64(isOrganisation ? rng.int(2...20) : rng.int(1...3))
                            let discount = onPromotion ? qty * p.listPrice.minorUnits * Int64(rng.int(5...30)) / 100 : 0
                            let lineRevenue = qty * p.listPrice.minorUnits - discount
                            revenue += lineRevenue; cost += qty * p.unitCost.minorUnits
                            if onPromotion || discount > 0 { promo += lineRevenue }
                            lineRows.append([nextOrder, Int64(n + 1), p.id.rawValue, qty, p.listPrice.minorUnits, discount, p.unitCost.minorUnits, onPromotion])
                            lineCount += 1
                        }
                        orderRows.append([nextOrder, id, day.description, rng.pick(Self.channels), "CNY", revenue, cost, promo,
                                          nil as String?, stamp, stamp, Int64(1)])
                        nextOrder += 1
                        orderCount += 1
                    }
                }
                for _ in 0..<rng.int(0...3) {
                    let kind = rng.pick(Self.interactionKinds)
                    let when = Date(timeIntervalSince1970: Double((asOf.daysSinceEpoch - rng.int(0...180)) * 86_400 + rng.int(9 * 3600...18 * 3600) - 8 * 3600))
                    interactionRows.append([id, kind.kind.rawValue, kind.kind == .note ? "internal" : rng.chance(0.7) ? "outbound" : "inbound",
                                            kind.subject, nil as String?, rng.pick(Self.outcomes), owner.rawValue, Instant.format(when), stamp])
                }
                if rng.chance(0.12) {
                    taskRows.append([id, rng.pick(Self.taskTitles), nil as String?, asOf.adding(days: rng.int(-3...14)).description,
                                     owner.rawValue, "open", stamp, stamp, Int64(1)])
                }
                if rng.chance(0.5) {
                    consentRows.append([id, "email", "granted", "网站表单 web form", nil as String?, stamp, owner.rawValue, nil as Int64?])
                }
                if rng.chance(0.3) {
                    consentRows.append([id, "sms", "granted", "纸质签署 signed paper", nil as String?, stamp, owner.rawValue, nil as Int64?])
                }
            }
            try await loader.insert(into: "customers", columns: Self.customerColumns, rows: customerRows)
            try await loader.insert(into: "customer_roles", columns: ["customer_id", "role"],
                                    rows: customerRows.map { [$0[0], ($0[3] as! String)] })
            try await loader.insert(into: "contacts", columns: ["id", "organisation_id", "person_id", "job_title", "buying_role", "influence",
                                                                "created_at", "updated_at", "version"], rows: contactRows)
            try await loader.insert(into: "orders", columns: ["id", "customer_id", "order_date", "channel", "currency", "revenue", "cost",
                                                              "promotion_revenue", "external_id", "created_at", "updated_at", "version"], rows: orderRows)
            try await loader.insert(into: "order_lines", columns: ["order_id", "line_no", "product_id", "quantity", "unit_price", "discount",
                                                                   "unit_cost", "on_promotion"], rows: lineRows)
            try await loader.insert(into: "interactions", columns: ["customer_id", "kind", "direction", "subject", "notes", "outcome", "user_id",
                                                                    "occurred_at", "created_at"], rows: interactionRows)
            try await loader.insert(into: "tasks", columns: ["customer_id", "title", "notes", "due_date", "assignee_id", "status",
                                                             "created_at", "updated_at", "version"], rows: taskRows)
            try await loader.insert(into: "consents", columns: ["customer_id", "channel", "status", "method", "note", "recorded_at",
                                                                "recorded_by", "supersedes"], rows: consentRows)
            progress("customers \(nextCustomer - 1)/\(customers), orders \(orderCount), lines \(lineCount)")
        }
        try await loader.resetSequences(["customers", "contacts", "orders"])
        progress("indexing names for search")
        try await loader.indexCustomers(ids: 1...Int64(customers))
        progress("computing purchase summaries")
        try await loader.rebuildSummaries()
        try await loader.appendAudit(actorName: "crm demo", entity: "customer",
                                     note: "demo company loaded: \(customers) customers, \(orderCount) orders, \(lineCount) order lines, seed \(seed)")
        return Report(customers: customers, orders: orderCount, orderLines: lineCount, seconds: Date().timeIntervalSince(started))
    }

    static let jsonEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    static let customerColumns = ["id", "kind", "name", "roles", "email", "phone", "gender", "birthday", "hobbies", "family_notes",
                                  "preferred_channel", "time_zone", "contact_windows", "do_not_contact", "personality_style",
                                  "personality_evidence", "industry", "tags", "source", "owner_id", "custom_fields", "external_id",
                                  "search_text", "archived_at", "created_at", "updated_at", "version"]

    struct PersonDraft {
        var name: String
        var latin: String
        var gender: Gender
        var english: Bool
    }

    func makePerson(_ rng: inout SeededRandom) -> PersonDraft {
        if rng.chance(0.2) {
            let first = rng.pick(Self.englishFirst), last = rng.pick(Self.englishLast)
            return PersonDraft(name: "\(first.0) \(last)", latin: "\(first.0).\(last)".lowercased(), gender: first.1, english: true)
        }
        let surname = Self.surnames[rng.weighted(Self.surnameWeights)]
        let gender: Gender = rng.chance(0.5) ? .female : .male
        let pool = gender == .female ? Self.femaleGiven : Self.maleGiven
        let given = rng.chance(0.4) ? rng.pick(pool) : rng.pick(pool) + rng.pick(pool)
        return PersonDraft(name: surname + given, latin: "user\(rng.int(1000...999_999))", gender: gender, english: false)
    }

    func makeOrganisationName(_ rng: inout SeededRandom) -> String {
        if rng.chance(0.15) { return "\(rng.pick(Self.englishLast)) \(rng.pick(["Trading", "Logistics", "Foods", "Systems", "Medical"])) Ltd" }
        return rng.pick(Self.cities) + rng.pick(Self.brands) + rng.pick(Self.industries).0 + "有限公司"
    }

    func customerRow(id: Int64, kind: String, name: String, roles: String, person: PersonDraft?, owner: User.ID, stamp: String,
                     rng: inout SeededRandom) -> [BulkLoader.Value] {
        let isPerson = kind == "person"
        let email: String? = rng.chance(0.7) ? (isPerson ? "\(person!.latin)\(id)@\(rng.pick(Self.mailDomains))" : "info\(id)@company\(id).cn") : nil
        let phone: String? = rng.chance(0.8) ? "+861\(rng.pick(["3", "5", "8"]))\(String(format: "%09d", rng.int(0...999_999_999)))" : nil
        let birthday: String? = isPerson && rng.chance(0.6) ? asOf.adding(days: -rng.int(22 * 365...65 * 365)).description : nil
        let hobbies = isPerson ? (0..<rng.int(0...2)).map { _ in rng.pick(Self.hobbies) } : []
        let windows = rng.chance(0.4) ? [ContactWindow(weekday: rng.int(1...5), start: "09:30", end: "11:30")] : []
        let style: String? = rng.chance(0.5) ? rng.pick(PersonalityStyle.allCases).rawValue : nil
        let tags = (0..<rng.int(0...2)).map { _ in rng.pick(Self.tags) }
        var custom: [String: CustomFieldValue] = [:]
        if rng.chance(0.5) { custom["region"] = .text(rng.pick(["华东", "华北", "华南", "西南", "东北"])) }
        if !isPerson && rng.chance(0.5) { custom["annual_budget"] = .number(Double(rng.int(10...500) * 10_000)) }
        let json = { (v: any Encodable) -> String in
            (try? Self.jsonEncoder.encode(v)).map { String(decoding: $0, as: UTF8.self) } ?? "[]"
        }
        return [id, kind, name, roles, email, phone, isPerson ? person!.gender.rawValue : nil as String?, birthday, json(hobbies),
                nil as String?, rng.pick(ContactChannel.allCases).rawValue, "Asia/Shanghai", json(windows), "[]", style,
                style == nil ? nil as String? : rng.pick(Self.evidence), isPerson ? nil as String? : rng.pick(Self.industries).1,
                json(Array(Set(tags)).sorted()), rng.pick(Self.sources), owner.rawValue, json(custom), nil as String?, "",
                nil as String?, stamp, stamp, Int64(1)]
    }

    static let surnames = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
                           "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
                           "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "欧阳", "司马"]
    static let surnameWeights: [Double] = {
        var total = 0.0
        return surnames.indices.map { i in total += 1.0 / Double(i + 3); return total }
    }()
    static let femaleGiven = ["芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "玲", "婷", "雪", "慧", "颖", "琳", "欣", "怡", "佳", "晶", "秀", "兰"]
    static let maleGiven = ["伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "斌", "宇"]
    static let englishFirst: [(String, Gender)] = [("James", .male), ("Emma", .female), ("Oliver", .male), ("Sophia", .female), ("Liam", .male),
                                                    ("Mia", .female), ("Noah", .male), ("Grace", .female), ("David", .male), ("Lucy", .female)]
    static let englishLast = ["Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Roberts", "Walker", "Wright", "Green"]
    static let cities = ["北京", "上海", "深圳", "杭州", "广州", "成都", "南京", "苏州", "武汉", "西安", "青岛", "厦门"]
    static let brands = ["华信", "恒泰", "金桥", "远航", "鼎盛", "新元", "瑞丰", "博创", "中科", "天成", "东方", "明德", "宏达", "永安"]
    static let industries: [(String, String)] = [("科技", "technology"), ("贸易", "trade"), ("制造", "manufacturing"), ("物流", "logistics"),
                                                 ("医药", "pharmaceuticals"), ("食品", "food"), ("建材", "building materials"), ("电子", "electronics")]
    static let jobTitles = ["总经理", "采购经理", "IT 主管", "财务总监", "行政主管", "运营经理", "Head of Procurement", "CTO"]
    static let mailDomains = ["163.com", "qq.com", "126.com", "gmail.com", "outlook.com"]
    static let hobbies = ["高尔夫", "羽毛球", "茶道", "摄影", "登山", "书法", "钓鱼", "travel", "reading", "running"]
    static let tags = ["VIP", "展会 2025", "华东", "老客户转介绍", "价格敏感", "决策周期长", "key account"]
    static let sources = ["展会", "网站", "转介绍", "电话拜访", "广告", "研讨会", "web"]
    static let channels = ["门店", "电商", "电话", "经销商", "direct"]
    static let evidence = ["办公室整洁，图表齐全", "握手有力，说话快", "桌上有家人照片", "穿着时尚，爱聊天", "tidy office, asks for written detail"]
    static let interactionKinds: [(kind: Interaction.Kind, subject: String)] = [
        (.call, "电话回访"), (.visit, "上门拜访"), (.meeting, "产品演示"), (.email, "发送报价单"), (.sms, "节日问候"),
        (.letter, "寄送行业报告"), (.note, "客户提到预算将增加"), (.call, "Follow-up call"),
    ]
    static let outcomes = ["有意向", "需要再跟进", "已报价", "暂无需求", "interested", "asked for a discount"]
    static let taskTitles = ["跟进报价", "回访满意度", "寄送资料", "安排产品演示", "生日问候", "Send the proposal"]
    static let catalogue: [(sku: String, name: String, category: String, price: Int64, costShare: Int64)] = [
        ("PRN-100", "激光打印机 P100", "办公设备", 129_900, 70), ("PRN-200", "彩色打印机 C200", "办公设备", 259_900, 68),
        ("CPY-300", "数码复印机 D300", "办公设备", 1_899_900, 65), ("PRJ-10", "投影仪 X10", "办公设备", 459_900, 66),
        ("INK-01", "墨盒（黑）", "耗材", 19_900, 45), ("INK-02", "墨盒（彩）", "耗材", 29_900, 45),
        ("TNR-05", "硒鼓 T05", "耗材", 39_900, 40), ("PAP-A4", "A4 复印纸（箱）", "耗材", 12_900, 80),
        ("SW-CRM", "CRM 软件年费", "软件服务", 600_000, 20), ("SW-CLD", "云存储 1TB 年费", "软件服务", 120_000, 30),
        ("SW-SEC", "终端安全年费", "软件服务", 90_000, 25), ("TRN-S", "销售技巧培训", "培训", 300_000, 35),
        ("TRN-C", "客户服务培训", "培训", 250_000, 35), ("SVC-R", "上门维修", "维保", 50_000, 50),
        ("SVC-X", "延长保修 2 年", "维保", 80_000, 15), ("SVC-I", "安装调试", "维保", 30_000, 40),
    ]
}
