import ArgumentParser
import CRMAnalytics
import CRMCore
import CRMStore
import Foundation
import Synchronization

/// `crm import …`: getting existing customer lists into the CRM.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import CSV files (UTF-8, UTF-8 with BOM or GB18030, detected).",
        subcommands: [ImportCustomers.self, ImportProducts.self, ImportOrders.self, ImportInteractions.self])
}

/// What every import command takes: the file, who imports it, and how.
struct ImportFileOptions: ParsableArguments {
    @Argument(help: "The CSV file.")
    var file: String

    @Option(help: "The user the import is done as (audit and permissions); default: the first admin.")
    var user: String?

    @Option(help: "auto, utf8 or gb18030.")
    var encoding: TextEncoding = .auto

    @Flag(help: "Report what would be created, updated and refused, and write nothing.")
    var dryRun = false

    @Flag(help: "Write nothing if any row is bad (default: import the good rows, report the bad ones).")
    var allOrNothing = false

    @Option(name: .customLong("map"), help: "header=field, repeatable (e.g. 手机号=phone, 备注=).")
    var mappings: [String] = []

    @Option(help: "Where to write the error report (CSV); default: FILE.errors.csv when there are errors.")
    var errors: String?

    var mode: CustomerImportOptions.Mode { allOrNothing ? .allOrNothing : .validRows }
    var errorPath: String { errors ?? file + ".errors.csv" }

    func explicitMapping() throws -> [String: String] {
        try Dictionary(mappings.map { pair -> (String, String) in
            guard let eq = pair.firstIndex(of: "=") else { throw ValidationError("--map \(pair): expected header=field") }
            return (String(pair[..<eq]), String(pair[pair.index(after: eq)...]))
        }, uniquingKeysWith: { _, b in b })
    }

    /// What an import command's own part gets: the opened file and database, who imports,
    /// where refused rows and progress go.
    struct Session: Sendable {
        let settings: Settings
        let store: Store
        let users: CommandUsers
        let actor: Actor
        let csv: CSVRowSource
        let problems: @Sendable ([ImportProblem]) throws -> Void
        let progress: @Sendable (Int, Int) -> Void
    }

    /// Opens the file and the database, runs `body` with the error report open and a
    /// progress bar, prints the summary (with `counts`, the kind's own line) and exits with 2
    /// if rows were refused. An empty error report nobody asked for is removed.
    func run<Counts: ImportCounts>(_ options: DatabaseOptions, counts: (ImportReport<Counts>) -> String,
                                   _ body: @escaping @Sendable (Session) async throws -> ImportReport<Counts>) async throws {
        let settings = try await Settings(options: options)
        let csv = try CSVRowSource(path: file, encoding: encoding)
        let (errorPath, keepReport) = (errorPath, errors != nil)
        let report = try await withStore(settings.database, logger: settings.logger()) { [user] store in
            let users = try await CommandUsers(store)
            let actor = try users.actor(user)
            let problemFile = try ImportProblemFile(path: errorPath)
            defer { problemFile.close() }
            let progress = ProgressBar()
            defer { progress.finish() }
            do {
                return try await body(Session(settings: settings, store: store, users: users, actor: actor, csv: csv,
                                              problems: { problemFile.write($0) }, progress: { progress.show($0, $1) }))
            } catch {
                // Refused as a whole (its header, its mapping) before any row was: no report.
                if !keepReport && problemFile.isEmpty { try? FileManager.default.removeItem(atPath: errorPath) }
                throw error
            }
        }
        if report.problemCount == 0 && !keepReport { try? FileManager.default.removeItem(atPath: errorPath) }
        var lines: [String] = []
        let verb = report.committed ? "" : (dryRun ? " (dry run: nothing written)" : " (nothing written: all-or-nothing and some rows are bad)")
        lines.append("Read \(report.rows) rows (\(report.encoding.rawValue)) in \(String(format: "%.1f", report.seconds)) s\(verb).")
        lines.append("  " + counts(report))
        if !report.ignoredColumns.isEmpty { lines.append("  columns not imported: \(report.ignoredColumns.joined(separator: ", "))") }
        for p in report.problems.prefix(10) {
            lines.append("  row \(p.row), \(p.column.isEmpty ? "row" : p.column)\(p.value.isEmpty ? "" : " \"\(p.value)\""): \(p.reason)")
        }
        if report.problemCount > 0 { lines.append("  all \(report.problemCount) problems: \(errorPath)") }
        print(lines.joined(separator: "\n"))
        if report.problemCount > 0 { throw ExitCode(2) }
    }
}

