import CRMCore
import Plot

/// My open follow-ups, soonest first, each closed with one click.
public struct TasksPage: Sendable {
    public var tasks: [DashboardPage.TaskRow]
    public var notice: String?

    public init(tasks: [DashboardPage.TaskRow], notice: String? = nil) {
        self.tasks = tasks; self.notice = notice
    }

    public func render(_ context: PageContext) -> String {
        let s = context.strings
        return Layout.page(s[.tasks], context, section: .tasks, [
            .h1(.text(s[.tasks])),
            .unwrap(notice) { .p(.class("notice"), .attribute(named: "role", value: "status"), .text($0)) },
            .if(tasks.isEmpty, .p(.class("muted"), .text(s[.noOpenTasks]))),
            .if(!tasks.isEmpty, .div(.class("scroll"), .table(.class("responsive"), .id("task-table"),
                .thead(.tr(.th(.text(s[.dueDate])), .th(.text(s[.taskTitle])), .th(.text(s[.customer])), .th(.text("")))),
                .tbody(.forEach(tasks) { row in
                    .tr(.td(.attribute(named: "data-label", value: s[.dueDate]), .text(s.date(row.task.dueDate))),
                        .td(.attribute(named: "data-label", value: s[.taskTitle]), .text(row.task.title)),
                        .td(.attribute(named: "data-label", value: s[.customer]),
                            .unwrap(row.customerName) { name in .a(.href("/customers/\(row.task.customerID?.rawValue ?? 0)"), .text(name)) }),
                        .td(.form(.class("inline"), .action("/tasks/\(row.task.id)/done"), .method(.post),
                                  Layout.hiddenCSRF(context),
                                  .input(.type(.hidden), .name("version"), .value(String(row.task.version))),
                                  .button(.type(.submit), .class("quiet"), .text(s[.markDone])))))
                })))),
        ]).document
    }
}
