import CRMAPI
import CRMAnalytics
import CRMCore
import CRMStore
import Foundation
import Hummingbird
import Logging
import OpenAPIRuntime

/// The API contract (`openapi.yaml`) implemented over the store. Each handler converts
/// the typed input to the domain, calls one repository method (which checks permissions
/// and audits), and converts the result back; errors are thrown and become problem+json
/// in `ProblemMiddleware`.
struct APIImplementation: APIProtocol {
    let store: Store
    let authenticator: Authenticator
    let analytics: CustomerBaseRefresh
    let imports: ImportJobs
    let configuration: ServerConfiguration
    let logger: Logger

    typealias Schemas = Components.Schemas

    // MARK: helpers

    func actor() throws -> Actor { try RequestActor.required() }

    static func etag(_ version: Int64) -> String { "\"\(version)\"" }

    /// The version an If-Match header names; 428 when it is missing.
    static func version(ifMatch: String?) throws -> Int64 {
        guard let ifMatch else { throw ProblemDetails.preconditionRequired }
        return try parseETag(ifMatch)
    }

    static func optionalVersion(ifMatch: String?) throws -> Int64? {
        try ifMatch.map(parseETag)
    }

    static func parseETag(_ text: String) throws -> Int64 {
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        if s.hasPrefix("W/") { s = s.dropFirst(2) }
        s = s.drop(while: { $0 == "\"" })
        while s.last == "\"" { s = s.dropLast() }
        guard let v = Int64(s) else {
            throw ProblemDetails.validation([ValidationIssue(pointer: "/header/If-Match", reason: "is not an ETag this server issued")])
        }
        return v
    }

    static func date(_ text: String?, _ name: String) throws -> CalendarDate? {
        guard let text else { return nil }
        guard let d = CalendarDate(text) else { throw DomainError.invalid("/query/\(name)", "must be a date YYYY-MM-DD") }
        return d
    }

    func page<Item: Encodable, Out: Decodable>(_ page: Page<Item>, _: Out.Type) throws -> Out {
        try Transcode.convert(PageJSON(items: page.items, nextCursor: page.nextCursor))
    }

    struct PageJSON<Item: Encodable>: Encodable {
        var items: [Item]
        var nextCursor: String?
    }

    // MARK: session