struct ImportOrders: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders",
        abstract: "Import orders from a CSV of order lines; purchase summaries are kept exact as it goes.",
        discussion: """
            One row per order line; the lines of one order are consecutive rows with the same order number \
            (order_id/订单号), which becomes the order's external id: re-importing a file creates nothing twice \
            and replaces orders whose lines changed. Columns: order_id, customer (the customer's external \
            id/客户编号) or customer_email, order_date/日期, sku/商品编码, quantity/数量, unit_price/单价, and \
            optionally discount/折扣, unit_cost/成本 (default: the product's), promotion/促销, channel/渠道, \
            currency/币种. Amounts are in major units (12.50).
            Exit status: 0 when every row was imported, 2 when some rows were refused, 1 on failure.
            """)

    @OptionGroup var options: DatabaseOptions
    @OptionGroup var file: ImportFileOptions

    @Option(help: "Currency of rows that give none.")
    var currency = "CNY"

    @Option(help: "Order lines per transaction.")
    var batchSize = 20_000

    func run() async throws {
        guard let defaultCurrency = Currency(currency) else { throw ValidationError("--currency: not an ISO 4217 code: \(currency)") }
        let importOptions = OrderImportOptions(mode: file.mode, dryRun: file.dryRun, mapping: try file.explicitMapping(),
                                               defaultCurrency: defaultCurrency, batchSize: batchSize)
        try await file.run(options, counts: { r in
            "orders created \(r.created), replaced \(r.updated), unchanged \(r.unchanged), lines written \(r.linesWritten), "
                + "rows refused \(r.failed), summaries recomputed \(r.customersSummarised)"
        }) { session in
            try await session.store.orderImport.run(session.csv, options: importOptions, by: session.actor, problems: session.problems,
                                                    progress: session.progress)
        }
    }
}

struct ImportInteractions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interactions",
        abstract: "Import the contact history (calls, visits, meetings, e-mails …) from another system.",
        discussion: """
            Columns: customer (external id/客户编号) or customer_email, kind/类型 (call, visit, meeting, email, sms, \
            letter, note; 电话, 拜访, 会议, 邮件, 短信, 信件, 备注), occurred_at/时间 (2026-03-01 or 2026-03-01 14:30, \
            read in --time-zone), and optionally direction/方向 (inbound/呼入, outbound/呼出, internal), subject/主题, \
            notes/内容, outcome/结果, user/跟进人 (a username). An interaction already stored (same customer, kind, \
            time and subject) is skipped, so a re-run creates nothing twice.
            Exit status: 0 when every row was imported, 2 when some rows were refused, 1 on failure.
            """)

    @OptionGroup var options: DatabaseOptions
    @OptionGroup var file: ImportFileOptions

    @Option(help: "Time zone of times without an offset.")
    var timeZone = "Asia/Shanghai"

    func run() async throws {
        guard let zone = TimeZone(identifier: timeZone) else { throw ValidationError("--time-zone: no time zone is called \(timeZone)") }
        let (mode, dryRun, mapping) = (file.mode, file.dryRun, try file.explicitMapping())
        try await file.run(options, counts: { "created \($0.created), already stored \($0.unchanged), refused \($0.failed)" }) { session in
            try await session.store.interactionImport.run(session.csv, mode: mode, dryRun: dryRun, mapping: mapping, timeZone: zone,
                                                          by: session.actor, problems: session.problems, progress: session.progress)
        }
    }
}

