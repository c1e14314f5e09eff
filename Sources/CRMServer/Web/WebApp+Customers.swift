import CRMAnalytics
import CRMCore
import CRMStore
import CRMWeb
import Foundation
import Hummingbird

/// The customer pages: list and search, the 360 view, the edit form, and the quick forms
/// that log a contact or add a follow-up.
extension WebApp {
    /// Users by id, for owner and assignee names.
    func userNames() async throws -> (names: [Int64: String], active: [(id: Int64, name: String)]) {
        let users = try await store.users.list()
        return (Dictionary(uniqueKeysWithValues: users.map { ($0.id.rawValue, $0.displayName) }),
                users.filter { !$0.disabled }.map { ($0.id.rawValue, $0.displayName) })
    }

    func customerList(_ request: Request, _ visit: Visit, _ actor: Actor) async throws -> Response {
        let query = Self.query(request)
        let filters = CustomerListPage.Filters(query: query)
        let (names, active) = try await userNames()
        var rows: [CustomerListPage.Row] = []
        var next: String?
        var problem: String?
        let text = filters.q.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty {
            do {
                // As you type, twenty hits are plenty and come quicker; a submitted search shows fifty.
                let hits = try await store.customers.search(text, limit: query["fragment"] == "results" ? 20 : 50,
                                                            ownerID: filters.ownerID.map(User.ID.init), tag: filters.tag)
                let analyses = try await store.analytics.analyses(of: hits.map(\.id))
                // The owner and tag narrow the search itself; the hits' records give their owners.
                let records = try await store.customers.get(hits.map(\.id))
                rows = hits.compactMap { hit in
                    let a = analyses[hit.id]?.analysis
                    let record = records[hit.id]
                    // Search ranks by the name; the analysis filters narrow its hits.
                    if let tier = filters.tier, a?.tier != tier { return nil }
                    if let stage = filters.loyaltyStage, a?.loyaltyStage != stage { return nil }
                    if let segment = filters.rfmSegment, a?.rfmSegment != segment { return nil }
                    if let risk = filters.churnRisk, a?.churnRisk != risk { return nil }
                    return CustomerListPage.Row(id: hit.id.rawValue, name: hit.name, kind: hit.kind, email: hit.email, phone: hit.phone,
                                                organisation: hit.organisation, tier: a?.tier, loyaltyStage: a?.loyaltyStage,
                                                rfmSegment: a?.rfmSegment, churnRisk: a?.churnRisk,
                                                ownerName: record?.ownerID.flatMap { names[$0.rawValue] })
                }
            } catch let error as DomainError {
                problem = WebMessages.describe(error, visit.page.strings)
            }
        } else {
            let page = try await store.customers.list(.init(
                tag: filters.tag.isEmpty ? nil : filters.tag, ownerID: filters.ownerID.map(User.ID.init),
                tier: filters.tier, loyaltyStage: filters.loyaltyStage, rfmSegment: filters.rfmSegment, churnRisk: filters.churnRisk,
                sort: ListSort(rawValue: filters.sort) ?? .name, cursor: filters.cursor, limit: 50))
            let analyses = try await store.analytics.analyses(of: page.items.map(\.id))
            rows = page.items.map { c in Self.row(c, analyses[c.id]?.analysis, names) }
            next = page.nextCursor
        }
        var page = CustomerListPage(filters: filters, rows: rows, nextCursor: next, owners: active, searchProblem: problem,
                                    canCreate: AccessPolicy.allows(actor, .createCustomer))
        page.savedViews = try await store.savedViews.views(of: actor.userID).map { ($0.id.rawValue, $0.name, $0.query) }
        if query["fragment"] == "results" { return html(page.renderResults(visit.page), visit) }
        return html(page.render(visit.page), visit)
    }

