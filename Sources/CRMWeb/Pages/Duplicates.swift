import CRMCore
import Foundation
import Plot

/// Duplicate review: candidate pairs with their reasons and score, each opening the merge form.
public struct DuplicatesPage: Sendable {
    public struct Pair: Sendable {
        public var first: (id: Int64, name: String)
        public var second: (id: Int64, name: String)
        public var reasons: [DuplicateCandidate.Reason]
        public var score: Double

        public init(first: (id: Int64, name: String), second: (id: Int64, name: String), reasons: [DuplicateCandidate.Reason], score: Double) {
            self.first = first; self.second = second; self.reasons = reasons; self.score = score
        }
    }

    public var pairs: [Pair]
    /// How many pairs the scan found (the page shows the most likely first).
    public var total: Int
    public var notice: String?

    public init(pairs: [Pair], total: Int, notice: String? = nil) {
        self.pairs = pairs; self.total = total; self.notice = notice
    }

    static func reason(_ r: DuplicateCandidate.Reason, _ s: Strings) -> String {
        switch r {
        case .sameEmail: s[.reasonSameEmail]
        case .samePhone: s[.reasonSamePhone]
        case .similarName: s[.reasonSimilarName]
        }
    }

    public func render(_ context: PageContext) -> String {
        let s = context.strings
        return Layout.page(s[.duplicates], context, section: .duplicates, [
            .h1(.text(s[.duplicates])),
            .unwrap(notice) { .p(.class("notice"), .id("notice"), .attribute(named: "role", value: "status"), .text($0)) },
            .if(pairs.isEmpty, .p(.class("muted"), .text(s[.noDuplicates]))),
            .if(!pairs.isEmpty, .p(.class("muted"), .text(s.count(total) + " " + s[.pairsFound]))),
            .if(!pairs.isEmpty, .div(.class("scroll"), .table(.class("responsive"), .id("duplicate-table"),
                .thead(.tr(.th(.text(s[.customer])), .th(.text(s[.customer])), .th(.text(s[.reasons])), .th(.class("num"), .text(s[.score])), .th(.text("")))),
                .tbody(.forEach(pairs) { p in
                    .tr(.td(.attribute(named: "data-label", value: s[.customer]), .a(.href("/customers/\(p.first.id)"), .text(p.first.name)), .text(" #\(p.first.id)")),
                        .td(.attribute(named: "data-label", value: s[.customer]), .a(.href("/customers/\(p.second.id)"), .text(p.second.name)), .text(" #\(p.second.id)")),
                        .td(.attribute(named: "data-label", value: s[.reasons]), .text(p.reasons.map { Self.reason($0, s) }.joined(separator: "、"))),
                        .td(.class("num"), .attribute(named: "data-label", value: s[.score]), .text(String(format: "%.2f", p.score))),
                        .td(.a(.class("button"), .href("/duplicates/merge?survivor=\(p.first.id)&merged=\(p.second.id)"), .text(s[.merge]))))
                })))),
        ]).document
    }
}

/// Merge two records: for each field, the value to keep; everything attached to the merged
/// record moves to the survivor. Shown before anything is written.
public struct MergePage: Sendable {
    public var survivor: Customer
    public var merged: Customer
    public var problem: String?

    public init(survivor: Customer, merged: Customer, problem: String? = nil) {
        self.survivor = survivor; self.merged = merged; self.problem = problem
    }

    /// A field's value as the form shows it ("" when empty).
    static func value(_ field: String, _ c: Customer, _ s: Strings) -> String {
        let p = c.profile
        switch field {
        case "name": return c.name
        case "email": return c.email ?? ""
        case "phone": return c.phone ?? ""
        case "gender": return p.gender.map { s.term($0) } ?? ""
        case "birthday": return p.birthday?.description ?? ""
        case "hobbies": return p.hobbies.joined(separator: "、")
        case "familyNotes": return p.familyNotes ?? ""
        case "preferredChannel": return p.preferredChannel.map { s.term($0) } ?? ""
        case "timeZone": return p.timeZone
        case "contactWindows": return p.contactWindows.map { "\(s.weekday($0.weekday)) \($0.start)–\($0.end)" }.joined(separator: ", ")
        case "doNotContact": return p.doNotContact.map { "\($0.from)–\($0.to)" }.joined(separator: ", ")
        case "personalityStyle": return p.personalityStyle.map { s.term($0) } ?? ""
        case "personalityEvidence": return p.personalityEvidence ?? ""
        case "industry": return p.industry ?? ""
        case "source": return c.source ?? ""
        case "owner": return c.ownerID.map { "#\($0)" } ?? ""
        case "externalID": return c.externalID ?? ""
        default: return ""
        }
    }

    static func label(_ field: String, _ s: Strings) -> String {
        let keys: [String: UIText] = ["name": .name, "email": .email, "phone": .phone, "gender": .gender, "birthday": .birthday,
                                      "hobbies": .hobbies, "familyNotes": .familyNotes, "preferredChannel": .preferredChannel,
                                      "contactWindows": .contactWindows, "doNotContact": .doNotContact, "personalityStyle": .personalityStyle,
                                      "personalityEvidence": .personalityEvidence, "industry": .industry, "source": .source, "owner": .owner,
                                      "tags": .tags, "roles": .roles]
        return keys[field].map { s[$0] } ?? field
    }

    public func render(_ context: PageContext) -> String {
        let s = context.strings
        // Fields where both records agree, or only the survivor has a value, need no choice.
        let rows = CustomerMerge.choosableFields.map { ($0, Self.value($0, survivor, s), Self.value($0, merged, s)) }
            .filter { $0.1 != $0.2 }
        return Layout.page(s[.merge], context, section: .duplicates, [
            .h1(.text(s[.merge] + ": " + merged.name + " → " + survivor.name)),
            .unwrap(problem) { .p(.class("error"), .attribute(named: "role", value: "alert"), .text($0)) },
            .p(.class("muted"), .text(s[.mergeExplained])),
            .form(.class("card"), .id("merge-form"), .action("/duplicates/merge"), .method(.post),
                  Layout.hiddenCSRF(context),
                  .input(.type(.hidden), .name("survivor"), .value(String(survivor.id.rawValue))),
                  .input(.type(.hidden), .name("merged"), .value(String(merged.id.rawValue))),
                  .div(.class("scroll"), .table(
                    .thead(.tr(.th(.text("")), .th(.text(s[.keep] + " #\(survivor.id)")), .th(.text(s[.keep] + " #\(merged.id)")))),
                    .tbody(.forEach(rows) { row in
                        .tr(.th(.text(Self.label(row.0, s))),
                            .td(.label(.class("check"), .input(.type(.radio), .name("field." + row.0), .value("survivor"), .checked(!row.1.isEmpty)),
                                       .text(" " + (row.1.isEmpty ? "—" : row.1)))),
                            .td(.label(.class("check"), .input(.type(.radio), .name("field." + row.0), .value("merged"), .checked(row.1.isEmpty)),
                                       .text(" " + (row.2.isEmpty ? "—" : row.2)))))
                    }))),
                  .p(.button(.type(.submit), .id("confirm-merge"), .text(s[.merge])), .text(" "), .a(.href("/duplicates"), .text(s[.cancel])))),
        ]).document
    }
}