struct ImportProducts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "products",
        abstract: "Import a price list: products matched by SKU are updated, the others created.",
        discussion: """
            Columns: sku/商品编码, name/名称, list_price/价格, unit_cost/成本, and optionally category/类别 and \
            currency/币种. Amounts are in major units (12.50).
            Exit status: 0 when every row was imported, 2 when some rows were refused, 1 on failure.
            """)

    @OptionGroup var options: DatabaseOptions
    @OptionGroup var file: ImportFileOptions

    @Option(help: "Currency of rows that give none.")
    var currency = "CNY"

    func run() async throws {
        guard let defaultCurrency = Currency(currency) else { throw ValidationError("--currency: not an ISO 4217 code: \(currency)") }
        let (mode, dryRun, mapping) = (file.mode, file.dryRun, try file.explicitMapping())
        try await file.run(options, counts: {
            "created \($0.created), updated \($0.updated), unchanged \($0.unchanged), refused \($0.failed)"
        }) { session in
            try await session.store.productImport.run(session.csv, mode: mode, dryRun: dryRun, mapping: mapping, defaultCurrency: defaultCurrency,
                                                      by: session.actor, problems: session.problems, progress: session.progress)
        }
    }
}

struct ImportCustomers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers",
        abstract: "Import persons and organisations from a CSV file; rows matching a stored customer update it.",
        discussion: """
            Columns are recognised by their header, in English or Chinese (name/姓名, email/邮箱, phone/手机, \
            company/公司, title/职位, tags/标签, source/来源, owner/负责人, external_id/客户编号 …); adjust with \
            --map 'header=field' (field '' ignores the column). Every bad row is reported with its row number, \
            column, value and reason, in --errors FILE as CSV. Re-running the same file creates nothing twice.
            Exit status: 0 when every row was imported, 2 when some rows were refused, 1 on failure.
            """)

    @OptionGroup var options: DatabaseOptions
    @OptionGroup var file: ImportFileOptions

    @Option(parsing: .upToNextOption, help: "Match stored customers by these besides the external id: email, phone.")
    var match: [CustomerImportOptions.MatchKey] = []

    @Option(help: "Use the column mapping saved under this name (--map adds to it).")
    var profile: String?

    @Option(help: "Save this import's column mapping (the profile's and --map's) under this name.")
    var saveProfile: String?

    @Option(parsing: .upToNextOption, help: "Roles of rows that give none (default: customer).")
    var roles: [CustomerRole] = [.customer]

    @Option(help: "Source recorded for rows that give none (e.g. '2026 Canton Fair').")
    var source: String?

    @Option(parsing: .upToNextOption, help: "Tags added to every row (e.g. the campaign).")
    var tag: [String] = []

    @Option(help: "Username owning new customers whose row names no owner.")
    var owner: String?

    @Option(help: "Create a follow-up task with this title for each new customer (business cards).")
    var followUp: String?

    @Option(help: "Days until the follow-up task is due.")
    var followUpDays = 3

    func run() async throws {
        let given = try file.explicitMapping()
        let (file, profile, saveProfile, owner, match) = (file, profile, saveProfile, owner, match)
        let (roles, source, tag, followUp, followUpDays) = (roles, source, tag, followUp, followUpDays)
        try await file.run(options, counts: { (r: CustomerImportReport) in
            var counts = "created \(r.created), updated \(r.updated), unchanged \(r.unchanged), refused \(r.failed)"
            if r.organisationsCreated + r.contactsCreated + r.tasksCreated > 0 {
                counts += "\n  organisations created \(r.organisationsCreated), contacts linked \(r.contactsCreated), follow-up tasks \(r.tasksCreated)"
            }
            return counts
        }) { session in
            let store = session.store
            var mapping: [String: String] = [:]
            if let profile {
                guard let saved = try await store.importProfiles.mapping(named: profile) else {
                    let known = try await store.importProfiles.names()
                    throw ValidationError("no mapping profile is called \(profile)" + (known.isEmpty ? "" : " (saved: \(known.joined(separator: ", ")))"))
                }
                mapping = saved
            }
            mapping.merge(given, uniquingKeysWith: { _, new in new })
            if let saveProfile { try await store.importProfiles.save(saveProfile, mapping: mapping, by: session.actor) }
            let importOptions = CustomerImportOptions(
                mode: file.mode, dryRun: file.dryRun, matchOn: [.externalID] + match, mapping: mapping,
                defaults: CustomerImportDefaults(roles: roles, source: source, tags: tag, countryCode: session.settings.phoneCountryCode),
                ownerID: try session.users.id(of: owner, option: "--owner"),
                followUp: followUp.map { CustomerImportOptions.FollowUp(title: $0, dueInDays: followUpDays) })
            return try await store.customerImport.run(session.csv, options: importOptions, by: session.actor, problems: session.problems,
                                                      progress: session.progress)
        }
    }
}
extension TextEncoding: ExpressibleByArgument {}
extension CustomerImportOptions.MatchKey: ExpressibleByArgument {}
extension CustomerRole: ExpressibleByArgument {}

