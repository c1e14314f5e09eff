import CRMAnalytics
import CRMCore
import Plot

/// The customer list: search as you type (张 finds 张伟), filters on the analysis and the
/// record, sorting and paging by cursor.
public struct CustomerListPage: Sendable {
    public struct Row: Sendable {
        public var id: Int64
        public var name: String
        public var kind: Customer.Kind
        public var email: String?
        public var phone: String?
        public var organisation: String?
        public var tier: CustomerTier?
        public var loyaltyStage: LoyaltyStage?
        public var rfmSegment: RFMSegment?
        public var churnRisk: ChurnRiskLevel?
        public var ownerName: String?

        public init(id: Int64, name: String, kind: Customer.Kind, email: String? = nil, phone: String? = nil, organisation: String? = nil,
                    tier: CustomerTier? = nil, loyaltyStage: LoyaltyStage? = nil, rfmSegment: RFMSegment? = nil,
                    churnRisk: ChurnRiskLevel? = nil, ownerName: String? = nil) {
            self.id = id; self.name = name; self.kind = kind; self.email = email; self.phone = phone; self.organisation = organisation
            self.tier = tier; self.loyaltyStage = loyaltyStage; self.rfmSegment = rfmSegment; self.churnRisk = churnRisk; self.ownerName = ownerName
        }
    }

    /// What the list was asked for, as the query string spells it.
    public struct Filters: Sendable, Equatable {
        public var q = ""
        public var tier: CustomerTier?
        public var loyaltyStage: LoyaltyStage?
        public var rfmSegment: RFMSegment?
        public var churnRisk: ChurnRiskLevel?
        public var ownerID: Int64?
        public var tag = ""
        public var sort = "name"
        public var cursor: String?

        public init() {}

        /// Reads the query parameters the page's form sends; unknown values are ignored.
        public init(query: [String: String]) {
            q = query["q"] ?? ""
            tier = query["tier"].flatMap(CustomerTier.init(rawValue:))
            loyaltyStage = query["stage"].flatMap(LoyaltyStage.init(rawValue:))
            rfmSegment = query["rfm"].flatMap(RFMSegment.init(rawValue:))
            churnRisk = query["churn"].flatMap(ChurnRiskLevel.init(rawValue:))
            ownerID = query["owner"].flatMap { Int64($0) }
            tag = query["tag"] ?? ""
            if let s = query["sort"], Self.sorts.contains(s) { sort = s }
            cursor = query["cursor"].flatMap { $0.isEmpty ? nil : $0 }
        }

        public static let sorts = ["name", "-name", "-updatedAt", "id"]

        /// What a saved view keeps: the filters, not the page it was on.
        public var savedQuery: String { query(cursor: nil) }

        /// The query string for these filters with `cursor` (the next page's link).
        func query(cursor: String?) -> String {
            var pairs: [(String, String)] = []
            if !q.isEmpty { pairs.append(("q", q)) }
            if let tier { pairs.append(("tier", tier.rawValue)) }
            if let loyaltyStage { pairs.append(("stage", loyaltyStage.rawValue)) }
            if let rfmSegment { pairs.append(("rfm", rfmSegment.rawValue)) }
            if let churnRisk { pairs.append(("churn", churnRisk.rawValue)) }
            if let ownerID { pairs.append(("owner", String(ownerID))) }
            if !tag.isEmpty { pairs.append(("tag", tag)) }
            pairs.append(("sort", sort))
            if let cursor { pairs.append(("cursor", cursor)) }
            return pairs.map { "\($0.0)=\(URLQuery.escape($0.1))" }.joined(separator: "&")
        }
    }

    public var filters: Filters
    public var rows: [Row]
    public var nextCursor: String?
    public var owners: [(id: Int64, name: String)]
    /// Why the search text could not be used (too short …), shown beside the box.
    public var searchProblem: String?
    public var canCreate: Bool
    /// The viewer's saved views: a name and the query string it opens.
    public var savedViews: [(id: Int64, name: String, query: String)] = []

    public init(filters: Filters, rows: [Row], nextCursor: String?, owners: [(id: Int64, name: String)], searchProblem: String? = nil, canCreate: Bool) {
        self.filters = filters; self.rows = rows; self.nextCursor = nextCursor; self.owners = owners
        self.searchProblem = searchProblem; self.canCreate = canCreate
    }

    public func render(_ context: PageContext) -> String {
        let s = context.strings
        return Layout.page(s[.customers], context, section: .customers, [
            .div(.class("heading"),
                 .h1(.text(s[.customers])),
                 .if(canCreate, .a(.class("button"), .href("/customers/new"), .text(s[.newCustomer])))),
            filterForm(s),
            savedViewBar(context),
            .div(.id("results"), results(s)),
        ]).document
    }

    /// Only the result table: what search-as-you-type swaps in.
    public func renderResults(_ context: PageContext) -> String {
        results(context.strings).render()
    }

