import CRMAnalytics
import CRMCore
import Foundation
import Plot

extension Customer360Page {
    public func render(_ context: PageContext) -> String {
        let s = context.strings
        return Layout.page(customer.name, context, section: .customers, [
            header(s),
            .unwrap(notice) { .p(.class("notice"), .id("notice"), .attribute(named: "role", value: "status"), .text($0)) },
            quickActions(context),
            figures(s),
            .div(.class("grid"),
                 .section(.class("card"), .h2(.text(s[.profile])), profile(s)),
                 .unwrap(customer.profile.personalityStyle) { style in
                     .section(.class("card"), .id("playbook"), .h2(.text(s[.sellingPlaybook] + " · " + s.term(style))), SellingPlaybook.table(style, s))
                 }),
            .if(!contacts.isEmpty, .section(.class("card"), .h2(.text(s[.contacts])), contactTable(s))),
            .section(.class("card"), .h2(.text(s[.timeline])), timelineList(s)),
            .if(!merges.isEmpty, .section(.class("card"), .id("merges"), .h2(.text(s[.merges])), mergeList(context))),
        ]).document
    }

    func header(_ s: Strings) -> Node<HTML.BodyContext> {
        .div(.class("heading"),
             .h1(.text(customer.name), .text(" "), .span(.class("badge"), .text(s.term(customer.kind))),
                 .unwrap(analysis) { a in .group(.text(" "), .span(.class("badge \(a.tier.rawValue)"), .id("tier"), .text(s.term(a.tier)))) },
                 .if(customer.archivedAt != nil, .group(.text(" "), .span(.class("badge high"), .text(s[.archived]))))),
             .p(.class("muted"), .text(customer.roles.map { s.term($0) }.joined(separator: " · ")),
                .unwrap(ownerName) { .text(" · " + s[.owner] + ": " + $0) }),
             .if(canEdit, .a(.class("button"), .id("edit-customer"), .href("/customers/\(customer.id)/edit"), .text(s[.edit]))))
    }

    /// Log a call, visit or note, or add a follow-up, in two clicks: open, save.
    func quickActions(_ context: PageContext) -> Node<HTML.BodyContext> {
        let s = context.strings
        return .div(.class("actions"),
            .if(canLog, FormElements.details(id: "log-contact", summary: s[.logContact],
                                             open: formErrors.keys.contains { $0.hasPrefix("interaction.") }, interactionForm(context))),
            .if(canAddTask, FormElements.details(id: "add-task", summary: s[.addFollowUp],
                                                 open: formErrors.keys.contains { $0.hasPrefix("task.") }, taskForm(context))))
    }

    func interactionForm(_ context: PageContext) -> Node<HTML.BodyContext> {
        let s = context.strings
        let kinds: [Interaction.Kind] = [.call, .visit, .meeting, .email, .sms, .letter, .note]
        let kind = formValues["interaction.kind"] ?? Interaction.Kind.call.rawValue
        let direction = formValues["interaction.direction"] ?? Interaction.Direction.outbound.rawValue
        let kindChoices: [FormElements.Choice] = kinds.map { ($0.rawValue, s.term($0), $0.rawValue == kind) }
        let directionChoices: [FormElements.Choice] = Interaction.Direction.allCases.map { ($0.rawValue, s.term($0), $0.rawValue == direction) }
        return .form(.class("stack"), .action("/customers/\(customer.id)/interactions"), .method(.post),
                     Layout.hiddenCSRF(context),
                     .label(.for("interaction-kind"), .text(s[.kindOfContact])),
                     FormElements.select(id: "interaction-kind", name: "kind", kindChoices),
                     .label(.for("interaction-direction"), .text(s[.direction])),
                     FormElements.select(id: "interaction-direction", name: "direction", directionChoices),
                     .label(.for("interaction-subject"), .text(s[.subject])),
                     .input(.type(.text), .id("interaction-subject"), .name("subject"), .value(typed("interaction.subject"))),
                     fieldError("interaction.subject"),
                     .label(.for("interaction-notes"), .text(s[.notes])),
                     .textarea(.id("interaction-notes"), .name("notes"), .text(formValues["interaction.notes"] ?? "")),
                     .label(.for("interaction-outcome"), .text(s[.outcome])),
                     .input(.type(.text), .id("interaction-outcome"), .name("outcome"), .value(typed("interaction.outcome"))),
                     .p(.button(.type(.submit), .id("save-contact"), .text(s[.save]))))
    }

