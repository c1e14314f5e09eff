import CRMAnalytics
import CRMCore
import CRMStore
import CRMWeb
import Foundation
import Hummingbird

/// The dashboard, my tasks and the audit log viewer.
extension WebApp {
    func dashboard(_ visit: Visit, _ actor: Actor) async throws -> Response {
        let run = try await store.analytics.latestRun()
        let (names, _) = try await userNames()
        let due = try await myTasks(actor, dueBy: today, limit: 20)
        // A salesperson sees their own customers at risk; everyone else, all of them.
        let owner: User.ID? = actor.role == .sales ? actor.userID : nil
        let silent = try await store.customers.list(.init(ownerID: owner, silentChurn: true, limit: 10))
        let analyses = try await store.analytics.analyses(of: silent.items.map(\.id))
        let page = DashboardPage(dashboard: run?.dashboard, tasksDue: due,
                                 silentChurners: silent.items.map { Self.row($0, analyses[$0.id]?.analysis, names) })
        return html(page.render(visit.page), visit)
    }

    /// The actor's open tasks (due by `dueBy`, if given), with their customers' names.
    func myTasks(_ actor: Actor, dueBy: CalendarDate?, limit: Int) async throws -> [DashboardPage.TaskRow] {
        let tasks = try await store.tasks.list(.init(assigneeID: actor.userID, status: .open, dueBefore: dueBy, limit: limit)).items
        let customers = try await store.customers.get(Array(Set(tasks.compactMap(\.customerID))))
        return tasks.map { DashboardPage.TaskRow(task: $0, customerName: $0.customerID.flatMap { customers[$0]?.name }) }
    }

    func tasks(_ visit: Visit, _ actor: Actor) async throws -> Response {
        html(TasksPage(tasks: try await myTasks(actor, dueBy: nil, limit: 200)).render(visit.page), visit)
    }

    func completeTask(_ request: Request, _ visit: Visit, _ actor: Actor, id: Int64) async throws -> Response {
        let form = try await self.form(request, visit)
        let task = try await store.tasks.get(FollowUpTask.ID(id))
        let version = form.text("version").flatMap { Int64($0) } ?? task.version
        let input = TaskInput(customerID: task.customerID, title: task.title, notes: task.notes, dueDate: task.dueDate,
                              assigneeID: task.assigneeID, status: .done)
        _ = try await store.tasks.update(task.id, with: input, ifVersion: version, by: actor)
        return redirect("/tasks")
    }

    func audit(_ request: Request, _ visit: Visit, _ actor: Actor) async throws -> Response {
        let query = Self.query(request)
        let filters = AuditPage.Filters(query: query)
        let page = try await store.audit.list(.init(entity: filters.entity.isEmpty ? nil : filters.entity,
                                                    entityID: filters.entityID.isEmpty ? nil : filters.entityID,
                                                    action: filters.action, cursor: query["cursor"], limit: 50), by: actor)
        return html(AuditPage(filters: filters, entries: page.items, nextCursor: page.nextCursor).render(visit.page), visit)
    }
}
