import CRMCore
import CRMStore
import CRMTestSupport
import Foundation
import Testing

@Suite("Contacts, activities, consents, users and the audit log")
struct RecordStoreTests {
    @Test(arguments: TestBackend.available)
    func everyKindOfWriteLeavesAnAuditEntry(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let admin = users.admin
            let org = try await store.customers.create(makeCustomerInput("阿里巴巴", kind: .organisation), by: admin)
            let person = try await store.customers.create(makeCustomerInput("马云"), by: admin)
            let contact = try await store.contacts.create(ContactInput(organisationID: org.id, personID: person.id, jobTitle: "CEO", buyingRole: .decisionMaker, influence: 90), by: admin)
            _ = try await store.contacts.update(contact.id, with: ContactInput(organisationID: org.id, personID: person.id, jobTitle: "Chairman", buyingRole: .decisionMaker, influence: 95), ifVersion: 1, by: admin)
            let product = try await store.products.create(makeProductInput(), by: admin)
            _ = try await store.products.update(product.id, with: makeProductInput("SKU-1", price: 12_000), ifVersion: 1, by: admin)
            let order = try await store.orders.create(makeOrderInput(customer: org.id, product: product.id), by: admin)
            let interaction = try await store.interactions.create(InteractionInput(customerID: person.id, kind: .visit, subject: "拜访"), by: admin)
            let task = try await store.tasks.create(TaskInput(customerID: person.id, title: "寄送方案", dueDate: CalendarDate("2026-12-01")!), by: admin)
            _ = try await store.tasks.update(task.id, with: TaskInput(customerID: person.id, title: "寄送方案", dueDate: CalendarDate("2026-12-01")!, status: .done), ifVersion: 1, by: admin)
            let consent = try await store.consents.record(ConsentInput(customerID: person.id, channel: .email, status: .granted, method: "web form"), by: admin)
            _ = try await store.customFields.create(CustomFieldDefinition(key: "tier_note", label: "Note", kind: .text), by: admin)
            let token = try await store.users.createToken(for: admin.userID, name: "erp", scope: .read, hash: "h1", by: admin)
            try await store.users.revokeToken(token.id, by: admin)

            let entries = try await store.audit.list(.init(limit: 500), by: admin).items
            func has(_ entity: String, _ id: String, _ action: AuditEntry.Action) -> Bool {
                entries.contains { $0.entity == entity && $0.entityID == id && $0.action == action }
            }
            #expect(has("contact", "\(contact.id)", .create) && has("contact", "\(contact.id)", .update))
            #expect(has("product", "\(product.id)", .create) && has("product", "\(product.id)", .update))
            #expect(has("order", "\(order.id)", .create))
            #expect(has("interaction", "\(interaction.id)", .create))
            #expect(has("task", "\(task.id)", .create) && has("task", "\(task.id)", .update))
            #expect(has("consent", "\(consent.id)", .create))
            #expect(has("customField", "tier_note", .create))
            #expect(has("token", "\(token.id)", .create) && has("token", "\(token.id)", .revoke))
            #expect(has("user", "\(users.sales.userID)", .create))
            let productUpdate = entries.first { $0.entity == "product" && $0.action == .update }
            #expect(productUpdate?.changes == [FieldChange(field: "listPrice.minorUnits", before: "10000", after: "12000")])
            await #expect(throws: DomainError.self) { try await store.audit.list(.init(), by: users.sales) }
        }
    }

    @Test(arguments: TestBackend.available)
    func departmentsWriteOnlyTheirKindsOfRecord(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let c = try await store.customers.create(makeCustomerInput("客户A"), by: users.sales)
            let p = try await store.products.create(makeProductInput(), by: users.manager)

            await #expect(throws: DomainError.self) { try await store.orders.create(makeOrderInput(customer: c.id, product: p.id), by: users.marketing) }
            await #expect(throws: DomainError.self) { try await store.orders.create(makeOrderInput(customer: c.id, product: p.id), by: users.otherSales) }
            await #expect(throws: DomainError.self) { try await store.products.create(makeProductInput("X"), by: users.sales) }
            await #expect(throws: DomainError.self) { try await store.customers.create(makeCustomerInput("新客户"), by: users.service) }
            _ = try await store.orders.create(makeOrderInput(customer: c.id, product: p.id), by: users.sales)
            _ = try await store.interactions.create(InteractionInput(customerID: c.id, kind: .call, direction: .inbound), by: users.service)
            _ = try await store.consents.record(ConsentInput(customerID: c.id, channel: .sms, status: .granted, method: "signed form"), by: users.marketing)

            #expect(try await store.orders.list(.init(customerID: c.id)).items.count == 1)
            #expect(try await store.interactions.list(.init(customerID: c.id)).items.first?.userID == users.service.userID)
        }
    }

    @Test(arguments: TestBackend.available)
    func consentHistoryIsAppendOnly(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let c = try await store.customers.create(makeCustomerInput("周到"), by: users.admin)

            let granted = try await store.consents.record(ConsentInput(customerID: c.id, channel: .email, status: .granted, method: "web form"), by: users.admin)
            let sms = try await store.consents.record(ConsentInput(customerID: c.id, channel: .sms, status: .granted, method: "paper"), by: users.admin)
            let revoked = try await store.consents.record(ConsentInput(customerID: c.id, channel: .email, status: .revoked, method: "phone call"), by: users.admin)

            #expect(try await store.consents.history(of: c.id).map(\.id) == [granted.id, sms.id, revoked.id])
            #expect(revoked.supersedes == granted.id && granted.supersedes == nil)
            let view = try await store.customer360(c.id)
            #expect(view.consents.map(\.id) == [revoked.id, sms.id])
            await #expect(throws: DomainError.self) {
                try await store.consents.record(ConsentInput(customerID: c.id, channel: .email, status: .granted, method: "  "), by: users.admin)
            }
        }
    }

    @Test(arguments: TestBackend.available)
    func customer360GathersTheWholePicture(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let org = try await store.customers.create(makeCustomerInput("腾讯", kind: .organisation), by: users.admin)
            let person = try await store.customers.create(makeCustomerInput("小马"), by: users.admin)
            _ = try await store.contacts.create(ContactInput(organisationID: org.id, personID: person.id, buyingRole: .influencer, influence: 60), by: users.admin)
            let p = try await store.products.create(makeProductInput(), by: users.admin)
            for day in ["2026-01-01", "2026-02-01"] {
                _ = try await store.orders.create(makeOrderInput(customer: org.id, product: p.id, date: day), by: users.admin)
            }
            _ = try await store.interactions.create(InteractionInput(customerID: org.id, kind: .meeting), by: users.admin)
            _ = try await store.tasks.create(TaskInput(customerID: org.id, title: "报价", dueDate: CalendarDate("2026-12-24")!), by: users.admin)

            let view = try await store.customer360(org.id)

            #expect(view.customer.id == org.id)
            #expect(view.contacts.map(\.personName) == ["小马"])
            #expect(view.summaries.first?.orderCount == 2)
            #expect(view.recentOrders.map(\.orderDate.description) == ["2026-02-01", "2026-01-01"])
            #expect(view.interactions.count == 1 && view.openTasks.count == 1)
            await #expect(throws: DomainError.notFound(entity: "customer", id: "999")) { try await store.customer360(Customer.ID(999)) }
        }
    }

    @Test(arguments: TestBackend.available)
    func tokensAuthenticateUntilRevoked(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let token = try await store.users.createToken(for: users.sales.userID, name: "phone app", scope: .readWrite, hash: "abc123", by: users.sales)
            await #expect(throws: DomainError.self) {
                try await store.users.createToken(for: users.sales.userID, name: "sneaky", scope: .readWrite, hash: "x", by: users.otherSales)
            }

            let found = try await store.users.authenticate(tokenHash: "abc123")
            #expect(found?.0.id == token.id && found?.1.id == users.sales.userID)
            #expect(try await store.users.authenticate(tokenHash: "wrong")?.0.id == nil)
            try await store.users.revokeToken(token.id, by: users.admin)
            #expect(try await store.users.authenticate(tokenHash: "abc123")?.0.id == nil)
        }
    }

    @Test(arguments: TestBackend.available)
    func repeatedFailedSignInsLockTheAccount(backend: TestBackend) async throws {
        try await withTestStore(backend) { store, users in
            let now = Date()
            for _ in 0..<5 { try await store.users.recordFailedSignIn(users.sales.userID, threshold: 5, lockFor: 300, now: now) }

            let creds = try #require(try await store.users.credentials(username: "sales"))
            #expect(creds.lockedUntil.map { abs($0.timeIntervalSince(now) - 300) < 1 } == true)
            try await store.users.recordSignIn(users.sales.userID)
            #expect(try await store.users.credentials(username: "SALES")?.lockedUntil == nil)
        }
    }
}