    func taskForm(_ context: PageContext) -> Node<HTML.BodyContext> {
        let s = context.strings
        let assignee = formValues["task.assignee"].flatMap { Int64($0) } ?? context.viewer?.id
        let assigneeChoices: [FormElements.Choice] = assignees.map { (String($0.id), $0.name, $0.id == assignee) }
        return .form(.class("stack"), .action("/customers/\(customer.id)/tasks"), .method(.post),
                     Layout.hiddenCSRF(context),
                     .label(.for("task-title"), .text(s[.taskTitle])),
                     .input(.type(.text), .id("task-title"), .name("title"), .value(formValues["task.title"]?.attributeEscaped ?? s[.defaultFollowUpTitle]), .required(true)),
                     fieldError("task.title"),
                     .label(.for("task-due"), .text(s[.dueDate])),
                     .input(.type(.date), .id("task-due"), .name("dueDate"), .value(formValues["task.dueDate"]?.attributeEscaped ?? today.adding(days: 1).description), .required(true)),
                     fieldError("task.dueDate"),
                     .label(.for("task-assignee"), .text(s[.assignee])),
                     FormElements.select(id: "task-assignee", name: "assignee", assigneeChoices),
                     .p(.button(.type(.submit), .id("save-task"), .text(s[.save]))))
    }

    func typed(_ key: String) -> String { (formValues[key] ?? "").attributeEscaped }

    func fieldError(_ key: String) -> Node<HTML.FormContext> {
        .unwrap(formErrors[key]) { .p(.class("field-error"), .text($0)) }
    }

    func figures(_ s: Strings) -> Node<HTML.BodyContext> {
        var items: [(String, String, String)] = []
        for summary in summaries {
            let c = summary.currency.code
            items.append(("revenue-\(c)", s[.revenue], s.money(summary.revenue, currency: c)))
            items.append(("profit-\(c)", s[.profit], s.money(summary.profit, currency: c)))
            items.append(("orders-\(c)", s[.orders], s.count(Int(summary.orderCount))))
            items.append(("last-\(c)", s[.lastPurchase], s.date(summary.lastPurchase)))
        }
        if let a = analysis {
            items.append(("clv", s[.clv], a.clvMinor.map { s.moneyRounded($0, currency: analysisCurrency) } ?? "—"))
            items.append(("palive", s[.pAlive], s.percent(a.probabilityAlive, digits: 0)))
            items.append(("loyalty", s[.loyaltyStage], s.term(a.loyaltyStage)))
            items.append(("rfm", s[.rfmSegment], s.term(a.rfmSegment) + (a.recencyScore.map { r in " (\(r)\(a.frequencyScore ?? 0)\(a.monetaryScore ?? 0))" } ?? "")))
            items.append(("churn", s[.churnRisk], s.term(a.churnRisk) + (a.silentChurn ? " · " + s[.silentChurn] : "")))
            items.append(("buying-type", s[.buyingType], s.term(a.buyingType)))
        }
        if items.isEmpty { return .p(.class("muted"), .text(s[.noPurchasesYet])) }
        return .div(.class("figures"), .forEach(items) { item in
            .div(.class("figure"), .id("figure-" + item.0), .element(named: "b", text: item.2), .span(.text(item.1)))
        })
    }

