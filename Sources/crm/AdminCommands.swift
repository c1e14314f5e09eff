import ArgumentParser
import CRMCore
import CRMServer
import CRMStore
import Foundation

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations (serve does this too).")
    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let settings = try await Settings(options: options)
        let logger = settings.logger()
        let applied = try await withStore(settings.database, logger: logger, migrate: false) { store in
            try await Migrator(database: store.database, logger: logger).migrate()
        }
        print(applied.isEmpty ? "The schema is up to date." : "Applied migrations \(applied.map(String.init).joined(separator: ", ")).")
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load a realistic, reproducible demo company into an empty database.")
    @OptionGroup var options: DatabaseOptions

    @Option(help: "How many customers (persons and organisations).")
    var customers = 3_000

    @Option(help: "How many order lines in all (default: 8 per customer).")
    var orderLines: Int?

    @Option(help: "Random seed: the same seed builds the same company.")
    var seed: UInt64 = 2026

    @Flag(inversion: .prefixedNo, help: "Analyse the customer base after loading (tiers, RFM, CLV …).")
    var analyse = true

    func run() async throws {
        let settings = try await Settings(options: options)
        let logger = settings.logger()
        let company = DemoCompany(customers: customers, orderLines: orderLines, seed: seed)
        _ = try await withStore(settings.database, logger: logger) { store in
            let hash = try await Authenticator.hashPassword(DemoCompany.password, cost: 10)
            let report = try await company.load(into: store, passwordHash: hash, logger: logger) { line in
                FileHandle.standardError.write(Data("\r\(line)\u{1B}[K".utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            print(String(format: "Loaded %d customers, %d orders and %d order lines into %@ in %.1f s.",
                         report.customers, report.orders, report.orderLines, "\(settings.database)", report.seconds))
            if analyse {
                let (run, _) = try await CustomerBaseRefresh(store: store, logger: logger).run(by: nil)
                print(String(format: "Analysed %d customers (tiers, loyalty, RFM, CLV, churn risk) in %.1f s.", run.customers, run.seconds))
            }
            return report
        }
        printDemoSignIns()
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy a live SQLite database consistently (for PostgreSQL, says how to use pg_dump).")
    @OptionGroup var options: DatabaseOptions

    @Option(help: "The file to write the copy to (must not exist).")
    var to: String?

    func run() async throws {
        let settings = try await Settings(options: options)
        switch settings.database {
        case .postgres(let url):
            print("""
                For PostgreSQL use its own tools, which copy a live database consistently:
                  pg_dump --format=custom --file=crm-$(date +%F).dump '\(DatabaseLocation.postgres(url: url))'
                and restore into an empty database with:
                  pg_restore --dbname='<new database URL>' crm-YYYY-MM-DD.dump
                """)
        case .sqlite(let path):
            let target = to ?? "crm-backup-\(CalendarDate(utc: Date())).sqlite"
            let database = try await SQLiteStoreDatabase(path: path, readers: 1, logger: settings.logger())
            try await database.backup(to: target)
            await database.close()
            print("Wrote a consistent copy of \(path) to \(target). To restore, stop the server and replace the file with it.")
        }
    }
}

struct Summaries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the per-customer purchase summaries against the orders, and repair them.")
    @OptionGroup var options: DatabaseOptions

    @Flag(help: "Recompute the summaries that differ.")
    var repair = false

    func run() async throws {
        let settings = try await Settings(options: options)
        let repairing = repair
        let (wrong, fixed) = try await withStore(settings.database, logger: settings.logger()) { store in
            // Those a killed order import left in the backlog are not wrong, only late.
            try await store.summaries.settleBacklog()
            let wrong = try await store.summaries.verify()
            let fixed = repairing ? try await store.summaries.repair(wrong) : 0
            return (wrong, fixed)
        }
        if wrong.isEmpty {
            print("All purchase summaries match the orders.")
        } else {
            print("\(wrong.count) customers' summaries differ from their orders: \(wrong.prefix(20).map(\.description).joined(separator: ", "))\(wrong.count > 20 ? " …" : "")")
            if repairing { print("Repaired \(fixed).") } else { throw ExitCode(1) }
        }
    }
}