/// A one-line progress bar on standard error, redrawn at most ten times a second.
final class ProgressBar: Sendable {
    private let started = ContinuousClock.now
    private let lastDrawn = Mutex<ContinuousClock.Instant?>(nil)

    func show(_ done: Int, _ total: Int) {
        let now = ContinuousClock.now
        let draw = lastDrawn.withLock { last -> Bool in
            if let last, now - last < .milliseconds(100) { return false }
            last = now
            return true
        }
        guard draw else { return }
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let width = 30
        let filled = Int(fraction * Double(width))
        let elapsed = Double((now - started).components.seconds)
        let line = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + "\(done)/\(total) rows, \(Int(elapsed)) s"
        FileHandle.standardError.write(Data("\r\(line)\u{1B}[K".utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}

/// `crm export …`: any filtered customer list, or all of them, streamed to a file.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export data as CSV (UTF-8 with BOM, opens in Excel) or JSON Lines, streamed.",
        subcommands: [ExportCustomers.self])
}

struct ExportCustomers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers",
        abstract: "Export customers (all, or those the filters select); the CSV's columns import back as they are.")

    @OptionGroup var options: DatabaseOptions

    @Option(help: "csv or jsonl.")
    var format: CustomerExporter.Format = .csv

    @Option(help: "The file to write (default: standard output).")
    var out: String?

    @Option(help: "Only this role.") var role: CustomerRole?
    @Option(help: "Only customers with this tag.") var tag: String?
    @Option(help: "Only customers owned by this username.") var owner: String?
    @Option(help: "Only this tier (platinum, gold, iron, lead).") var tier: CustomerTier?
    @Option(help: "Only this loyalty stage.") var loyaltyStage: LoyaltyStage?
    @Option(help: "Only this RFM segment.") var rfmSegment: RFMSegment?
    @Option(help: "Only this churn risk (low, medium, high).") var churnRisk: ChurnRiskLevel?
    @Flag(help: "Include archived customers.") var includeArchived = false

    @Option(help: "The user the export is done as; default: the first admin.")
    var user: String?

    func run() async throws {
        let settings = try await Settings(options: options)
        let logger = settings.logger()
        let (count, seconds) = try await withStore(settings.database, logger: logger) { store -> (Int, Double) in
            let users = try await CommandUsers(store)
            let actor = try users.actor(user)
            let ownerID = try users.id(of: owner, option: "--owner")
            let query = CustomerRepository.Query(role: role, tag: tag, ownerID: ownerID, includeArchived: includeArchived, tier: tier,
                                                 loyaltyStage: loyaltyStage, rfmSegment: rfmSegment, churnRisk: churnRisk)
            let handle: FileHandle
            if let out {
                guard FileManager.default.createFile(atPath: out, contents: nil), let h = FileHandle(forWritingAtPath: out) else {
                    throw ValidationError("cannot write \(out)")
                }
                handle = h
            } else {
                handle = FileHandle.standardOutput
            }
            let started = ContinuousClock.now
            let n = try await store.customerExport.write(query, format: format, to: handle,
                                                         by: actor)
            if out != nil { try handle.close() }
            let d = ContinuousClock.now - started
            return (n, Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18)
        }
        let line = String(format: "Exported %d customers%@ in %.1f s.", count, out.map { " to \($0)" } ?? "", seconds)
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

extension CustomerExporter.Format: ExpressibleByArgument {}
extension CustomerTier: ExpressibleByArgument {}
extension LoyaltyStage: ExpressibleByArgument {}
extension RFMSegment: ExpressibleByArgument {}
extension ChurnRiskLevel: ExpressibleByArgument {}

/// `crm duplicates`: records that look like one party, for review and merging.
struct Duplicates: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List customer records that look like one party (same e-mail, same phone, similar names in one organisation).")

    @OptionGroup var options: DatabaseOptions

    @Option(help: "Only pairs scoring at least this (0–1).")
    var minScore = 0.5

    @Option(help: "How many pairs to print.")
    var limit = 20

    @Option(help: "Write every pair to this CSV file.")
    var out: String?

    func run() async throws {
        let settings = try await Settings(options: options)
        let logger = settings.logger()
        try await withStore(settings.database, logger: logger) { store in
            let actor = try await CommandUsers(store).actor(nil)
            let started = ContinuousClock.now
            let pairs = try await store.duplicates.scan(minScore: minScore, by: actor)
            let seconds = ContinuousClock.now - started
            let shown = out == nil ? Array(pairs.prefix(limit)) : pairs
            let names = try await store.duplicates.names(shown.flatMap { [$0.first, $0.second] })
            if let out {
                var text = "score,first_id,first_name,second_id,second_name,reasons\r\n"
                for p in pairs {
                    text += [String(p.score), "\(p.first)", names[p.first] ?? "", "\(p.second)", names[p.second] ?? "",
                             p.reasons.map(\.rawValue).joined(separator: ";")].map(ImportProblemFile.quoted).joined(separator: ",") + "\r\n"
                }
                guard FileManager.default.createFile(atPath: out, contents: Data([0xEF, 0xBB, 0xBF] + Array(text.utf8))) else {
                    throw ValidationError("cannot write \(out)")
                }
            }
            for p in pairs.prefix(limit) {
                print(String(format: "%.2f  %@ %@  ~  %@ %@  (%@)", p.score, "\(p.first)", names[p.first] ?? "", "\(p.second)",
                             names[p.second] ?? "", p.reasons.map(\.rawValue).joined(separator: ", ")))
            }
            print("\(pairs.count) candidate pairs in \(seconds.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))"
                  + (out.map { "; all written to \($0)" } ?? ""))
        }
    }
}

/// The users a command resolves names against: who it acts as (for permissions and the
/// audit log) and the owners it is given by username.
struct CommandUsers {
    let users: [User]

    init(_ store: Store) async throws { users = try await store.users.list() }

    /// The active user called `username`, or else the first active admin.
    func actor(_ username: String?) throws -> Actor {
        let found = username.map { name in users.first { $0.username == name } } ?? users.first { $0.role == .admin && !$0.disabled }
        guard let user = found else {
            throw ValidationError(username.map { "--user: no user is called \($0)" } ?? "no admin user exists; create one with crm user add")
        }
        guard !user.disabled else { throw ValidationError("--user: \(user.username) is disabled") }
        return Actor(userID: user.id, name: user.displayName, role: user.role)
    }

    func id(of username: String?, option: String) throws -> User.ID? {
        guard let username else { return nil }
        guard let user = users.first(where: { $0.username == username }) else { throw ValidationError("\(option): no user is called \(username)") }
        return user.id
    }
}
