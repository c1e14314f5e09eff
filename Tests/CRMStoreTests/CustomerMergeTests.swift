import CRMCore
import CRMStore
import CRMTestSupport
import Foundation
import SQLKit
import Testing

@Suite("Customer merge and undo")
struct CustomerMergeTests {
    /// Every record attached to a customer, by table, as ids: what a merge must move and an undo must put back.
    static func attached(_ store: Store, _ id: Customer.ID) async throws -> [String: [Int64]] {
        try await store.database.read { db in
            var result: [String: [Int64]] = [:]
            for (table, column) in [("orders", "customer_id"), ("interactions", "customer_id"), ("tasks", "customer_id"),
                                    ("consents", "customer_id"), ("contacts", "person_id"), ("contacts", "organisation_id")] {
                result["\(table).\(column)"] = try await db.raw("SELECT id FROM \(unsafeRaw: table) WHERE \(unsafeRaw: column) = \(bind: id.rawValue) ORDER BY id")
                    .all().map { try $0.decode(column: "id", as: Int64.self) }
            }
            return result
        }
    }

    @Test(arguments: TestBackend.available)
    func mergeMovesEveryRelatedRecordAndUndoRestoresEachOne(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let admin = users.admin
            let org = try await store.customers.create(makeCustomerInput("远大集团", kind: .organisation), by: admin)
            let org2 = try await store.customers.create(makeCustomerInput("远大科技", kind: .organisation), by: admin)
            var survivorInput = makeCustomerInput("刘洋", email: "liu@example.com", tags: ["老客户"])
            survivorInput.externalID = "S-1"
            let survivor = try await store.customers.create(survivorInput, by: admin)
            var mergedInput = makeCustomerInput("刘 洋", email: "liuyang@work.example.com", phone: "13700001234", tags: ["展会"], roles: [.prospect])
            mergedInput.externalID = "M-1"
            mergedInput.profile.industry = "能源"
            let merged = try await store.customers.create(mergedInput, by: admin)
            let p = try await store.products.create(makeProductInput(), by: admin)
            _ = try await store.orders.create(makeOrderInput(customer: survivor.id, product: p.id, date: "2026-01-10"), by: admin)
            _ = try await store.orders.create(makeOrderInput(customer: merged.id, product: p.id, date: "2026-02-10", quantity: 3), by: admin)
            _ = try await store.interactions.create(InteractionInput(customerID: merged.id, kind: .visit, subject: "拜访"), by: admin)
            _ = try await store.tasks.create(TaskInput(customerID: merged.id, title: "回访", dueDate: CalendarDate("2026-12-01")!), by: admin)
            _ = try await store.consents.record(ConsentInput(customerID: merged.id, channel: .sms, status: .granted, method: "form"), by: admin)
            // Both work for 远大集团 (that link stays with the merged record); only the merged one for 远大科技.
            _ = try await store.contacts.create(ContactInput(organisationID: org.id, personID: survivor.id), by: admin)
            _ = try await store.contacts.create(ContactInput(organisationID: org.id, personID: merged.id, jobTitle: "经理"), by: admin)
            _ = try await store.contacts.create(ContactInput(organisationID: org2.id, personID: merged.id), by: admin)
            let beforeSurvivor = try await Self.attached(store, survivor.id)
            let beforeMerged = try await Self.attached(store, merged.id)
            let summaryBefore = try await store.summaries.summaries(of: survivor.id)
            let mergedSummaryBefore = try await store.summaries.summaries(of: merged.id)

            let (merge, after) = try await store.merges.merge(survivor: survivor.id, merged: merged.id,
                                                              choices: ["email": .merged, "externalID": .survivor], by: admin)
            #expect(after.email == "liuyang@work.example.com" && after.phone == "+8613700001234" && after.externalID == "S-1")
            #expect(after.tags == ["老客户", "展会"] && after.roles == [.customer, .prospect] && after.profile.industry == "能源")
            #expect(merge.moved == ["orders": 1, "interactions": 1, "tasks": 1, "consents": 1, "contacts": 1])
            let nowSurvivor = try await Self.attached(store, survivor.id)
            let nowMerged = try await Self.attached(store, merged.id)
            #expect(nowSurvivor["orders.customer_id"]?.count == 2 && nowSurvivor["interactions.customer_id"]?.count == 1)
            #expect(nowSurvivor["contacts.person_id"]?.count == 2 && nowMerged["contacts.person_id"]?.count == 1)
            #expect(nowMerged["orders.customer_id"] == [] && nowMerged["consents.customer_id"] == [])
            let summary = try #require(try await store.summaries.summaries(of: survivor.id).first)
            #expect(summary.orderCount == 2 && summary.revenue == 40_000)
            #expect(try await store.summaries.summaries(of: merged.id).isEmpty)
            #expect(try await store.summaries.verify().isEmpty)
            let archived = try await store.customers.get(merged.id)
            #expect(archived.archivedAt != nil && archived.externalID == nil)
            let audit = try await store.audit.list(AuditLog.Query(entity: "customer", entityID: "\(survivor.id)", action: .merge), by: admin)
            #expect(audit.items.count == 1 && audit.items.first?.changes.contains { $0.field == "email" && $0.after == "liuyang@work.example.com" } == true)

            let (back, restored) = try await store.merges.undo(merge.id, by: admin)
            #expect(try await Self.attached(store, survivor.id) == beforeSurvivor)
            #expect(try await Self.attached(store, merged.id) == beforeMerged)
            #expect(CustomerInput(back) == CustomerInput(survivor) && back.archivedAt == nil)
            #expect(CustomerInput(restored) == CustomerInput(merged) && restored.archivedAt == nil && restored.externalID == "M-1")
            #expect(try await store.summaries.summaries(of: survivor.id) == summaryBefore)
            #expect(try await store.summaries.summaries(of: merged.id) == mergedSummaryBefore)
            // Found by its organisation's name again, which only the merged record's link gives.
            #expect(try await store.customers.search("远大科技").contains { $0.id == merged.id })
            #expect(try await store.merges.merges(of: survivor.id).first?.undoneAt != nil)
            await #expect(throws: DomainError.self) { _ = try await store.merges.undo(merge.id, by: admin) }
        }
    }

    @Test(arguments: TestBackend.available)
    func mergeIsRefusedForWrongPairsAndUndoAfterLaterChanges(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let a = try await store.customers.create(makeCustomerInput("甲", owner: users.sales.userID), by: users.admin)
            let b = try await store.customers.create(makeCustomerInput("乙", owner: users.otherSales.userID), by: users.admin)
            let org = try await store.customers.create(makeCustomerInput("丙公司", kind: .organisation), by: users.admin)
            // A salesperson may not merge away a colleague's customer.
            await #expect(throws: DomainError.self) { _ = try await store.merges.merge(survivor: a.id, merged: b.id, choices: [:], by: users.sales) }
            var caught: DomainError?
            do { _ = try await store.merges.merge(survivor: a.id, merged: org.id, choices: ["shoeSize": .merged], by: users.admin) } catch let e as DomainError { caught = e }
            #expect(pointers(caught) == ["/choices/shoeSize", "/mergedID"])
            do { _ = try await store.merges.merge(survivor: a.id, merged: a.id, choices: [:], by: users.admin) } catch let e as DomainError { caught = e }
            #expect(pointers(caught) == ["/mergedID"])

            let (merge, after) = try await store.merges.merge(survivor: a.id, merged: b.id, choices: ["name": .merged], by: users.manager)
            #expect(after.name == "乙")
            _ = try await store.customers.update(a.id, with: makeCustomerInput("甲乙", owner: users.sales.userID), ifVersion: after.version, by: users.admin)
            await #expect(throws: DomainError.self) { _ = try await store.merges.undo(merge.id, by: users.manager) }
            #expect(try await store.customers.get(b.id).archivedAt != nil)
        }
    }
}
