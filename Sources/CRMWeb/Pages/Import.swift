import CRMCore
import Foundation
import Plot

/// Import from a CSV file: choose what and how, upload, then the job's progress and result
/// with each refused row's number, column, value and reason, and the error report to download.
public struct ImportPage: Sendable {
    public enum Kind: String, Sendable, CaseIterable { case customers, orders, products, interactions }

    /// A job as the page shows it.
    public struct Job: Sendable {
        public enum Status: String, Sendable { case running, finished, failed }
        public var id: Int64
        public var kind: Kind
        public var status: Status
        public var rowsRead: Int
        public var estimatedRows: Int
        public var created: Int?
        public var updated: Int?
        public var unchanged: Int?
        public var rejected: Int?
        public var committed: Bool?
        public var dryRun: Bool?
        public var problems: [ImportProblem]
        public var error: String?

        public init(id: Int64, kind: Kind, status: Status, rowsRead: Int, estimatedRows: Int, created: Int? = nil, updated: Int? = nil,
                    unchanged: Int? = nil, rejected: Int? = nil, committed: Bool? = nil, dryRun: Bool? = nil,
                    problems: [ImportProblem] = [], error: String? = nil) {
            self.id = id; self.kind = kind; self.status = status; self.rowsRead = rowsRead; self.estimatedRows = estimatedRows
            self.created = created; self.updated = updated; self.unchanged = unchanged; self.rejected = rejected
            self.committed = committed; self.dryRun = dryRun; self.problems = problems; self.error = error
        }
    }

    /// The job just started or asked for; nil on the upload form alone.
    public var job: Job?
    /// Why an upload was refused before any row was read (no file, unreadable header …).
    public var problem: String?

    public init(job: Job? = nil, problem: String? = nil) {
        self.job = job; self.problem = problem
    }

    static func label(_ kind: Kind, _ s: Strings) -> String {
        switch kind {
        case .customers: s[.importCustomers]
        case .orders: s[.importOrders]
        case .products: s[.importProducts]
        case .interactions: s[.importInteractions]
        }
    }

    public func render(_ context: PageContext) -> String {
        let s = context.strings
        var content: [Node<HTML.BodyContext>] = [.h1(.text(s[.imports]))]
        if let problem { content.append(.p(.class("error"), .id("import-problem"), .attribute(named: "role", value: "alert"), .text(problem))) }
        if let job { content.append(jobView(job, s)) }
        content.append(uploadForm(context))
        let page = Layout.page(s[.imports], context, section: .imports, content, refreshAfter: job?.status == .running ? 2 : nil)
        return page.document
    }

    func uploadForm(_ context: PageContext) -> Node<HTML.BodyContext> {
        let s = context.strings
        let kinds: [FormElements.Choice] = Kind.allCases.map { ($0.rawValue, Self.label($0, s), $0 == (job?.kind ?? .customers)) }
        let modes: [FormElements.Choice] = [("validRows", s[.modeValidRows], true), ("allOrNothing", s[.modeAllOrNothing], false)]
        return .form(.class("stack card"), .id("import-form"), .action("/imports"),
                     .method(.post), .enctype(.multipartData),
                     Layout.hiddenCSRF(context),
                     .label(.for("import-kind"), .text(s[.importKind])),
                     FormElements.select(id: "import-kind", name: "kind", kinds),
                     .label(.for("import-file"), .text(s[.importFile])),
                     .input(.type(.file), .id("import-file"), .name("file"), .attribute(named: "accept", value: ".csv,text/csv"), .required(true)),
                     .label(.for("import-mode"), .text(s[.importMode])),
                     FormElements.select(id: "import-mode", name: "mode", modes),
                     .label(.class("check"), .input(.type(.checkbox), .id("import-dry-run"), .name("dryRun"), .value("1")), .text(" " + s[.dryRun])),
                     .p(.button(.type(.submit), .id("upload"), .text(s[.upload]))))
    }

    func jobView(_ job: Job, _ s: Strings) -> Node<HTML.BodyContext> {
        let title = switch job.status {
        case .running: s[.importRunning]
        case .finished: s[.importFinished]
        case .failed: s[.importFailed]
        }
        var figures: [(String, String, String)] = [("rows", s[.rowsRead], s.count(job.rowsRead))]
        if let v = job.created { figures.append(("created", s[.created], s.count(v))) }
        if let v = job.updated { figures.append(("updated", s[.updated], s.count(v))) }
        if let v = job.unchanged { figures.append(("unchanged", s[.unchanged], s.count(v))) }
        if let v = job.rejected { figures.append(("rejected", s[.rejected], s.count(v))) }
        return .section(.class("card"), .id("import-job"), .attribute(named: "data-status", value: job.status.rawValue),
            .h2(.text(title + " · " + Self.label(job.kind, s))),
            // While it runs, the page refreshes itself (no script needed).
            .if(job.status == .running, .p(.class("muted"), .text(s.count(job.rowsRead) + " / ~" + s.count(job.estimatedRows)))),
            .unwrap(job.error) { .p(.class("error"), .text($0)) },
            .div(.class("figures"), .forEach(figures) { f in
                .div(.class("figure"), .id("import-" + f.0), .element(named: "b", text: f.2), .span(.text(f.1)))
            }),
            .if(job.committed == false && job.status == .finished, .p(.class("muted"), .id("not-committed"), .text(s[.notCommitted]))),
            .if(!job.problems.isEmpty, .group(
                .div(.class("scroll"), .table(.class("responsive"), .id("import-problems"),
                    .thead(.tr(.th(.class("num"), .text(s[.row])), .th(.text(s[.column])), .th(.text(s[.value])), .th(.text(s[.reason])))),
                    .tbody(.forEach(job.problems) { p in
                        .tr(.td(.class("num"), .attribute(named: "data-label", value: s[.row]), .text(String(p.row))),
                            .td(.attribute(named: "data-label", value: s[.column]), .text(p.column)),
                            .td(.attribute(named: "data-label", value: s[.value]), .text(p.value)),
                            .td(.attribute(named: "data-label", value: s[.reason]), .text(p.reason)))
                    }))),
                .p(.a(.id("error-report"), .href("/imports/\(job.id)/errors.csv"), .text(s[.errorReport])))
            )))
    }
}