    func createSession(_ input: Operations.CreateSession.Input) async throws -> Operations.CreateSession.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        switch try await authenticator.signIn(username: body.username, password: body.password) {
        case .refused(let error):
            throw error
        case .signedIn(let user, let cookie, let csrf):
            return .ok(.init(headers: .init(setCookie: cookie.description),
                             body: .json(.init(user: try Transcode.convert(user), csrfToken: csrf))))
        }
    }

    func deleteSession(_ input: Operations.DeleteSession.Input) async throws -> Operations.DeleteSession.Output {
        var expired: String?
        if let request = RequestActor.request, let cookie = try await authenticator.signOut(request: request) {
            expired = cookie.description
        }
        return .noContent(.init(headers: .init(setCookie: expired)))
    }

    func getMe(_ input: Operations.GetMe.Input) async throws -> Operations.GetMe.Output {
        .ok(.init(body: .json(try Transcode.convert(try await store.users.get(try actor().userID)))))
    }

    // MARK: customers

    func listCustomers(_ input: Operations.ListCustomers.Input) async throws -> Operations.ListCustomers.Output {
        _ = try actor()
        let q = input.query
        var query = CustomerRepository.Query(
            role: q.role.flatMap { CustomerRole(rawValue: $0.rawValue) }, tag: q.tag, ownerID: q.ownerID.map(User.ID.init),
            kind: q.kind.flatMap { Customer.Kind(rawValue: $0.rawValue) }, updatedSince: q.updatedSince,
            includeArchived: q.includeArchived ?? false, sort: q.sort.flatMap { ListSort(rawValue: $0.rawValue) } ?? .id,
            cursor: q.cursor, limit: q.limit ?? 50)
        query.tier = q.tier.flatMap { CustomerTier(rawValue: $0.rawValue) }
        query.loyaltyStage = q.loyaltyStage.flatMap { LoyaltyStage(rawValue: $0.rawValue) }
        query.rfmSegment = q.rfmSegment.flatMap { RFMSegment(rawValue: $0.rawValue) }
        query.churnRisk = q.churnRisk.flatMap { ChurnRiskLevel(rawValue: $0.rawValue) }
        query.silentChurn = q.silentChurn
        let result = try await store.customers.list(query)
        let analyses = try await store.analytics.analyses(of: result.items.map { (c: Customer) in c.id })
        let items = try result.items.map { try Schemas.Customer($0, analysis: analyses[$0.id]) }
        return .ok(.init(body: .json(Schemas.CustomerPage(items: items, nextCursor: result.nextCursor))))
    }

    func createCustomer(_ input: Operations.CreateCustomer.Input) async throws -> Operations.CreateCustomer.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let created = try await store.customers.create(try Transcode.convert(body), by: try actor())
        return .created(.init(headers: .init(eTag: Self.etag(created.version), location: "/api/v1/customers/\(created.id)"),
                              body: .json(try Schemas.Customer(created, analysis: nil))))
    }

    func getCustomer(_ input: Operations.GetCustomer.Input) async throws -> Operations.GetCustomer.Output {
        _ = try actor()
        let (customer, analysis) = try await store.customerWithAnalysis(Customer.ID(input.path.customerID))
        return .ok(.init(headers: .init(eTag: Self.etag(customer.version)),
                         body: .json(try Schemas.Customer(customer, analysis: analysis))))
    }

    func updateCustomer(_ input: Operations.UpdateCustomer.Input) async throws -> Operations.UpdateCustomer.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let version = try Self.version(ifMatch: input.headers.ifMatch)
        let updated = try await store.customers.update(Customer.ID(input.path.customerID), with: try Transcode.convert(body),
                                                       ifVersion: version, by: try actor())
        return .ok(.init(headers: .init(eTag: Self.etag(updated.version)), body: .json(try Schemas.Customer(updated, analysis: nil))))
    }

    func archiveCustomer(_ input: Operations.ArchiveCustomer.Input) async throws -> Operations.ArchiveCustomer.Output {
        let archived = try await store.customers.archive(Customer.ID(input.path.customerID),
                                                         ifVersion: try Self.optionalVersion(ifMatch: input.headers.ifMatch), by: try actor())
        return .ok(.init(headers: .init(eTag: Self.etag(archived.version)), body: .json(try Schemas.Customer(archived, analysis: nil))))
    }

    func getCustomer360(_ input: Operations.GetCustomer360.Input) async throws -> Operations.GetCustomer360.Output {
        _ = try actor()
        let view = try await store.customer360(Customer.ID(input.path.customerID))
        return .ok(.init(body: .json(try Transcode.convert(View360(view)))))
    }

    /// The 360 view as the contract spells it.
    struct View360: Encodable {
        var customer: CustomerJSON
        var contacts: [Link]
        var summaries: [PurchaseSummary]
        var recentOrders: [Order]
        var interactions: [Interaction]
        var openTasks: [FollowUpTask]
        var consents: [Consent]
        var analyticsHistory: [AnalyticsChange]

        init(_ v: Customer360) {
            customer = CustomerJSON(customer: v.customer, analysis: v.analysis); contacts = v.contacts.map(Link.init)
            summaries = v.summaries; recentOrders = v.recentOrders
            interactions = v.interactions; openTasks = v.openTasks; consents = v.consents; analyticsHistory = v.analyticsHistory
        }
    }

    /// A customer as the contract spells it: the record plus its latest analysis.
    struct CustomerJSON: Encodable {
        var customer: Customer
        var analysis: StoredCustomerAnalysis?

        enum Keys: String, CodingKey { case analytics }

        func encode(to encoder: any Encoder) throws {
            try customer.encode(to: encoder)
            if let analysis {
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode(AnalysisJSON(analysis), forKey: .analytics)
            }
        }
    }

    struct AnalysisJSON: Encodable {
        var stored: StoredCustomerAnalysis
        init(_ stored: StoredCustomerAnalysis) { self.stored = stored }

        enum Keys: String, CodingKey { case runID, currency }

        func encode(to encoder: any Encoder) throws {
            try stored.analysis.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(stored.runID, forKey: .runID)
            try container.encode(stored.currency, forKey: .currency)
        }
    }

    struct Link: Encodable {
        var contact: Contact
        var personName: String
        var organisationName: String
        init(_ l: ContactLink) { contact = l.contact; personName = l.personName; organisationName = l.organisationName }
    }

    func listCustomerConsents(_ input: Operations.ListCustomerConsents.Input) async throws -> Operations.ListCustomerConsents.Output {
        _ = try actor()
        let id = Customer.ID(input.path.customerID)
        _ = try await store.customers.get(id)
        return .ok(.init(body: .json(try Transcode.convert(try await store.consents.history(of: id)))))
    }

    func getCustomerSummary(_ input: Operations.GetCustomerSummary.Input) async throws -> Operations.GetCustomerSummary.Output {
        _ = try actor()
        let id = Customer.ID(input.path.customerID)
        _ = try await store.customers.get(id)
        return .ok(.init(body: .json(try Transcode.convert(try await store.summaries.summaries(of: id)))))
    }

    func listCustomerContacts(_ input: Operations.ListCustomerContacts.Input) async throws -> Operations.ListCustomerContacts.Output {
        _ = try actor()
        let id = Customer.ID(input.path.customerID)
        _ = try await store.customers.get(id)
        return .ok(.init(body: .json(try Transcode.convert(try await store.contacts.links(of: id).map(Link.init)))))
    }

    func searchCustomers(_ input: Operations.SearchCustomers.Input) async throws -> Operations.SearchCustomers.Output {
        _ = try actor()
        let hits = try await store.customers.search(input.query.q, limit: input.query.limit ?? 20)
        return .ok(.init(body: .json(.init(items: hits.map {
            Schemas.SearchHit(id: $0.id.rawValue, kind: Schemas.CustomerKind(rawValue: $0.kind.rawValue)!, name: $0.name,
                              email: $0.email, phone: $0.phone, organisation: $0.organisation)
        }))))
    }

    // MARK: contacts

    static func contactInput(_ b: Schemas.ContactInput) -> ContactInput {
        ContactInput(organisationID: Customer.ID(b.organisationID), personID: Customer.ID(b.personID), jobTitle: b.jobTitle,
                     buyingRole: b.buyingRole.flatMap { BuyingRole(rawValue: $0.rawValue) }, influence: b.influence)
    }

    func createContact(_ input: Operations.CreateContact.Input) async throws -> Operations.CreateContact.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let contact = try await store.contacts.create(Self.contactInput(body), by: try actor())
        return .created(.init(headers: .init(eTag: Self.etag(contact.version)), body: .json(try Transcode.convert(contact))))
    }

    func getContact(_ input: Operations.GetContact.Input) async throws -> Operations.GetContact.Output {
        _ = try actor()
        let contact = try await store.contacts.get(Contact.ID(input.path.contactID))
        return .ok(.init(headers: .init(eTag: Self.etag(contact.version)), body: .json(try Transcode.convert(contact))))
    }

    func updateContact(_ input: Operations.UpdateContact.Input) async throws -> Operations.UpdateContact.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let version = try Self.version(ifMatch: input.headers.ifMatch)
        let contact = try await store.contacts.update(Contact.ID(input.path.contactID), with: Self.contactInput(body), ifVersion: version, by: try actor())
        return .ok(.init(headers: .init(eTag: Self.etag(contact.version)), body: .json(try Transcode.convert(contact))))
    }

    // MARK: products

    func listProducts(_ input: Operations.ListProducts.Input) async throws -> Operations.ListProducts.Output {
        _ = try actor()
        let result = try await store.products.list(category: input.query.category, cursor: input.query.cursor, limit: input.query.limit ?? 50)
        return .ok(.init(body: .json(try page(result, Schemas.ProductPage.self))))
    }

    func createProduct(_ input: Operations.CreateProduct.Input) async throws -> Operations.CreateProduct.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let product = try await store.products.create(try Transcode.convert(body), by: try actor())
        return .created(.init(headers: .init(eTag: Self.etag(product.version)), body: .json(try Transcode.convert(product))))
    }

    func getProduct(_ input: Operations.GetProduct.Input) async throws -> Operations.GetProduct.Output {
        _ = try actor()
        let product = try await store.products.get(Product.ID(input.path.productID))
        return .ok(.init(headers: .init(eTag: Self.etag(product.version)), body: .json(try Transcode.convert(product))))
    }

    func updateProduct(_ input: Operations.UpdateProduct.Input) async throws -> Operations.UpdateProduct.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let version = try Self.version(ifMatch: input.headers.ifMatch)
        let product = try await store.products.update(Product.ID(input.path.productID), with: try Transcode.convert(body), ifVersion: version, by: try actor())
        return .ok(.init(headers: .init(eTag: Self.etag(product.version)), body: .json(try Transcode.convert(product))))
    }

    // MARK: orders

    func listOrders(_ input: Operations.ListOrders.Input) async throws -> Operations.ListOrders.Output {
        _ = try actor()
        let q = input.query
        let result = try await store.orders.list(.init(customerID: q.customerID.map(Customer.ID.init), since: try Self.date(q.since, "since"),
                                                       until: try Self.date(q.until, "until"), cursor: q.cursor, limit: q.limit ?? 50))
        return .ok(.init(body: .json(try page(result, Schemas.OrderPage.self))))
    }

    func createOrder(_ input: Operations.CreateOrder.Input) async throws -> Operations.CreateOrder.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let order = try await store.orders.create(try Self.orderInput(body), by: try actor())
        return .created(.init(headers: .init(eTag: Self.etag(order.version)), body: .json(Self.orderJSON(order))))
    }

    func getOrder(_ input: Operations.GetOrder.Input) async throws -> Operations.GetOrder.Output {
        _ = try actor()
        let order = try await store.orders.get(Order.ID(input.path.orderID))
        return .ok(.init(headers: .init(eTag: Self.etag(order.version)), body: .json(Self.orderJSON(order))))
    }

    func updateOrder(_ input: Operations.UpdateOrder.Input) async throws -> Operations.UpdateOrder.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let version = try Self.version(ifMatch: input.headers.ifMatch)
        let order = try await store.orders.update(Order.ID(input.path.orderID), with: try Self.orderInput(body), ifVersion: version, by: try actor())
        return .ok(.init(headers: .init(eTag: Self.etag(order.version)), body: .json(Self.orderJSON(order))))
    }

    // MARK: interactions, tasks, consents

    func listInteractions(_ input: Operations.ListInteractions.Input) async throws -> Operations.ListInteractions.Output {
        _ = try actor()
        let q = input.query
        let result = try await store.interactions.list(.init(
            customerID: q.customerID.map(Customer.ID.init), userID: q.userID.map(User.ID.init),
            kind: q.kind.flatMap { Interaction.Kind(rawValue: $0.rawValue) }, since: q.since, cursor: q.cursor, limit: q.limit ?? 50))
        return .ok(.init(body: .json(try page(result, Schemas.InteractionPage.self))))
    }

    func createInteraction(_ input: Operations.CreateInteraction.Input) async throws -> Operations.CreateInteraction.Output {
        guard case .json(let b) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let item = try await store.interactions.create(InteractionInput(
            customerID: Customer.ID(b.customerID), kind: Interaction.Kind(rawValue: b.kind.rawValue)!,
            direction: Interaction.Direction(rawValue: b.direction.rawValue)!, subject: b.subject, notes: b.notes,
            outcome: b.outcome, occurredAt: b.occurredAt), by: try actor())
        return .created(.init(body: .json(try Transcode.convert(item))))
    }

    func getInteraction(_ input: Operations.GetInteraction.Input) async throws -> Operations.GetInteraction.Output {
        _ = try actor()
        return .ok(.init(body: .json(try Transcode.convert(try await store.interactions.get(Interaction.ID(input.path.interactionID))))))
    }

    static func taskInput(_ b: Schemas.TaskInput) throws -> TaskInput {
        guard let due = CalendarDate(b.dueDate) else { throw DomainError.invalid("/dueDate", "must be a date YYYY-MM-DD") }
        return TaskInput(customerID: b.customerID.map(Customer.ID.init), title: b.title, notes: b.notes, dueDate: due,
                         assigneeID: b.assigneeID.map(User.ID.init), status: FollowUpTask.Status(rawValue: b.status.rawValue)!)
    }

    func listTasks(_ input: Operations.ListTasks.Input) async throws -> Operations.ListTasks.Output {
        _ = try actor()
        let q = input.query
        let result = try await store.tasks.list(.init(
            assigneeID: q.assigneeID.map(User.ID.init), status: q.status.flatMap { FollowUpTask.Status(rawValue: $0.rawValue) },
            customerID: q.customerID.map(Customer.ID.init), dueBefore: try Self.date(q.dueBefore, "dueBefore"), cursor: q.cursor, limit: q.limit ?? 50))
        return .ok(.init(body: .json(try page(result, Schemas.TaskPage.self))))
    }

    func createTask(_ input: Operations.CreateTask.Input) async throws -> Operations.CreateTask.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let task = try await store.tasks.create(try Self.taskInput(body), by: try actor())
        return .created(.init(headers: .init(eTag: Self.etag(task.version)), body: .json(try Transcode.convert(task))))
    }

    func getTask(_ input: Operations.GetTask.Input) async throws -> Operations.GetTask.Output {
        _ = try actor()
        let task = try await store.tasks.get(FollowUpTask.ID(input.path.taskID))
        return .ok(.init(headers: .init(eTag: Self.etag(task.version)), body: .json(try Transcode.convert(task))))
    }

    func updateTask(_ input: Operations.UpdateTask.Input) async throws -> Operations.UpdateTask.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let version = try Self.version(ifMatch: input.headers.ifMatch)
        let task = try await store.tasks.update(FollowUpTask.ID(input.path.taskID), with: try Self.taskInput(body), ifVersion: version, by: try actor())
        return .ok(.init(headers: .init(eTag: Self.etag(task.version)), body: .json(try Transcode.convert(task))))
    }

    func recordConsent(_ input: Operations.RecordConsent.Input) async throws -> Operations.RecordConsent.Output {
        guard case .json(let b) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let consent = try await store.consents.record(ConsentInput(
            customerID: Customer.ID(b.customerID), channel: ContactChannel(rawValue: b.channel.rawValue)!,
            status: Consent.Status(rawValue: b.status.rawValue)!, method: b.method, note: b.note), by: try actor())
        return .created(.init(body: .json(try Transcode.convert(consent))))
    }

    // MARK: users and tokens

    func listUsers(_ input: Operations.ListUsers.Input) async throws -> Operations.ListUsers.Output {
        try AccessPolicy.require(try actor(), .readUsers)
        return .ok(.init(body: .json(try Transcode.convert(try await store.users.list()))))
    }

    func createUser(_ input: Operations.CreateUser.Input) async throws -> Operations.CreateUser.Output {
        guard case .json(let b) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let actor = try actor()
        try AccessPolicy.require(actor, .manageUsers)
        try Authenticator.checkPasswordStrength(b.password)
        let hash = try await Authenticator.hashPassword(b.password, cost: configuration.bcryptCost)
        let user = try await store.users.create(username: b.username, displayName: b.displayName, role: UserRole(rawValue: b.role.rawValue)!,
                                                passwordHash: hash, locale: b.locale?.rawValue ?? "zh-Hans", by: actor)
        return .created(.init(body: .json(try Transcode.convert(user))))
    }

    func getUser(_ input: Operations.GetUser.Input) async throws -> Operations.GetUser.Output {
        try AccessPolicy.require(try actor(), .readUsers)
        return .ok(.init(body: .json(try Transcode.convert(try await store.users.get(User.ID(input.path.userID))))))
    }

    func updateUser(_ input: Operations.UpdateUser.Input) async throws -> Operations.UpdateUser.Output {
        guard case .json(let b) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let user = try await store.users.update(User.ID(input.path.userID), displayName: b.displayName, role: UserRole(rawValue: b.role.rawValue)!,
                                                locale: b.locale.rawValue, disabled: b.disabled, by: try actor())
        // A disabled user's tokens must stop working now, and a new role take effect now.
        authenticator.tokenCache.removeAll()
        return .ok(.init(body: .json(try Transcode.convert(user))))
    }

    func setUserPassword(_ input: Operations.SetUserPassword.Input) async throws -> Operations.SetUserPassword.Output {
        guard case .json(let b) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let actor = try actor()
        let id = User.ID(input.path.userID)
        if actor.userID != id { try AccessPolicy.require(actor, .manageUsers) }
        try Authenticator.checkPasswordStrength(b.password)
        let hash = try await Authenticator.hashPassword(b.password, cost: configuration.bcryptCost)
        try await store.users.setPassword(id, hash: hash, by: actor)
        return .noContent(.init())
    }

    func listTokens(_ input: Operations.ListTokens.Input) async throws -> Operations.ListTokens.Output {
        let actor = try actor()
        let tokens = try await store.users.tokens(of: input.query.userID.map(User.ID.init) ?? actor.userID, by: actor)
        return .ok(.init(body: .json(try Transcode.convert(tokens))))
    }

    func createToken(_ input: Operations.CreateToken.Input) async throws -> Operations.CreateToken.Output {
        guard case .json(let b) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let actor = try actor()
        let secret = Authenticator.newTokenSecret()
        let token = try await store.users.createToken(for: b.userID.map(User.ID.init) ?? actor.userID, name: b.name,
                                                      scope: APIToken.Scope(rawValue: b.scope.rawValue)!,
                                                      hash: Authenticator.tokenHash(secret), by: actor)
        return .created(.init(body: .json(.init(token: try Transcode.convert(token), secret: secret))))
    }

    func revokeToken(_ input: Operations.RevokeToken.Input) async throws -> Operations.RevokeToken.Output {
        try await store.users.revokeToken(APIToken.ID(input.path.tokenID), by: try actor())
        authenticator.tokenCache.removeAll()
        return .noContent(.init())
    }

    // MARK: custom fields and audit

    func listCustomFields(_ input: Operations.ListCustomFields.Input) async throws -> Operations.ListCustomFields.Output {
        _ = try actor()
        return .ok(.init(body: .json(try Transcode.convert(try await store.customFields.list()))))
    }

    func createCustomField(_ input: Operations.CreateCustomField.Input) async throws -> Operations.CreateCustomField.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let d = try await store.customFields.create(try Transcode.convert(body), by: try actor())
        return .created(.init(body: .json(try Transcode.convert(d))))
    }

    func updateCustomField(_ input: Operations.UpdateCustomField.Input) async throws -> Operations.UpdateCustomField.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let d = try await store.customFields.update(input.path.key, try Transcode.convert(body), by: try actor())
        return .ok(.init(body: .json(try Transcode.convert(d))))
    }

    func listAuditEntries(_ input: Operations.ListAuditEntries.Input) async throws -> Operations.ListAuditEntries.Output {
        let q = input.query
        let result = try await store.audit.list(.init(
            entity: q.entity, entityID: q.entityID, actorID: q.actorID.map(User.ID.init),
            action: q.action.flatMap { AuditEntry.Action(rawValue: $0.rawValue) }, since: q.since, cursor: q.cursor, limit: q.limit ?? 50),
            by: try actor())
        return .ok(.init(body: .json(try page(result, Schemas.AuditPage.self))))
    }

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .plainText("ok")))
    }
}
