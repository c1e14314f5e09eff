import CRMCore
import Foundation
import Plot

/// The audit log viewer (managers and admins): who changed what, when, field by field.
public struct AuditPage: Sendable {
    public struct Filters: Sendable, Equatable {
        public var entity = ""
        public var entityID = ""
        public var action: AuditEntry.Action?

        public init() {}

        public init(query: [String: String]) {
            entity = query["entity"] ?? ""
            entityID = query["entityID"] ?? ""
            action = query["action"].flatMap(AuditEntry.Action.init(rawValue:))
        }

        func query(cursor: String) -> String {
            var pairs: [(String, String)] = []
            if !entity.isEmpty { pairs.append(("entity", entity)) }
            if !entityID.isEmpty { pairs.append(("entityID", entityID)) }
            if let action { pairs.append(("action", action.rawValue)) }
            pairs.append(("cursor", cursor))
            return pairs.map { "\($0.0)=\(URLQuery.escape($0.1))" }.joined(separator: "&")
        }
    }

    public var filters: Filters
    public var entries: [AuditEntry]
    public var nextCursor: String?

    public init(filters: Filters, entries: [AuditEntry], nextCursor: String?) {
        self.filters = filters; self.entries = entries; self.nextCursor = nextCursor
    }

    static let entities = ["customer", "contact", "order", "product", "interaction", "task", "consent", "user", "customField"]

    public func render(_ context: PageContext) -> String {
        let s = context.strings
        let entityChoices: [FormElements.Choice] = [("", s[.any], filters.entity.isEmpty)] + Self.entities.map { ($0, $0, $0 == filters.entity) }
        let actionChoices: [FormElements.Choice] = [("", s[.any], filters.action == nil)]
            + AuditEntry.Action.allCases.map { ($0.rawValue, s.term($0), $0 == filters.action) }
        return Layout.page(s[.auditLog], context, section: .audit, [
            .h1(.text(s[.auditLog])),
            .form(.class("filters"), .action("/audit"), .method(.get),
                  .div(.label(.for("entity"), .text(s[.entity])), FormElements.select(id: "entity", name: "entity", entityChoices)),
                  .div(.label(.for("entityID"), .text(s[.entityID])), .input(.type(.text), .id("entityID"), .name("entityID"), .value(filters.entityID.attributeEscaped))),
                  .div(.label(.for("action"), .text(s[.action])), FormElements.select(id: "action", name: "action", actionChoices)),
                  .div(.button(.type(.submit), .text(s[.apply])))),
            .if(entries.isEmpty, .p(.class("muted"), .text(s[.nothingYet]))),
            .if(!entries.isEmpty, .div(.class("scroll"), .table(.class("responsive"), .id("audit-table"),
                .thead(.tr(.th(.text(s[.at])), .th(.text(s[.actor])), .th(.text(s[.action])), .th(.text(s[.entity])), .th(.text(s[.changes])))),
                .tbody(.forEach(entries) { entry in row(entry, s) })))),
            .unwrap(nextCursor) { .div(.class("pager"), .a(.href("/audit?" + filters.query(cursor: $0)), .text(s[.olderEntries]))) },
        ]).document
    }

    func row(_ entry: AuditEntry, _ s: Strings) -> Node<HTML.TableContext> {
        let target: Node<HTML.BodyContext> = entry.entity == "customer" && entry.entityID != nil
            ? .a(.href("/customers/" + URLQuery.escape(entry.entityID!)), .text("customer \(entry.entityID!)"))
            : .text(entry.entity + (entry.entityID.map { " " + $0 } ?? ""))
        return .tr(
            .td(.attribute(named: "data-label", value: s[.at]), .text(s.dateTime(entry.at))),
            .td(.attribute(named: "data-label", value: s[.actor]), .text(entry.actorName)),
            .td(.attribute(named: "data-label", value: s[.action]), .text(s.term(entry.action))),
            .td(.attribute(named: "data-label", value: s[.entity]), target),
            .td(.attribute(named: "data-label", value: s[.changes]), .ul(.class("changes"), .forEach(entry.changes) { change in
                .li(.element(named: "b", text: change.field), .text(": " + (change.before ?? "—") + " → " + (change.after ?? "—")))
            })))
    }
}
