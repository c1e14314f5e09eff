import CRMAnalytics
import CRMCore
import Foundation

/// Everything a salesperson wants before a call, on one page: profile, contacts, the
/// personality playbook, the value figures, and one timeline of what happened.
public struct Customer360Page: Sendable {
    public struct ContactRow: Sendable {
        public var customerID: Int64
        public var name: String
        public var jobTitle: String?
        public var buyingRole: BuyingRole?
        public var influence: Int

        public init(customerID: Int64, name: String, jobTitle: String?, buyingRole: BuyingRole?, influence: Int) {
            self.customerID = customerID; self.name = name; self.jobTitle = jobTitle; self.buyingRole = buyingRole; self.influence = influence
        }
    }

    /// One event on the timeline, whatever its source.
    public struct TimelineEntry: Sendable, Equatable {
        public enum Kind: String, Sendable { case order, interaction, task, consent, tierChange, change }
        public var kind: Kind
        /// When it happened; calendar dates (orders, due dates) sort as the start of their day in UTC.
        public var at: Date
        /// What the date column shows (a date for orders and tasks, date and time otherwise).
        public var when: String
        public var title: String
        public var detail: String?
    }

    /// A change to this customer from the audit log (shown to those who may read it).
    public struct Change: Sendable {
        public var at: Date
        public var actorName: String
        public var action: AuditEntry.Action
        public var changes: [FieldChange]

        public init(at: Date, actorName: String, action: AuditEntry.Action, changes: [FieldChange]) {
            self.at = at; self.actorName = actorName; self.action = action; self.changes = changes
        }
    }

    /// A merge into this customer, undoable from the page.
    public struct MergeRow: Sendable {
        public var id: Int64
        public var mergedID: Int64
        public var at: Date
        public var undone: Bool

        public init(id: Int64, mergedID: Int64, at: Date, undone: Bool) {
            self.id = id; self.mergedID = mergedID; self.at = at; self.undone = undone
        }
    }

    public var customer: Customer
    public var ownerName: String?
    public var contacts: [ContactRow]
    public var summaries: [PurchaseSummary]
    public var analysis: CustomerAnalysis?
    /// The currency of the analysis' amounts (CLV).
    public var analysisCurrency: String
    public var orders: [Order]
    public var interactions: [(Interaction, userName: String?)]
    public var openTasks: [(FollowUpTask, assigneeName: String?)]
    public var consents: [Consent]
    public var tierChanges: [(on: CalendarDate, measure: String, before: String?, after: String)]
    /// nil when the viewer may not read the audit log.
    public var changes: [Change]?
    public var canEdit: Bool
    public var assignees: [(id: Int64, name: String)]
    /// A confirmation after a write ("call logged"), or the problems of a refused quick form.
    public var notice: String?
    public var formErrors: [String: String]
    /// Today in the viewer's calendar: the default due date of a new follow-up is tomorrow.
    public var today: CalendarDate
    public var merges: [MergeRow] = []
    /// What the viewer may add from the page (the same rules as the API).
    public var canLog = true
    public var canAddTask = true
    /// A refused quick form's values, to show again ("interaction.subject", "task.title" …).
    public var formValues: [String: String] = [:]

    public init(customer: Customer, ownerName: String?, contacts: [ContactRow], summaries: [PurchaseSummary], analysis: CustomerAnalysis?,
                analysisCurrency: String, orders: [Order], interactions: [(Interaction, userName: String?)],
                openTasks: [(FollowUpTask, assigneeName: String?)], consents: [Consent],
                tierChanges: [(on: CalendarDate, measure: String, before: String?, after: String)], changes: [Change]?,
                canEdit: Bool, assignees: [(id: Int64, name: String)], notice: String? = nil, formErrors: [String: String] = [:],
                today: CalendarDate = CalendarDate(utc: Date()), merges: [MergeRow] = []) {
        self.customer = customer; self.ownerName = ownerName; self.contacts = contacts; self.summaries = summaries
        self.analysis = analysis; self.analysisCurrency = analysisCurrency; self.orders = orders; self.interactions = interactions
        self.openTasks = openTasks; self.consents = consents; self.tierChanges = tierChanges; self.changes = changes
        self.canEdit = canEdit; self.assignees = assignees; self.notice = notice; self.formErrors = formErrors
        self.today = today; self.merges = merges
    }

    /// Orders, interactions, open tasks, consents, tier changes and audited edits, newest first.
    public func timeline(_ s: Strings) -> [TimelineEntry] {
        var entries: [TimelineEntry] = []
        for order in orders {
            let totals = order.totals
            entries.append(.init(kind: .order, at: order.orderDate.startOfDayUTC, when: s.date(order.orderDate),
                                 title: s[.order] + " " + (order.externalID ?? "#\(order.id)"),
                                 detail: s.money(totals.revenue, currency: order.currency.code) + " · " + s[.profit] + " "
                                     + s.money(totals.profit, currency: order.currency.code)))
        }
        for (interaction, userName) in interactions {
            let title = s.term(interaction.kind) + " · " + s.term(interaction.direction) + (interaction.subject.map { " · " + $0 } ?? "")
            let detail = [interaction.notes, interaction.outcome.map { s[.outcome] + ": " + $0 }, userName].compactMap { $0 }.joined(separator: " — ")
            entries.append(.init(kind: .interaction, at: interaction.occurredAt, when: s.dateTime(interaction.occurredAt),
                                 title: title, detail: detail.isEmpty ? nil : detail))
        }
        for (task, assignee) in openTasks {
            entries.append(.init(kind: .task, at: task.dueDate.startOfDayUTC, when: s.date(task.dueDate),
                                 title: s[.followUp] + ": " + task.title, detail: assignee))
        }
        for consent in consents {
            entries.append(.init(kind: .consent, at: consent.recordedAt, when: s.dateTime(consent.recordedAt),
                                 title: s[.consent] + " · " + s.term(consent.channel) + " · " + s.term(consent.status),
                                 detail: consent.method))
        }
        for change in tierChanges {
            let name: (String?) -> String = { raw in
                guard let raw else { return "—" }
                if change.measure == "tier", let tier = CustomerTier(rawValue: raw) { return s.term(tier) }
                if let stage = LoyaltyStage(rawValue: raw) { return s.term(stage) }
                return raw
            }
            entries.append(.init(kind: .tierChange, at: change.on.startOfDayUTC, when: s.date(change.on),
                                 title: (change.measure == "tier" ? s[.tier] : s[.loyaltyStage]) + ": " + name(change.before) + " → " + name(change.after),
                                 detail: nil))
        }
        for change in changes ?? [] {
            // A creation's fields are the profile itself; the timeline says only who and when.
            let fields = change.action == .create ? ""
                : change.changes.map { "\($0.field): \($0.before ?? "—") → \($0.after ?? "—")" }.joined(separator: "; ")
            entries.append(.init(kind: .change, at: change.at, when: s.dateTime(change.at),
                                 title: s.term(change.action) + " · " + change.actorName, detail: fields.isEmpty ? nil : fields))
        }
        return entries.sorted { $0.at > $1.at }
    }
}

extension CalendarDate {
    var startOfDayUTC: Date { Date(timeIntervalSince1970: Double(daysSinceEpoch) * 86_400) }
}