    func profile(_ s: Strings) -> Node<HTML.BodyContext> {
        let p = customer.profile
        var rows: [(String, String)] = []
        if let email = customer.email { rows.append((s[.email], email)) }
        if let phone = customer.phone { rows.append((s[.phone], phone)) }
        if let g = p.gender { rows.append((s[.gender], s.term(g))) }
        if let b = p.birthday { rows.append((s[.birthday], s.date(b))) }
        if !p.hobbies.isEmpty { rows.append((s[.hobbies], p.hobbies.joined(separator: "、"))) }
        if let f = p.familyNotes { rows.append((s[.familyNotes], f)) }
        if let c = p.preferredChannel { rows.append((s[.preferredChannel], s.term(c))) }
        if !p.contactWindows.isEmpty {
            rows.append((s[.contactWindows], p.contactWindows.map { "\(s.weekday($0.weekday)) \($0.start)–\($0.end)" }.joined(separator: ", ") + " (\(p.timeZone))"))
        }
        for period in p.doNotContact {
            rows.append((s[.doNotContact], "\(period.from) – \(period.to)" + (period.reason.map { " · " + $0 } ?? "")))
        }
        if let i = p.industry { rows.append((s[.industry], i)) }
        if let e = p.personalityEvidence { rows.append((s[.personalityEvidence], e)) }
        if !customer.tags.isEmpty { rows.append((s[.tags], customer.tags.joined(separator: ", "))) }
        if let source = customer.source { rows.append((s[.source], source)) }
        for (key, value) in customer.customFields.sorted(by: { $0.key < $1.key }) { rows.append((key, value.description)) }
        return .element(named: "dl", nodes: [.attribute(named: "class", value: "profile"), .forEach(rows) { row in
            .group(.element(named: "dt", text: row.0), .element(named: "dd", text: row.1))
        }])
    }

    func contactTable(_ s: Strings) -> Node<HTML.BodyContext> {
        .div(.class("scroll"), .table(.class("responsive"),
            .thead(.tr(.th(.text(s[.name])), .th(.text(s[.jobTitle])), .th(.text(s[.buyingRole])), .th(.class("num"), .text(s[.influence])))),
            .tbody(.forEach(contacts) { c in
                .tr(.td(.attribute(named: "data-label", value: s[.name]), .a(.href("/customers/\(c.customerID)"), .text(c.name))),
                    .td(.attribute(named: "data-label", value: s[.jobTitle]), .text(c.jobTitle ?? "")),
                    .td(.attribute(named: "data-label", value: s[.buyingRole]), .text(c.buyingRole.map { s.term($0) } ?? "")),
                    .td(.class("num"), .attribute(named: "data-label", value: s[.influence]), .text(String(c.influence))))
            })))
    }

    func mergeList(_ context: PageContext) -> Node<HTML.BodyContext> {
        let s = context.strings
        return .ul(.forEach(merges) { m in
            .li(.text(s.dateTime(m.at) + " · " + s[.mergedFrom] + " "), .a(.href("/customers/\(m.mergedID)"), .text("#\(m.mergedID)")),
                .if(m.undone, .span(.class("muted"), .text(" · " + s[.undone]))),
                .if(!m.undone && canEdit, .form(.class("inline"), .action("/merges/\(m.id)/undo"), .method(.post),
                                                Layout.hiddenCSRF(context), .text(" "),
                                                .button(.type(.submit), .class("quiet"), .id("undo-merge-\(m.id)"), .text(s[.undo])))))
        })
    }

    func timelineList(_ s: Strings) -> Node<HTML.BodyContext> {
        let entries = timeline(s)
        if entries.isEmpty { return .p(.class("muted"), .text(s[.nothingYet])) }
        return .ul(.class("timeline"), .id("timeline"), .forEach(entries) { e in
            .li(.class(e.kind.rawValue),
                .element(named: "time", text: e.when),
                .span(.class("kind"), .text(e.title)),
                .unwrap(e.detail) { .span(.class("detail"), .text($0)) })
        })
    }
}