    func saveView(_ request: Request, _ visit: Visit, _ actor: Actor) async throws -> Response {
        let form = try await self.form(request, visit)
        // Only the list's own parameters are kept, re-encoded: a view cannot carry anything else.
        let filters = CustomerListPage.Filters(query: WebForm(urlEncoded: form["query"] ?? "").fields.compactMapValues(\.first))
        let query = filters.savedQuery
        do {
            _ = try await store.savedViews.save(name: form.text("name") ?? "", query: query, by: actor)
        } catch let error as DomainError {
            throw Refusal.badRequest(WebMessages.describe(error, visit.page.strings))
        }
        return redirect("/customers?" + query)
    }

    static func row(_ c: Customer, _ a: CustomerAnalysis?, _ names: [Int64: String]) -> CustomerListPage.Row {
        CustomerListPage.Row(id: c.id.rawValue, name: c.name, kind: c.kind, email: c.email, phone: c.phone,
                             tier: a?.tier, loyaltyStage: a?.loyaltyStage, rfmSegment: a?.rfmSegment, churnRisk: a?.churnRisk,
                             ownerName: c.ownerID.flatMap { names[$0.rawValue] })
    }

    // MARK: the 360 page

    func customer360(_ request: Request, _ visit: Visit, _ actor: Actor, id: Int64) async throws -> Response {
        let done = Self.query(request)["done"]
        let s = visit.page.strings
        let notice: String? = switch done {
        case "interaction": s[.interactionLogged]
        case "task": s[.taskAdded]
        case "saved": s[.customerSaved]
        case "merged": s[.merged]
        case "undone": s[.mergeUndone]
        default: nil
        }
        let page = try await customer360Page(Customer.ID(id), actor, notice: notice)
        return html(page.render(visit.page), visit)
    }

    func customer360Page(_ id: Customer.ID, _ actor: Actor, notice: String? = nil, formErrors: [String: String] = [:],
                         formValues: [String: String] = [:]) async throws -> Customer360Page {
        let view = try await store.customer360(id, recent: 20)
        let (names, active) = try await userNames()
        var changes: [Customer360Page.Change]?
        if AccessPolicy.allows(actor, .readAudit) {
            changes = try await store.audit.list(.init(entity: "customer", entityID: "\(id)", limit: 20), by: actor).items
                .map { Customer360Page.Change(at: $0.at, actorName: $0.actorName, action: $0.action, changes: $0.changes) }
        }
        let contacts = view.contacts.map { link in
            let other = link.contact.organisationID == id ? (link.contact.personID, link.personName) : (link.contact.organisationID, link.organisationName)
            return Customer360Page.ContactRow(customerID: other.0.rawValue, name: other.1, jobTitle: link.contact.jobTitle,
                                              buyingRole: link.contact.buyingRole, influence: link.contact.influence)
        }
        var page = Customer360Page(
            customer: view.customer, ownerName: view.customer.ownerID.flatMap { names[$0.rawValue] }, contacts: contacts,
            summaries: view.summaries, analysis: view.analysis?.analysis, analysisCurrency: view.analysis?.currency ?? "CNY",
            orders: view.recentOrders,
            interactions: view.interactions.map { ($0, $0.userID.flatMap { names[$0.rawValue] }) },
            openTasks: view.openTasks.map { ($0, $0.assigneeID.flatMap { names[$0.rawValue] }) },
            consents: view.consents,
            tierChanges: view.analyticsHistory.map { ($0.changedOn, $0.measure.rawValue, $0.before, $0.after) },
            changes: changes,
            canEdit: AccessPolicy.allows(actor, .editCustomer(ownerID: view.customer.ownerID)),
            assignees: active, notice: notice, formErrors: formErrors, today: today,
            merges: try await store.merges.merges(of: id).map {
                .init(id: $0.id.rawValue, mergedID: $0.mergedID.rawValue, at: $0.mergedAt, undone: $0.undoneAt != nil)
            })
        page.canLog = AccessPolicy.allows(actor, .writeRecord(.interaction, customerOwnerID: view.customer.ownerID))
        page.canAddTask = AccessPolicy.allows(actor, .writeRecord(.task, customerOwnerID: view.customer.ownerID))
        page.formValues = formValues
        return page
    }

