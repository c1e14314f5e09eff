import CRMCore
import CRMStore
import CRMTestSupport
import Foundation
import Testing

@Suite("Customers in the store")
struct CustomerStoreTests {
    @Test(arguments: TestBackend.available)
    func manyCustomersAreReadByIdBeyondOneStatementsBinds(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            var ids: [Customer.ID] = []
            for i in 0..<501 { ids.append(try await store.customers.create(makeCustomerInput("客户\(i)"), by: users.admin).id) }

            let found = try await store.customers.get(ids + [ids[0], Customer.ID(999_999)])

            #expect(found.count == 501 && found[ids[500]]?.name == "客户500" && found[Customer.ID(999_999)] == nil)
        }
    }

    @Test(arguments: TestBackend.available)
    func migrationsApplyOnceAndRecordTheirVersions(backend: TestBackend) async throws {
        try await withTestDatabase(backend) { db in
            let migrator = Migrator(database: db, logger: testLogger)

            let again = try await migrator.migrate()

            #expect(again.isEmpty)
            #expect(try await migrator.appliedVersions() == Schema.migrations.map(\.version))
        }
    }

    @Test(arguments: TestBackend.available)
    func createNormalisesAndAudits(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            var input = makeCustomerInput("  张伟 ", email: "ＺＨＡＮＧ.Wei@Example.COM", phone: "138 1234 5678", tags: ["VIP", "VIP", " 华东 "])
            input.profile.birthday = CalendarDate("1985-03-02")
            input.profile.contactWindows = [ContactWindow(weekday: 2, start: "09:30", end: "11:00")]

            let created = try await store.customers.create(input, by: users.sales)

            #expect(created.name == "张伟")
            #expect(created.email == "zhang.wei@example.com")
            #expect(created.phone == "+8613812345678")
            #expect(created.tags == ["VIP", "华东"])
            #expect(created.ownerID == users.sales.userID, "a salesperson's new customer is theirs")
            #expect(created.version == 1)
            #expect(try await store.customers.get(created.id) == created)
            let audit = try await store.audit.list(.init(entity: "customer", entityID: "\(created.id)"), by: users.manager)
            #expect(audit.items.map(\.action) == [.create])
            #expect(audit.items[0].changes.contains(FieldChange(field: "name", before: nil, after: "张伟")))
            #expect(audit.items[0].actorID == users.sales.userID)
        }
    }

    @Test(arguments: TestBackend.available)
    func invalidInputNamesEveryBadField(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            var input = makeCustomerInput("", email: "not-an-email", phone: "12")
            input.profile.contactWindows = [ContactWindow(weekday: 9, start: "25:00", end: "10:00")]

            let error = await #expect(throws: DomainError.self) { try await store.customers.create(input, by: users.admin) }

            #expect(pointers(error).map(Set.init) == ["/name", "/email", "/phone", "/profile/contactWindows/0/weekday", "/profile/contactWindows/0/start"])
            let stored = try await store.customers.list(.init()).items
            #expect(stored.isEmpty, "nothing is stored")
        }
    }

    @Test(arguments: TestBackend.available)
    func staleUpdateIsRefusedAndOverwritesNothing(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let created = try await store.customers.create(makeCustomerInput("李娜"), by: users.manager)
            var first = CustomerInput(created); first.email = "li.na@example.com"
            let updated = try await store.customers.update(created.id, with: first, ifVersion: 1, by: users.manager)
            var second = CustomerInput(created); second.name = "李娜娜"

            await #expect(throws: DomainError.staleVersion(entity: "customer", id: "\(created.id)", current: 2)) {
                try await store.customers.update(created.id, with: second, ifVersion: 1, by: users.manager)
            }

            let stored = try await store.customers.get(created.id)
            #expect(stored == updated)
            #expect(stored.name == "李娜" && stored.email == "li.na@example.com" && stored.version == 2)
            let audit = try await store.audit.list(.init(entity: "customer", entityID: "\(created.id)", action: .update), by: users.admin)
            #expect(audit.items.count == 1)
            #expect(audit.items[0].changes == [FieldChange(field: "email", before: nil, after: "li.na@example.com")])
        }
    }

    @Test(arguments: TestBackend.available)
    func salesEditOnlyTheirOwnCustomers(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let mine = try await store.customers.create(makeCustomerInput("王芳"), by: users.sales)
            var change = CustomerInput(mine); change.source = "referral"

            await #expect(throws: DomainError.self) {
                try await store.customers.update(mine.id, with: change, ifVersion: mine.version, by: users.otherSales)
            }
            await #expect(throws: DomainError.self) { try await store.customers.archive(mine.id, ifVersion: nil, by: users.marketing) }
            let updated = try await store.customers.update(mine.id, with: change, ifVersion: mine.version, by: users.sales)

            #expect(updated.source == "referral")
            #expect(try await store.customers.get(mine.id).version == 2)
        }
    }

    @Test(arguments: TestBackend.available)
    func archivedCustomersLeaveListsButStayReadable(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let a = try await store.customers.create(makeCustomerInput("赵敏"), by: users.admin)
            let b = try await store.customers.create(makeCustomerInput("周杰"), by: users.admin)

            let archived = try await store.customers.archive(a.id, ifVersion: a.version, by: users.admin)

            #expect(archived.archivedAt != nil)
            #expect(try await store.customers.list(.init()).items.map(\.id) == [b.id])
            #expect(try await store.customers.list(.init(includeArchived: true)).items.map(\.id) == [a.id, b.id])
            #expect(try await store.customers.get(a.id).archivedAt != nil)
            let audit = try await store.audit.list(.init(entity: "customer", entityID: "\(a.id)", action: .archive), by: users.admin)
            #expect(audit.items.count == 1)
        }
    }

    @Test(arguments: TestBackend.available)
    func listFiltersAndPagesWithoutGapsOrRepeats(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let names = ["Dora", "alice", "Carol", "Bob", "Eve", "Frank", "Grace"]
            for (i, n) in names.enumerated() {
                _ = try await store.customers.create(
                    makeCustomerInput(n, owner: i.isMultiple(of: 2) ? users.sales.userID : users.otherSales.userID,
                                      tags: i < 3 ? ["fair-2026"] : [], roles: i == 0 ? [.prospect] : [.customer]),
                    by: users.admin)
            }

            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await store.customers.list(.init(sort: .name, cursor: cursor, limit: 3))
                seen += page.items.map(\.name)
                cursor = page.nextCursor
            } while cursor != nil

            #expect(seen == names.sorted(by: { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }))
            #expect(try await store.customers.list(.init(tag: "fair-2026")).items.map(\.name) == ["Dora", "alice", "Carol"])
            #expect(try await store.customers.list(.init(role: .prospect)).items.map(\.name) == ["Dora"])
            #expect(try await store.customers.list(.init(ownerID: users.sales.userID)).items.map(\.name) == ["Dora", "Carol", "Eve", "Grace"])
            #expect(try await store.customers.list(.init(sort: .idDescending, limit: 2)).items.map(\.name) == ["Grace", "Frank"])
            await #expect(throws: DomainError.self) { try await store.customers.list(.init(cursor: "garbage")) }
        }
    }

    @Test(arguments: TestBackend.available)
    func searchFindsChineseByAnySubstringAndLatinIgnoringCase(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let zhangWei = try await store.customers.create(makeCustomerInput("张伟"), by: users.admin)
            let zhangSan = try await store.customers.create(makeCustomerInput("张三丰"), by: users.admin)
            let liWei = try await store.customers.create(makeCustomerInput("李伟", email: "liwei@corp.cn", phone: "13900001111"), by: users.admin)
            let smith = try await store.customers.create(makeCustomerInput("John Smith"), by: users.admin)
            let org = try await store.customers.create(makeCustomerInput("华为技术有限公司", kind: .organisation), by: users.admin)
            _ = try await store.contacts.create(ContactInput(organisationID: org.id, personID: smith.id, buyingRole: .decisionMaker), by: users.admin)
            let gone = try await store.customers.create(makeCustomerInput("张伟伟"), by: users.admin)
            _ = try await store.customers.archive(gone.id, ifVersion: nil, by: users.admin)

            #expect(Set(try await store.customers.search("张").map(\.id)) == [zhangWei.id, zhangSan.id])
            #expect(Set(try await store.customers.search("伟").map(\.id)) == [zhangWei.id, liWei.id])
            #expect(try await store.customers.search("张伟").map(\.id) == [zhangWei.id])
            #expect(try await store.customers.search("三丰").map(\.id) == [zhangSan.id])
            #expect(try await store.customers.search("sMiTh").map(\.id) == [smith.id])
            #expect(Set(try await store.customers.search("华为").map(\.id)) == [org.id, smith.id], "a person is found by their organisation")
            #expect(try await store.customers.search("华为").first(where: { $0.id == smith.id })?.organisation == "华为技术有限公司")
            #expect(try await store.customers.search("corp.cn").map(\.id) == [liWei.id])
            #expect(try await store.customers.search("0000111").map(\.id) == [liWei.id])
            #expect(try await store.customers.search("100%").isEmpty)
            #expect(try await store.customers.search("王").isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func customFieldsAreValidatedLikeBuiltInOnes(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            _ = try await store.customFields.create(CustomFieldDefinition(key: "annual_budget", label: "Annual budget", kind: .number), by: users.admin)
            _ = try await store.customFields.create(CustomFieldDefinition(key: "region", label: "Region", labelZh: "区域", kind: .choice, options: ["华东", "华北"]), by: users.admin)
            await #expect(throws: DomainError.self) {
                try await store.customFields.create(CustomFieldDefinition(key: "x", label: "X", kind: .text), by: users.manager)
            }

            var good = makeCustomerInput("陈静"); good.customFields = ["annual_budget": .number(120000), "region": .text("华东")]
            let created = try await store.customers.create(good, by: users.admin)
            var unknown = makeCustomerInput("陈静"); unknown.customFields = ["shoe_size": .number(42)]
            var wrong = makeCustomerInput("陈静"); wrong.customFields = ["annual_budget": .text("lots"), "region": .text("西部")]

            #expect(try await store.customers.get(created.id).customFields == good.customFields)
            await #expect(throws: DomainError.invalid("/customFields/shoe_size", "is not a defined custom field")) {
                try await store.customers.create(unknown, by: users.admin)
            }
            let error = await #expect(throws: DomainError.self) { try await store.customers.create(wrong, by: users.admin) }
            #expect(pointers(error) == ["/customFields/annual_budget", "/customFields/region"])
        }
    }

    /// Custom fields are stored as JSON and read back (and exported) without a JSON decoder
    /// when they are plain: whatever they hold must come back as it went in.
    @Test(arguments: TestBackend.available)
    func customFieldValuesRoundTripAndExportWhateverTheyHold(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            _ = try await store.customFields.create(CustomFieldDefinition(key: "budget", label: "Budget", kind: .number), by: users.admin)
            _ = try await store.customFields.create(CustomFieldDefinition(key: "note", label: "Note", kind: .text), by: users.admin)
            let values: [[String: CustomFieldValue]] = [
                ["budget": .number(-12.5), "note": .text("逗号,\"引号\"}{:")],
                ["budget": .number(1e21), "note": .text("=SUM(A1)")],
                ["note": .text("back\\slash \\\"")],
                ["budget": .number(0)],
            ]
            for (k, fields) in values.enumerated() {
                var input = makeCustomerInput("字段\(k)")
                input.customFields = fields
                let created = try await store.customers.create(input, by: users.admin)
                #expect(try await store.customers.get(created.id).customFields == fields)
            }
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("fields-\(UUID().uuidString).csv").path
            FileManager.default.createFile(atPath: path, contents: nil)
            let handle = try #require(FileHandle(forWritingAtPath: path))
            _ = try await store.customerExport.write(CustomerRepository.Query(), format: .csv, to: handle, by: users.admin)
            try handle.close()
            let text = String(decoding: try #require(FileManager.default.contents(atPath: path)), as: UTF8.self)
            try? FileManager.default.removeItem(atPath: path)
            #expect(text.contains(",\"'-12.5\",") && text.contains(",\"逗号,\"\"引号\"\"}{:\"\r\n"))
            #expect(text.contains(",1e+21,\"'=SUM(A1)\"\r\n") && text.contains(",\"back\\slash \\\"\"\"\r\n"))
        }
    }
}
