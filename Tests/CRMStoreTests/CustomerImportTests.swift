import CRMCore
@testable import CRMStore
import CRMTestSupport
import Foundation
import SQLKit
import Synchronization
import Testing

@Suite("Customer import from CSV")
struct CustomerImportTests {
    /// Writes `bytes` to a fresh temporary file and opens it as an import source.
    static func source(_ bytes: [UInt8], encoding: TextEncoding = .auto) throws -> CSVRowSource {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID().uuidString).csv").path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        // The source holds the file open from here, so the name can go at once.
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try CSVRowSource(path: path, encoding: encoding)
    }

    static func source(_ text: String, bom: Bool = false) throws -> CSVRowSource {
        try source((bom ? [0xEF, 0xBB, 0xBF] : []) + Array(text.utf8))
    }

    static func count(_ store: Store, _ table: String) async throws -> Int64 {
        try await store.database.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM \(unsafeRaw: table)").first()!.decode(column: "n", as: Int64.self)
        }
    }

    /// The search index's table: FTS5 documents on SQLite, gram arrays on PostgreSQL.
    static let postings = "search_postings"

    /// Problems collected by the sink, as the error report file would get them.
    final class Collected: Sendable {
        let problems = Mutex<[ImportProblem]>([])
        var all: [ImportProblem] { problems.withLock { $0 } }
        var sink: @Sendable ([ImportProblem]) throws -> Void { { new in self.problems.withLock { $0 += new } } }
    }

    static let card = """
        客户编号,姓名,邮箱,手机,公司,职位,标签,生日
        C-1,张伟,Zhang.Wei@Example.COM,138 1234 5678,华为技术,采购经理,展会;VIP,1985/3/7
        C-2,ＬＩ　Ｎａ,li.na@example.com,+86 139-0000-1111,华为技术,工程师,,
        C-3,王芳,,010-8888 7777,,,,1990年12月1日

        """

    /// Persons are found by their organisation's name, so an import that renames the
    /// organisation must move them in the search index too.
    @Test(arguments: TestBackend.available)
    func renamingAnOrganisationByImportMovesItsPersonsInSearch(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            for file in ["external_id,kind,name\nO1,organisation,旧名公司\n", "external_id,name,organisation\nP1,王小明,旧名公司\nP2,李四,旧名公司\n",
                         "external_id,kind,name\nO1,organisation,新名集团\n"] {
                let report = try await store.customerImport.run(try Self.source(file), options: CustomerImportOptions(), by: users.admin)
                #expect(report.failed == 0 && report.committed)
            }
            let found = try await store.customers.search("新名")
            #expect(found.map(\.name).sorted() == ["新名集团", "李四", "王小明"].sorted())
            #expect(try await store.customers.search("旧名").isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func importsNormalisedRowsLinksContactsAndReRunsCreateNothing(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let report = try await store.customerImport.run(try Self.source(Self.card, bom: true), options: CustomerImportOptions(), by: users.admin)
            #expect(report.committed && report.rows == 3 && report.created == 3 && report.failed == 0)
            #expect(report.organisationsCreated == 1 && report.contactsCreated == 2 && report.ignoredColumns.isEmpty)

            let hits = try await store.customers.search("伟")
            let zhang = try await store.customers.get(try #require(hits.first { $0.name == "张伟" }).id)
            #expect(zhang.email == "zhang.wei@example.com" && zhang.phone == "+8613812345678" && zhang.externalID == "C-1")
            #expect(zhang.tags == ["展会", "VIP"] && zhang.profile.birthday == CalendarDate("1985-03-07"))
            let li = try #require(try await store.customers.search("li na").first)
            #expect(li.name == "LI Na")
            #expect(try await store.customers.search("王芳").first?.phone == "+861088887777")
            // Found by the organisation's name too, and linked to it with the job title.
            #expect(try await store.customers.search("华为").count == 3)
            let links = try await store.contacts.links(of: zhang.id)
            #expect(links.map(\.organisationName) == ["华为技术"] && links.first?.contact.jobTitle == "采购经理")
            let audit = try await store.audit.list(AuditLog.Query(entity: "customer", entityID: "\(zhang.id)"), by: users.admin)
            #expect(audit.items.map(\.action) == [.create] && audit.items.first?.actorID == users.admin.userID)
            // Audited as where it came from: its row of the file (the header is row 1).
            #expect(audit.items.first?.changes == [FieldChange(field: "import.row", before: nil, after: "2")])
            let organisation = try #require(try await store.customers.search("华为技术").first { $0.kind == .organisation })
            let organisationAudit = try await store.audit.list(AuditLog.Query(entity: "customer", entityID: "\(organisation.id)"), by: users.admin)
            #expect(organisationAudit.items.first?.changes == [FieldChange(field: "import.row", before: nil, after: "2")])

            let again = try await store.customerImport.run(try Self.source(Self.card, bom: true), options: CustomerImportOptions(), by: users.admin)
            #expect(again.created == 0 && again.unchanged == 3 && again.updated == 0 && again.organisationsCreated == 0)
            #expect(try await Self.count(store, "customers") == 4)
            #expect(try await Self.count(store, "contacts") == 2)
        }
    }

    @Test(arguments: TestBackend.available)
    func eachBadRowGetsItsPreciseProblemAndGoodRowsAreKept(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let file = """
                external_id,name,email,birthday,owner,gender
                A1,赵敏,zhao@example.com,1990-01-02,sales,女
                A2,钱多,not-an-email,1990-01-02,,
                A3,孙悟空,sun@example.com,1990-02-30,,
                A1,周芷若,zhou@example.com,,,
                A5,吴用,wu@example.com,,nobody,
                A6,郑和,zheng@example.com,,,robot
                A7,冯,feng@example.com
                A8,,empty@example.com,,,
                A9,陈平,chen@example.com,,sales2,男

                """
            let collected = Collected()
            let report = try await store.customerImport.run(try Self.source(file), options: CustomerImportOptions(), by: users.admin,
                                                            problems: collected.sink)
            #expect(report.created == 2 && report.failed == 7 && report.committed)
            let found = collected.all.map { "\($0.row)|\($0.column)|\($0.value)" }
            #expect(found == ["3|email|not-an-email", "4|birthday|1990-02-30", "5|external_id|A1", "6|owner|nobody", "7|gender|robot",
                              "8||", "9|name|"])
            let reasons = collected.all.map(\.reason)
            #expect(reasons[0] == "is not an e-mail address" && reasons[1].contains("is not a date"))
            #expect(reasons[2] == "is the same as in row 2: one customer per key" && reasons[3] == "no user is called nobody")
            #expect(reasons[5] == "has 3 fields where the header has 6" && reasons[6] == "must not be empty")
            let zhao = try #require(try await store.customers.search("赵敏").first)
            #expect(try await store.customers.get(zhao.id).ownerID == users.sales.userID)
            #expect(try await Self.count(store, "customers") == 2)
        }
    }

    @Test(arguments: TestBackend.available)
    func allOrNothingLeavesTheDatabaseUnchangedAndDryRunWritesNothing(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            _ = try await store.customerImport.run(try Self.source("external_id,name\nK1,老客户\n"), options: CustomerImportOptions(), by: users.admin)
            let before = (try await Self.count(store, "customers"), try await Self.count(store, "audit_log"), try await Self.count(store, Self.postings))
            let file = "external_id,name,email\nK1,老客户改名,old@example.com\nK2,新客户,new@example.com\nK3,坏邮件,bad@\n"
            let strict = try await store.customerImport.run(try Self.source(file), options: CustomerImportOptions(mode: .allOrNothing, batchSize: 1),
                                                            by: users.admin)
            #expect(!strict.committed && strict.failed == 1 && strict.problems.first?.row == 4)
            let dry = try await store.customerImport.run(try Self.source(file), options: CustomerImportOptions(dryRun: true), by: users.admin)
            #expect(!dry.committed && dry.created == 1 && dry.updated == 1 && dry.failed == 1)
            let after = (try await Self.count(store, "customers"), try await Self.count(store, "audit_log"), try await Self.count(store, Self.postings))
            #expect(after == before)
            #expect(try await store.customers.search("老客户").first?.name == "老客户")
            // A good file all or nothing, a row a batch: every customer is found by search, its postings written with it.
            let good = try await store.customerImport.run(try Self.source("name\n甲乙丙\n丁戊己\n"),
                                                          options: CustomerImportOptions(mode: .allOrNothing, batchSize: 1), by: users.admin)
            #expect(good.committed && good.created == 2)
            #expect(try await store.customers.search("甲乙").map(\.name) == ["甲乙丙"])
            #expect(try await store.customers.search("戊己").map(\.name) == ["丁戊己"])
        }
    }

    @Test(arguments: TestBackend.available)
    func interruptedImportLeavesCommittedBatchesAndReRunFinishesWithoutDuplicates(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            var file = "external_id,name,phone\n"
            for i in 1...10 { file += "R\(i),客户\(i),1380000\(String(format: "%04d", i))\n" }
            file += "R11,坏电话,12\n"
            struct Stop: Error {}
            // The problem sink throws on the bad row in the third batch, as a killed process stops mid-file.
            await #expect(throws: Stop.self) {
                _ = try await store.customerImport.run(try Self.source(file), options: CustomerImportOptions(batchSize: 4), by: users.admin,
                                                       problems: { _ in throw Stop() })
            }
            #expect(try await Self.count(store, "customers") == 8)
            #expect(try await store.customers.search("客户8").map(\.name) == ["客户8"], "searchable as committed")
            let rerun = try await store.customerImport.run(try Self.source(file), options: CustomerImportOptions(batchSize: 4), by: users.admin)
            #expect(rerun.created == 2 && rerun.unchanged == 8 && rerun.failed == 1)
            #expect(try await Self.count(store, "customers") == 10)
        }
    }

    /// A batch larger than what is prepared at a time is still committed whole.
    @Test(arguments: TestBackend.available)
    func aBatchPreparedInPartsIsCommittedWhole(backend: TestBackend) async throws {
        #expect(ImportRun.batchRows(committing: 8_000) == 4_000 && ImportRun.batchRows(committing: 20_000) == 5_000)
        #expect(ImportRun.batchRows(committing: 4) == 4 && ImportRun.batchRows(committing: 12_000) == 4_000)
        try await withTestStore(backend) { store, users in
            var file = "external_id,name,phone\n"
            for i in 1...9_000 { file += i == 6_000 ? "R\(i),坏电话,12\n" : "R\(i),客户\(i),138\(String(format: "%08d", i))\n" }
            struct Stop: Error {}
            let options = CustomerImportOptions(batchSize: 8_000)
            // Stopped at row 6,000: rows 1–4,000 were written, in a transaction not yet committed.
            await #expect(throws: Stop.self) {
                _ = try await store.customerImport.run(try Self.source(file), options: options, by: users.admin, problems: { _ in throw Stop() })
            }
            #expect(try await Self.count(store, "customers") == 0)
            let report = try await store.customerImport.run(try Self.source(file), options: options, by: users.admin)
            #expect(report.created == 8_999 && report.failed == 1)
            #expect(try await Self.count(store, "customers") == 8_999)
        }
    }

    @Test(arguments: TestBackend.available)
    func matchByEmailUpdatesOnlyTheGivenCellsAndAuditsTheChange(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let stored = try await store.customers.create(makeCustomerInput("Wang Lei", email: "wang@example.com", phone: "13900001111",
                                                                            tags: ["old"]), by: users.admin)
            let file = "email,name,phone,industry,tags\nWANG@example.com,Wang Lei,,制造业,new\n"
            let report = try await store.customerImport.run(try Self.source(file), options: CustomerImportOptions(matchOn: [.externalID, .email]),
                                                            by: users.admin)
            #expect(report.updated == 1 && report.created == 0)
            let updated = try await store.customers.get(stored.id)
            #expect(updated.phone == "+8613900001111" && updated.profile.industry == "制造业" && updated.tags == ["old", "new"])
            #expect(updated.version == stored.version + 1)
            let audit = try await store.audit.list(AuditLog.Query(entity: "customer", entityID: "\(stored.id)"), by: users.admin)
            let change = try #require(audit.items.first { $0.action == .update })
            #expect(change.changes == [FieldChange(field: "profile.industry", before: nil, after: "制造业"),
                                       FieldChange(field: "tags", before: "old", after: "old, new")])

            // A salesperson may not update someone else's customer through an import.
            let refused = try await store.customerImport.run(try Self.source("email,name\nwang@example.com,Wang Lei 2\n"),
                                                             options: CustomerImportOptions(matchOn: [.email]), by: users.sales)
            #expect(refused.failed == 1 && refused.problems.first?.reason.contains("may not edit") == true)
        }
    }

    @Test(arguments: TestBackend.available)
    func gb18030FileImportsWithChineseIntactAndBusinessCardsGetFollowUps(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            // "姓名,手机,公司\r\n张伟,13812345678,华为\r\n李娜,+86 139-0000-1111,\r\n" as Excel saves it in China.
            let bytes: [UInt8] = [208, 213, 195, 251, 44, 202, 214, 187, 250, 44, 185, 171, 203, 190, 13, 10, 213, 197, 206, 176, 44, 49, 51,
                                  56, 49, 50, 51, 52, 53, 54, 55, 56, 44, 187, 170, 206, 170, 13, 10, 192, 238, 196, 200, 44, 43, 56, 54, 32,
                                  49, 51, 57, 45, 48, 48, 48, 48, 45, 49, 49, 49, 49, 44, 13, 10]
            let source = try Self.source(bytes)
            #expect(source.encoding == .gb18030 && source.header == ["姓名", "手机", "公司"])
            let options = CustomerImportOptions(defaults: CustomerImportDefaults(roles: [.prospect], source: "2026 广交会", tags: ["广交会"]),
                                                ownerID: users.sales.userID, followUp: .init(title: "展会后回访", dueInDays: 3))
            let now = Date()
            let report = try await store.customerImport.run(source, options: options, by: users.manager, now: now)
            #expect(report.created == 2 && report.tasksCreated == 2 && report.organisationsCreated == 1)
            let zhang = try await store.customers.get(try #require(try await store.customers.search("张伟").first).id)
            #expect(zhang.roles == [.prospect] && zhang.source == "2026 广交会" && zhang.ownerID == users.sales.userID && zhang.tags == ["广交会"])
            let tasks = try await store.tasks.list(TaskRepository.Query(customerID: zhang.id))
            #expect(tasks.items.map(\.title) == ["展会后回访"] && tasks.items.first?.assigneeID == users.sales.userID)
            #expect(tasks.items.first?.dueDate == CalendarDate(daysSinceEpoch: CalendarDate(utc: now).daysSinceEpoch + 3))
        }
    }

    @Test(arguments: TestBackend.available)
    func exportWritesExcelReadyCSVThatImportsBackUnchangedAndJSONLines(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            _ = try await store.customerImport.run(try Self.source(Self.card), options: CustomerImportOptions(), by: users.admin)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("export-\(UUID().uuidString).csv").path
            FileManager.default.createFile(atPath: path, contents: nil)
            defer { for file in [path, path + ".jsonl"] { try? FileManager.default.removeItem(atPath: file) } }
            let handle = try #require(FileHandle(forWritingAtPath: path))
            let written = try await store.customerExport.write(CustomerRepository.Query(kind: .person), format: .csv, to: handle, by: users.sales)
            try handle.close()
            #expect(written == 3)
            let data = try #require(FileManager.default.contents(atPath: path))
            #expect(Array(data.prefix(3)) == [0xEF, 0xBB, 0xBF])
            let lines = String(decoding: data.dropFirst(3), as: UTF8.self).split(separator: "\r\n").map(String.init)
            #expect(lines.count == 4 && lines[0].hasPrefix("external_id,id,kind,name,roles,email,phone,tags"))
            #expect(lines[1].hasPrefix("C-1,") && lines[1].contains(",张伟,customer,zhang.wei@example.com,\"'+8613812345678\",展会;VIP,"))

            let back = try await store.customerImport.run(try CSVRowSource(path: path), options: CustomerImportOptions(), by: users.admin)
            #expect(back.rows == 3 && back.unchanged == 3 && back.created == 0 && back.updated == 0 && back.failed == 0)
            #expect(back.ignoredColumns == ["id", "created_at", "updated_at", "archived_at"])

            let jsonPath = path + ".jsonl"
            FileManager.default.createFile(atPath: jsonPath, contents: nil)
            let jsonHandle = try #require(FileHandle(forWritingAtPath: jsonPath))
            _ = try await store.customerExport.write(CustomerRepository.Query(), format: .jsonl, to: jsonHandle, by: users.admin)
            try jsonHandle.close()
            let objects = String(decoding: try #require(FileManager.default.contents(atPath: jsonPath)), as: UTF8.self)
                .split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(objects.count == 4 && objects.allSatisfy { $0?["name"] is String })
        }
    }

    /// A page of the export is formatted on several threads: its lines still come in id
    /// order, each from its own customer, in both formats.
    @Test(arguments: TestBackend.available)
    func aPageFormattedInParallelKeepsItsOrder(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let count = 1_200
            let file = "external_id,name,email\n" + (1...count).map { "EXT\($0),客户\($0),c\($0)@example.com\n" }.joined()
            let report = try await store.customerImport.run(try Self.source(file), options: CustomerImportOptions(), by: users.admin)
            #expect(report.created == count)
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("order-\(UUID().uuidString)").path
            defer { for suffix in [".csv", ".jsonl"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
            for format in [CustomerExporter.Format.csv, .jsonl] {
                FileManager.default.createFile(atPath: path + "." + format.rawValue, contents: nil)
                let handle = try #require(FileHandle(forWritingAtPath: path + "." + format.rawValue))
                #expect(try await store.customerExport.write(CustomerRepository.Query(), format: format, to: handle, by: users.admin) == count)
                try handle.close()
            }
            let csv = String(decoding: try #require(FileManager.default.contents(atPath: path + ".csv")).dropFirst(3), as: UTF8.self)
                .split(separator: "\r\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false) }
            #expect(csv.map { String($0[0]) } == (1...count).map { "EXT\($0)" })
            #expect(csv.allSatisfy { $0[3] == "客户" + $0[0].dropFirst(3) && $0[5] == "c" + $0[0].dropFirst(3) + "@example.com" })
            let ids = csv.compactMap { Int64($0[1]) }
            #expect(ids.count == count && ids == ids.sorted())
            let json = String(decoding: try #require(FileManager.default.contents(atPath: path + ".jsonl")), as: UTF8.self)
                .split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(json.compactMap { $0["externalID"] as? String } == (1...count).map { "EXT\($0)" })
            #expect(json.compactMap { ($0["id"] as? NSNumber)?.int64Value } == ids)

            // A row that cannot be read fails the export, in whichever thread formats it.
            try await store.database.write { db in try await db.raw("UPDATE customers SET tags = 'x' WHERE id = \(bind: ids[700])").run() }
            FileManager.default.createFile(atPath: path + ".csv", contents: nil)
            let handle = try #require(FileHandle(forWritingAtPath: path + ".csv"))
            await #expect(throws: StoreError.self) {
                _ = try await store.customerExport.write(CustomerRepository.Query(), format: .csv, to: handle, by: users.admin)
            }
            try handle.close()
        }
    }

    @Test(arguments: TestBackend.available)
    func listColumnsRoundTripWhateverTheyHold(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            var input = makeCustomerInput("引号", tags: ["plain", "say \"hi\"", "back\\slash", "line\nbreak", "逗号,\",\"", ""])
            input.profile.hobbies = ["茶"]
            let created = try await store.customers.create(input, by: users.admin)
            let read = try await store.customers.get(created.id)
            #expect(read.tags == ["plain", "say \"hi\"", "back\\slash", "line break", "逗号,\",\""] && read.profile.hobbies == ["茶"])
            #expect(read.profile.contactWindows.isEmpty && read.customFields.isEmpty)
        }
    }

    @Test(arguments: TestBackend.available)
    func savedMappingProfilesAreReusedAndChecked(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            try await store.importProfiles.save("展会名片", mapping: ["手机号码(工作)": "phone", "备注": ""], by: users.sales)
            #expect(try await store.importProfiles.names() == ["展会名片"])
            let mapping = try #require(try await store.importProfiles.mapping(named: "展会名片"))
            let file = "客户名称,手机号码(工作),备注\n马云,13500001111,见过两次\n"
            let report = try await store.customerImport.run(try Self.source(file), options: CustomerImportOptions(mapping: mapping), by: users.sales)
            #expect(report.created == 1 && report.ignoredColumns == ["备注"])
            #expect(try await store.customers.search("马云").first?.phone == "+8613500001111")
            var caught: DomainError?
            do { try await store.importProfiles.save("坏", mapping: ["x": "shoe_size"], by: users.admin) } catch let e as DomainError { caught = e }
            #expect(pointers(caught) == ["/mapping/shoe_size"])
            await #expect(throws: DomainError.self) { try await store.importProfiles.save("市场", mapping: [:], by: users.marketing) }
            let audit = try await store.audit.list(AuditLog.Query(entity: "importProfile"), by: users.admin)
            #expect(audit.items.map(\.entityID) == ["展会名片"])
        }
    }

    @Test(arguments: TestBackend.available)
    func rowsMayNotGiveCustomersAwayMatchOneCustomerTwiceOrLoseALink(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let stored = try await store.customers.create(makeCustomerInput("吴一", email: "wu1@example.com", phone: "13600000001",
                                                                            owner: users.sales.userID), by: users.admin)
            let file = "name,email,phone,owner,company\n吴一,wu1@example.com,,,远东公司\n吴一,,13600000001,,\n新人,new@example.com,,sales2,\n"
            let collected = Collected()
            let report = try await store.customerImport.run(try Self.source(file), options: CustomerImportOptions(matchOn: [.email, .phone]),
                                                            by: users.sales, problems: collected.sink)
            #expect(collected.all.map { "\($0.row)|\($0.column)" } == ["4|owner", "3|phone"])
            #expect(collected.all.map(\.reason) == ["you may not make another user the owner",
                                                    "matches customer \(stored.id), as row 2 does: one row per customer"])
            // Nothing of the person changed, but the link to the company named is made, and the company is the salesperson's.
            #expect(report.unchanged == 1 && report.organisationsCreated == 1 && report.contactsCreated == 1)
            let link = try #require(try await store.contacts.links(of: stored.id).first)
            #expect(link.organisationName == "远东公司")
            #expect(try await store.customers.get(link.contact.organisationID).ownerID == users.sales.userID)
            #expect(try await store.customers.search("远东").contains { $0.id == stored.id })
        }
    }

    @Test(arguments: TestBackend.available)
    func searchKeepsLookingPastCandidatesThatHaveTheGramsButNotTheText(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            // 800 names with the bigrams of "qrs" but not the text, then the one that has it:
            // the search must follow the postings through several slices to reach it.
            var file = "name\n"
            for i in 1...800 { file += "Qrxrs \(i)\n" }
            file += "Qrs Last\n"
            let report = try await store.customerImport.run(try Self.source(file), options: CustomerImportOptions(), by: users.admin)
            #expect(report.created == 801)
            #expect(try await store.customers.search("qrs").map(\.name) == ["Qrs Last"])
            #expect(try await store.customers.search("qrx", limit: 100).count == 100)
        }
    }

    @Test func unreadableFilesAreRefusedWithTheirLine() throws {
        // 0xFF is never valid UTF-8; the file is declared UTF-8, so line 3 is reported.
        var bytes = Array("name,email\n张伟,a@example.com\n".utf8)
        bytes += [0x41, 0xFF, 0x42] + Array(",b@example.com\n".utf8)
        let source = try Self.source(bytes, encoding: .utf8)
        #expect(throws: ImportFileError.undecodable(line: 3, encoding: .utf8)) { _ = try source.next(10) }
        // Invalid GB18030 (0x80 is no lead byte) stops at its line too.
        #expect(throws: ImportFileError.undecodable(line: 2, encoding: .gb18030)) {
            _ = try Self.source([0x61, 0x0A, 0x80, 0x0A], encoding: .gb18030)
        }
        #expect(throws: ImportFileError.noHeader) { _ = try Self.source("") }
    }

    @Test func mappingNeedsANameColumnAndNamesUnknownOnes() throws {
        #expect(throws: DomainError.self) { _ = try CustomerImportMapping(headers: ["email", "phone"]) }
        let pointersOfMissingName = pointers(catching { try CustomerImportMapping(headers: ["email", "phone"]) })
        #expect(pointersOfMissingName == ["/columns/name"])
        let mapping = try CustomerImportMapping(headers: ["客户名称", "Mobile", "备注"], explicit: ["备注": ""])
        #expect(mapping.column(of: .name) == 0 && mapping.column(of: .phone) == 1 && mapping.ignoredHeaders == ["备注"])
        #expect(pointers(catching { try CustomerImportMapping(headers: ["name", "x"], explicit: ["x": "shoe_size"]) }) == ["/mapping/x"])
        #expect(pointers(catching { try CustomerImportMapping(headers: ["name", "姓名"]) }) == ["/mapping"])
    }

    func catching(_ body: () throws -> CustomerImportMapping) -> DomainError? {
        do { _ = try body(); return nil } catch let error as DomainError { return error } catch { return nil }
    }
}