    func logInteraction(_ request: Request, _ visit: Visit, _ actor: Actor, id: Int64) async throws -> Response {
        let form = try await self.form(request, visit)
        let input = InteractionInput(customerID: Customer.ID(id), kind: Interaction.Kind(rawValue: form["kind"] ?? "") ?? .call,
                                     direction: Interaction.Direction(rawValue: form["direction"] ?? "") ?? .outbound,
                                     subject: form.text("subject"), notes: form.text("notes"), outcome: form.text("outcome"))
        do {
            _ = try await store.interactions.create(input, by: actor)
        } catch let error as DomainError {
            guard case .invalid = error else { throw error }
            let errors = WebMessages.fieldErrors(error, visit.page.strings, prefix: "interaction.") { $0.split(separator: "/").first.map(String.init) ?? "subject" }
            let typed = ["kind", "direction", "subject", "notes", "outcome"].reduce(into: [String: String]()) { $0["interaction." + $1] = form[$1] }
            return html(try await customer360Page(Customer.ID(id), actor, formErrors: errors, formValues: typed).render(visit.page), status: .badRequest, visit)
        }
        return redirect("/customers/\(id)?done=interaction")
    }

    func addTask(_ request: Request, _ visit: Visit, _ actor: Actor, id: Int64) async throws -> Response {
        let form = try await self.form(request, visit)
        var errors: [String: String] = [:]
        let due = form.text("dueDate").flatMap(CalendarDate.init)
        if due == nil { errors["task.dueDate"] = WebMessages.reason("must be a date YYYY-MM-DD", visit.page.strings) }
        if form.text("title") == nil { errors["task.title"] = WebMessages.reason("must not be empty", visit.page.strings) }
        if errors.isEmpty, let due {
            let input = TaskInput(customerID: Customer.ID(id), title: form.text("title")!, dueDate: due,
                                  assigneeID: form.text("assignee").flatMap { Int64($0) }.map(User.ID.init) ?? actor.userID)
            do {
                _ = try await store.tasks.create(input, by: actor)
                return redirect("/customers/\(id)?done=task")
            } catch let error as DomainError {
                guard case .invalid = error else { throw error }
                errors = WebMessages.fieldErrors(error, visit.page.strings, prefix: "task.") { $0.split(separator: "/").first.map(String.init) ?? "title" }
            }
        }
        let typed = ["title", "dueDate", "assignee"].reduce(into: [String: String]()) { $0["task." + $1] = form[$1] }
        return html(try await customer360Page(Customer.ID(id), actor, formErrors: errors, formValues: typed).render(visit.page), status: .badRequest, visit)
    }

    // MARK: create and edit

    /// Whom the owner field offers: a salesperson only themselves (the API refuses other
    /// owners); everyone else every active user; the current owner always, even if disabled.
    func ownerChoices(_ actor: Actor, current: User.ID?) async throws -> [(id: Int64, name: String)] {
        let (names, active) = try await userNames()
        var choices = actor.role == .sales ? active.filter { $0.id == actor.userID.rawValue } : active
        if let current, !choices.contains(where: { $0.id == current.rawValue }) {
            choices.append((current.rawValue, names[current.rawValue] ?? "#\(current)"))
        }
        return choices
    }

    func newCustomer(_ visit: Visit, _ actor: Actor) async throws -> Response {
        try AccessPolicy.require(actor, .createCustomer)
        var fields = CustomerFormPage.Fields()
        fields.ownerID = actor.role == .sales ? actor.userID.rawValue : nil
        let page = CustomerFormPage(customerID: nil, version: nil, fields: fields, owners: try await ownerChoices(actor, current: nil))
        return html(page.render(visit.page), visit)
    }

