import CRMAnalytics
import CRMCore
import Foundation
import Plot

/// The manager's and the salesperson's morning view: the pyramid, the Pareto curve, RFM,
/// CLV, who is quietly leaving, and my tasks due today.
public struct DashboardPage: Sendable {
    public struct TaskRow: Sendable {
        public var task: FollowUpTask
        public var customerName: String?

        public init(task: FollowUpTask, customerName: String?) { self.task = task; self.customerName = customerName }
    }

    /// nil before the first analytics run.
    public var dashboard: CustomerBaseDashboard?
    public var tasksDue: [TaskRow]
    public var silentChurners: [CustomerListPage.Row]

    public init(dashboard: CustomerBaseDashboard?, tasksDue: [TaskRow], silentChurners: [CustomerListPage.Row]) {
        self.dashboard = dashboard; self.tasksDue = tasksDue; self.silentChurners = silentChurners
    }

    public func render(_ context: PageContext) -> String {
        let s = context.strings
        return Layout.page(s[.navDashboard], context, section: .dashboard, [
            .h1(.text(s[.navDashboard])),
            .div(.class("grid"),
                 .section(.class("card"), .id("my-tasks"), .h2(.text(s[.myTasksToday])), tasks(s)),
                 .section(.class("card"), .id("silent-churn"), .h2(.text(s[.silentChurnCustomers])), churners(s))),
            analytics(s),
        ]).document
    }

    func tasks(_ s: Strings) -> Node<HTML.BodyContext> {
        if tasksDue.isEmpty { return .p(.class("muted"), .text(s[.noTasksToday])) }
        return .ul(.forEach(tasksDue) { row in
            .li(.text(row.task.title),
                .unwrap(row.customerName) { name in
                    .group(.text(" · "), .a(.href("/customers/\(row.task.customerID?.rawValue ?? 0)"), .text(name)))
                },
                .span(.class("muted"), .text(" · " + s.date(row.task.dueDate))))
        })
    }

    func churners(_ s: Strings) -> Node<HTML.BodyContext> {
        if silentChurners.isEmpty { return .p(.class("muted"), .text(s[.noneFound])) }
        return .ul(.forEach(silentChurners) { row in
            .li(.a(.href("/customers/\(row.id)"), .text(row.name)),
                .unwrap(row.tier) { .text(" · " + s.term($0)) },
                .unwrap(row.ownerName) { .span(.class("muted"), .text(" · " + $0)) })
        })
    }

    func analytics(_ s: Strings) -> Node<HTML.BodyContext> {
        guard let d = dashboard else { return .p(.class("muted"), .text(s[.noAnalysisYet])) }
        let measure = d.measure == .profit ? s[.profit] : s[.revenue]
        return .group(
            .div(.class("figures"),
                 figure("customers", s.count(d.customers), s[.customersAnalysed]),
                 figure("buyers", s.count(d.buyers), s[.buyers]),
                 figure("top20", s.percent(d.revenueShareOfTop20Percent), s[.top20RevenueShare]),
                 figure("for80", d.customersFor80PercentOfRevenue.map { s.count($0) } ?? "—", s[.customersFor80Percent]),
                 figure("silent", s.count(d.silentChurn), s[.silentChurn])),
            .p(.class("muted"), .text(s[.analysedAsOf] + " " + d.asOf + " · " + s[.rankedBy] + " " + measure)),
            .div(.class("grid charts"),
                 .section(.class("card"), .id("pyramid"), .h2(.text(s[.customerPyramid])), Charts.pyramid(d.tiers, s), tierTable(d, s)),
                 .section(.class("card"), .id("pareto"), .h2(.text(s[.paretoCurve])), Charts.pareto(d.pareto, s)),
                 .section(.class("card"), .id("rfm"), .h2(.text(s[.rfmGridTitle])), Charts.rfmGrid(d.rfmGrid, s), segmentTable(d, s)),
                 .section(.class("card"), .id("clv"), .h2(.text(s[.clvDistribution])), Charts.clvDistribution(d.clvDistribution, currency: d.currency, s)))
        )
    }

    func figure(_ id: String, _ value: String, _ label: String) -> Node<HTML.BodyContext> {
        .div(.class("figure"), .id("figure-" + id), .element(named: "b", text: value), .span(.text(label)))
    }

    func tierTable(_ d: CustomerBaseDashboard, _ s: Strings) -> Node<HTML.BodyContext> {
        .div(.class("scroll"), .table(.id("tier-table"),
            .thead(.tr(.th(.text(s[.tier])), .th(.class("num"), .text(s[.customers])), .th(.class("num"), .text(s[.revenueShare])),
                       .th(.class("num"), .text(s[.profitShare])))),
            .tbody(.forEach(d.tiers) { t in
                .tr(.attribute(named: "data-tier", value: t.tier),
                    .td(.a(.href("/customers?tier=" + URLQuery.escape(t.tier)), .text(CustomerTier(rawValue: t.tier).map { s.term($0) } ?? t.tier))),
                    .td(.class("num"), .text(s.count(t.customers))),
                    .td(.class("num"), .text(s.percent(t.revenueShare))),
                    .td(.class("num"), .text(s.percent(t.profitShare))))
            })))
    }

    func segmentTable(_ d: CustomerBaseDashboard, _ s: Strings) -> Node<HTML.BodyContext> {
        .div(.class("scroll"), .table(
            .thead(.tr(.th(.text(s[.rfmSegment])), .th(.class("num"), .text(s[.customers])))),
            .tbody(.forEach(d.rfmSegments) { c in
                .tr(.td(.a(.href("/customers?rfm=" + URLQuery.escape(c.key)), .text(RFMSegment(rawValue: c.key).map { s.term($0) } ?? c.key))),
                    .td(.class("num"), .text(s.count(c.customers))))
            })))
    }
}