    func filterForm(_ s: Strings) -> Node<HTML.BodyContext> {
        .form(.class("filters"), .action("/customers"), .method(.get), .attribute(named: "role", value: "search"),
              .div(.label(.for("q"), .text(s[.search])),
                   .input(.type(.search), .id("q"), .name("q"), .value(filters.q.attributeEscaped), .placeholder(s[.searchHint]),
                          .attribute(named: "data-live-search", value: "results"), .autocomplete(false))),
              select("tier", s[.tier], CustomerTier.allCases, filters.tier, s),
              select("stage", s[.loyaltyStage], LoyaltyStage.allCases, filters.loyaltyStage, s),
              select("rfm", s[.rfmSegment], RFMSegment.allCases, filters.rfmSegment, s),
              select("churn", s[.churnRisk], ChurnRiskLevel.allCases, filters.churnRisk, s),
              .div(.label(.for("owner"), .text(s[.owner])),
                   FormElements.select(id: "owner", name: "owner", [("", s[.any], false)]
                       + owners.map { (String($0.id), $0.name, filters.ownerID == $0.id) })),
              .div(.label(.for("tag"), .text(s[.tag])),
                   .input(.type(.text), .id("tag"), .name("tag"), .value(filters.tag.attributeEscaped))),
              .div(.label(.for("sort"), .text(s[.sortBy])),
                   FormElements.select(id: "sort", name: "sort", Filters.sorts.map { ($0, s[Self.sortLabel($0)], filters.sort == $0) })),
              .div(.button(.type(.submit), .text(s[.apply]))))
    }

    /// Saved views as links, each with its delete button, and a form that saves the current filters.
    func savedViewBar(_ context: PageContext) -> Node<HTML.BodyContext> {
        let s = context.strings
        return .div(.class("views"), .id("saved-views"),
            .if(!savedViews.isEmpty, .span(.class("muted"), .text(s[.savedViews] + ": "))),
            .forEach(savedViews) { view in
                .span(.class("view"),
                      .a(.href("/customers?" + view.query.attributeEscaped), .text(view.name)),
                      .form(.class("inline"), .action("/customers/views/\(view.id)/delete"), .method(.post),
                            Layout.hiddenCSRF(context),
                            .button(.type(.submit), .class("quiet small"), .attribute(named: "aria-label", value: (s[.deleteView] + " " + view.name).attributeEscaped),
                                    .text("×"))))
            },
            FormElements.details(id: "save-view", summary: s[.saveView], open: false,
                .form(.class("inline"), .action("/customers/views"), .method(.post),
                      Layout.hiddenCSRF(context),
                      .input(.type(.hidden), .name("query"), .value(filters.query(cursor: nil).attributeEscaped)),
                      .label(.for("view-name"), .text(s[.viewName] + " ")),
                      .input(.type(.text), .id("view-name"), .name("name"), .required(true)),
                      .text(" "), .button(.type(.submit), .id("save-view-button"), .text(s[.save])))))
    }

    static func sortLabel(_ sort: String) -> UIText {
        switch sort {
        case "-name": .sortNameDescending
        case "-updatedAt": .sortRecentlyUpdated
        case "id": .sortOldestFirst
        default: .sortName
        }
    }

    func select<T: DomainTerm>(_ name: String, _ label: String, _ values: [T], _ chosen: T?, _ s: Strings) -> Node<HTML.FormContext> {
        .div(.label(.for(name), .text(label)),
             FormElements.select(id: name, name: name, [("", s[.any], false)] + values.map { ($0.rawValue, s.term($0), chosen?.rawValue == $0.rawValue) }))
    }

    func results(_ s: Strings) -> Node<HTML.BodyContext> {
        .group(
            .unwrap(searchProblem) { .p(.class("error"), .id("search-problem"), .text($0)) },
            .if(rows.isEmpty && searchProblem == nil, .p(.class("muted"), .text(s[.noCustomersFound]))),
            .if(!rows.isEmpty, .div(.class("scroll"), .table(.class("responsive"),
                .thead(.tr(.th(.text(s[.name])), .th(.text(s[.contactDetails])), .th(.text(s[.tier])), .th(.text(s[.loyaltyStage])),
                           .th(.text(s[.rfmSegment])), .th(.text(s[.churnRisk])), .th(.text(s[.owner])))),
                .tbody(.forEach(rows) { row in tableRow(row, s) })))),
            .unwrap(nextCursor) { cursor in
                .div(.class("pager"), .a(.id("next-page"), .href("/customers?" + filters.query(cursor: cursor)), .text(s[.nextPage])))
            }
        )
    }

    func tableRow(_ row: Row, _ s: Strings) -> Node<HTML.TableContext> {
        let contact = [row.organisation, row.email, row.phone].compactMap { $0 }.joined(separator: " · ")
        return .tr(
            .td(.attribute(named: "data-label", value: s[.name]),
                .a(.href("/customers/\(row.id)"), .text(row.name)), .text(" "), .span(.class("badge"), .text(s.term(row.kind)))),
            .td(.attribute(named: "data-label", value: s[.contactDetails]), .text(contact)),
            .td(.attribute(named: "data-label", value: s[.tier]), .unwrap(row.tier) { .span(.class("badge \($0.rawValue)"), .text(s.term($0))) }),
            .td(.attribute(named: "data-label", value: s[.loyaltyStage]), .text(row.loyaltyStage.map { s.term($0) } ?? "")),
            .td(.attribute(named: "data-label", value: s[.rfmSegment]), .text(row.rfmSegment.map { s.term($0) } ?? "")),
            .td(.attribute(named: "data-label", value: s[.churnRisk]),
                .unwrap(row.churnRisk) { .span(.class("badge \($0.rawValue)"), .text(s.term($0))) }),
            .td(.attribute(named: "data-label", value: s[.owner]), .text(row.ownerName ?? ""))
        )
    }
}

/// Percent-encoding for the query strings the pages write into links.
public enum URLQuery {
    static let allowed: Set<UInt8> = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))

    public static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            if allowed.contains(byte) { out.unicodeScalars.append(UnicodeScalar(byte)) }
            else { out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2) }
        }
        return out
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