    func createCustomer(_ request: Request, _ visit: Visit, _ actor: Actor) async throws -> Response {
        let form = try await self.form(request, visit)
        let fields = CustomerFormPage.Fields(form: form.fields)
        let (input, problems) = fields.apply(to: CustomerInput(kind: fields.kind, name: ""))
        do {
            try await checkAll(input, problems)
            let customer = try await store.customers.create(input, by: actor)
            return redirect("/customers/\(customer.id)?done=saved")
        } catch let error as DomainError {
            guard case .invalid = error else { throw error }
            let errors = problems.merging(WebMessages.fieldErrors(error, visit.page.strings, field: CustomerFormPage.field(forPointer:))) { a, _ in a }
            let page = CustomerFormPage(customerID: nil, version: nil, fields: fields, errors: errors, owners: try await ownerChoices(actor, current: nil))
            return html(page.render(visit.page), status: .badRequest, visit)
        }
    }

    /// When the form itself had unreadable fields, the domain's checks still run, so every
    /// problem is shown at once rather than one round at a time.
    func checkAll(_ input: CustomerInput, _ formProblems: [String: String]) async throws {
        guard !formProblems.isEmpty else { return }
        _ = try input.normalised(customFieldDefinitions: try await store.customFields.list(), defaultCountryCode: configuration.defaultCountryCode)
        throw DomainError.invalid([])
    }

    func editCustomer(_ visit: Visit, _ actor: Actor, id: Int64) async throws -> Response {
        let customer = try await store.customers.get(Customer.ID(id))
        try AccessPolicy.require(actor, .editCustomer(ownerID: customer.ownerID))
        let page = CustomerFormPage(customerID: id, version: customer.version, fields: .init(customer),
                                    owners: try await ownerChoices(actor, current: customer.ownerID))
        return html(page.render(visit.page), visit)
    }

    /// Saves with the version the form was read at: a stale form is shown again with the
    /// latest values and nothing is overwritten.
    func updateCustomer(_ request: Request, _ visit: Visit, _ actor: Actor, id: Int64) async throws -> Response {
        let form = try await self.form(request, visit)
        let current = try await store.customers.get(Customer.ID(id))
        guard let version = form.text("version").flatMap({ Int64($0) }) else { throw Refusal.badRequest("the form has no version") }
        let fields = CustomerFormPage.Fields(form: form.fields)
        let (input, problems) = fields.apply(to: CustomerInput(current))
        do {
            try await checkAll(input, problems)
            _ = try await store.customers.update(Customer.ID(id), with: input, ifVersion: version, by: actor)
            return redirect("/customers/\(id)?done=saved")
        } catch let error as DomainError {
            switch error {
            case .invalid:
                let errors = problems.merging(WebMessages.fieldErrors(error, visit.page.strings, field: CustomerFormPage.field(forPointer:))) { a, _ in a }
                let page = CustomerFormPage(customerID: id, version: version, fields: fields, errors: errors,
                                            owners: try await ownerChoices(actor, current: current.ownerID))
                return html(page.render(visit.page), status: .badRequest, visit)
            case .staleVersion:
                // What was typed stays; the latest values that differ are listed; the form now
                // carries the latest version, so saving again is a decision, not an accident.
                let latest = try await store.customers.get(Customer.ID(id))
                var page = CustomerFormPage(customerID: id, version: latest.version, fields: fields,
                                            notice: visit.page.strings[.staleEdit], owners: try await ownerChoices(actor, current: latest.ownerID))
                let names = try await userNames().names
                page.currentValues = fields.differences(from: .init(latest)).map { change in
                    change.field == "owner" ? (change.field, Int64(change.current).flatMap { names[$0] } ?? change.current) : change
                }
                return html(page.render(visit.page), status: .conflict, visit)
            default:
                throw error
            }
        }
    }
}
