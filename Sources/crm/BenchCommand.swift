import ArgumentParser
import CRMAnalytics
import CRMCore
import CRMServer
import CRMStore
import Foundation
import Logging

/// `crm bench …`: benchmarks that print figures (speed targets are met here, never in
/// timed unit tests). The server's HTTP benchmark is `scripts/bench-api.sh`, since it
/// needs wrk and a running server.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print figures.",
        subcommands: [AnalyticsBench.self, ImportBench.self, CSVReadBench.self])
}

struct AnalyticsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analytics",
        abstract: "BG/NBD fit on simulated customers and the RFM pipeline on a transactions CSV.",
        discussion: """
            Simulates --customers from the CDNOW BG/NBD parameters (r 0.243, α 4.414, a 0.793, \
            b 2.426) and fits them; then aggregates --transactions (written first, with --rows rows \
            of --transaction-customers customers, if the file does not exist), scores RFM and tiers. \
            Build with -c release for meaningful figures. For the end-to-end command with its peak \
            memory run: /usr/bin/time -v crm analytics rfm --transactions FILE --out /tmp/rfm.csv
            """)

    @Option(help: "Simulated customers for the BG/NBD fit (0 skips it).") var customers = 1_000_000
    @Option(help: "The transactions CSV for the RFM pipeline.") var transactions = "/tmp/crm-bench-transactions.csv"
    @Option(help: "Rows to write when the transactions file does not exist (0 skips RFM).") var rows = 10_000_000
    @Option(help: "Customers in a written transactions file.") var transactionCustomers = 1_000_000
    @Option(help: "Random seed.") var seed: UInt64 = 1

    func run() async throws {
        var file: String? = nil
        if rows > 0 {
            if !FileManager.default.fileExists(atPath: transactions) {
                let clock = ContinuousClock.now
                try AnalyticsBenchmark.writeSyntheticTransactions(path: transactions, rows: rows, customers: transactionCustomers, seed: seed)
                print("wrote \(transactions) (\(rows) rows) in \(ContinuousClock.now - clock)")
            }
            file = transactions
        }
        let figures = try AnalyticsBenchmark.run(customers: customers, transactionsFile: file, seed: seed)
        for (name, value) in figures.sorted(by: { $0.key < $1.key }) {
            print(name.padding(toLength: 28, withPad: " ", startingAt: 0), String(format: value.rounded() == value ? "%.0f" : "%.4f", value))
        }
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in status.split(separator: "\n") where line.hasPrefix("VmHWM") { print("peak resident memory        ", line.dropFirst(6).trimmingCharacters(in: .whitespaces)) }
        }
    }
}

struct CSVReadBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csv",
        abstract: "Reads a CSV file through the import's reader, 5,000 rows at a time, and prints rows and megabytes a second.")

    @Argument(help: "The CSV file (default: the import benchmark's order lines).") var file = "/tmp/crm-bench-order-lines.csv"

    func run() throws {
        let clock = ContinuousClock.now
        let source = try CSVRowSource(path: file)
        var rows = 0
        var cells = 0
        while true {
            let batch = try source.next(5_000)
            if batch.isEmpty { break }
            rows += batch.count
            for row in batch { cells += row.values.count }
        }
        let seconds = ImportBench.seconds(ContinuousClock.now - clock)
        let bytes = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
        ImportBench.figure("read s", seconds, String(format: "%d rows, %d cells, %.0f rows/s, %.1f MB/s", rows, cells,
                                                     Double(rows) / seconds, Double(bytes) / 1e6 / seconds))
    }
}

struct ImportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import --customers and --order-lines from CSV (written first if missing), export, scan for duplicates.",
        discussion: """
            Imports into --database (default: a fresh SQLite file, deleted first) with duplicate \
            checking on (rows matched by external id, e-mail and phone), imports the same file a \
            second time (it must create nothing), exports every customer to CSV and scans the whole \
            database for duplicates, printing seconds and the peak resident memory after each step. \
            Build with -c release for meaningful figures.
            """)

    @Option(help: "Customers in a written CSV.") var customers = 1_000_000
    @Option(help: "The customers CSV.") var file = "/tmp/crm-bench-customers.csv"
    @Option(help: "The database (a SQLite path or postgres:// URL); a SQLite file is deleted first.")
    var database = "/tmp/crm-bench-import.sqlite"
    @Flag(help: "Skip the second, idempotent import.") var once = false
    @Option(help: "Order lines to import after the customers (0 skips it).") var orderLines = 10_000_000
    @Option(help: "The order-lines CSV.") var ordersFile = "/tmp/crm-bench-order-lines.csv"
    @Flag(help: "Skip the customers, export and duplicate scan (the database must hold the bench customers).") var ordersOnly = false
    @Option(help: "Order lines per transaction in the order import.") var orderBatch = OrderImportOptions().batchSize
    @Option(help: "Customers per transaction in the customer import (read and prepared 5,000 at a time).") var customerBatch = 20_000

    func run() async throws {
        if !FileManager.default.fileExists(atPath: file) {
            let clock = ContinuousClock.now
            try Self.writeCustomers(path: file, count: customers)
            print("wrote \(file) (\(customers) rows) in \(ContinuousClock.now - clock)")
        }
        if orderLines > 0 && !FileManager.default.fileExists(atPath: ordersFile) {
            let clock = ContinuousClock.now
            try Self.writeOrderLines(path: ordersFile, lines: orderLines, customers: customers)
            print("wrote \(ordersFile) (\(orderLines) lines) in \(ContinuousClock.now - clock)")
        }
        let location = DatabaseLocation(database)
        if case .sqlite(let path) = location, !ordersOnly {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        try await withStore(location, logger: logger) { store in
            var admin = try await store.users.list().first { $0.role == .admin }
            if admin == nil {
                admin = try await store.users.create(username: "bench-admin", displayName: "Bench", role: .admin,
                                                     passwordHash: try await Authenticator.hashPassword(UUID().uuidString, cost: 4), by: nil)
            }
            guard let admin else { return }
            let actor = Actor(userID: admin.id, name: admin.displayName, role: admin.role)
            if orderLines > 0 {
                let products = file + ".products.csv"
                try Self.writeProducts(path: products)
                let p = try await store.productImport.run(try CSVRowSource(path: products), by: actor)
                Self.figure("products s", p.seconds, "created \(p.created), unchanged \(p.unchanged)")
            }
            let options = CustomerImportOptions(matchOn: [.externalID, .email, .phone], batchSize: customerBatch)
            for pass in ordersOnly ? [] : once ? [1] : [1, 2] {
                let report = try await store.customerImport.run(try CSVRowSource(path: file), options: options, by: actor)
                Self.figure("import \(pass == 1 ? "" : "again ")s", report.seconds,
                            "created \(report.created), updated \(report.updated), unchanged \(report.unchanged), refused \(report.failed), "
                            + "organisations \(report.organisationsCreated), contacts \(report.contactsCreated)")
            }
            if orderLines > 0 {
                let report = try await store.orderImport.run(try CSVRowSource(path: ordersFile), options: OrderImportOptions(batchSize: orderBatch), by: actor)
                Self.figure("order import s", report.seconds,
                            "\(report.rows) lines, orders created \(report.created), unchanged \(report.unchanged), "
                            + "refused rows \(report.failed), summaries \(report.customersSummarised)")
                let clock = ContinuousClock.now
                let wrong = try await store.summaries.verify()
                Self.figure("summary check s", Self.seconds(ContinuousClock.now - clock), "\(wrong.count) customers' summaries differ from their orders")
            }
            if ordersOnly { return }
            let out = file + ".export.csv"
            FileManager.default.createFile(atPath: out, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            var clock = ContinuousClock.now
            let exported = try await store.customerExport.write(CustomerRepository.Query(), format: .csv, to: handle, by: actor)
            try handle.close()
            Self.figure("export s", Self.seconds(ContinuousClock.now - clock), "\(exported) customers to \(out)")
            clock = ContinuousClock.now
            let pairs = try await store.duplicates.scan(minScore: 0.5, by: actor)
            Self.figure("duplicate scan s", Self.seconds(ContinuousClock.now - clock), "\(pairs.count) candidate pairs")
        }
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

    static func figure(_ name: String, _ seconds: Double, _ note: String) {
        var peak = ""
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in status.split(separator: "\n") where line.hasPrefix("VmHWM") { peak = line.dropFirst(6).trimmingCharacters(in: .whitespaces) }
        }
        // Written at once (not through print's buffer), so a long benchmark shows each figure as it comes.
        let line = name.padding(toLength: 20, withPad: " ", startingAt: 0) + " " + String(format: "%7.1f", seconds) + "  peak RSS \(peak)  (\(note))\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    /// Persons (one in ten working for one of count/50 organisations, named alike), with
    /// e-mail, phone, tags, source, gender and birthday; reproducible.
    static func writeCustomers(path: String, count: Int) throws {
        let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈")
        let given = Array("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红建国文辉力鹏宇晨")
        let latin = ["James", "Mary", "John", "Linda", "David", "Emma", "Michael", "Sarah", "Daniel", "Laura"]
        let latinFamily = ["Smith", "Brown", "Wilson", "Taylor", "Clark", "Walker", "Young", "King", "Wright", "Green"]
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("cannot write \(path)")
        }
        defer { try? handle.close() }
        var rng = UInt64(42)
        func next() -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int(truncatingIfNeeded: rng >> 33) }
        var text = "external_id,name,email,phone,company,title,tags,source,gender,birthday\n"
        for i in 1...count {
            let name: String
            if next() % 10 == 0 {
                name = "\(latin[next() % latin.count]) \(latinFamily[next() % latinFamily.count])"
            } else {
                name = String(surnames[next() % surnames.count]) + String(given[next() % given.count]) + (next() % 2 == 0 ? String(given[next() % given.count]) : "")
            }
            let company = next() % 10 == 0 ? "公司\(next() % max(1, count / 50))" : ""
            let title = company.isEmpty ? "" : ["经理", "采购", "工程师", "总监"][next() % 4]
            let tags = ["", "VIP", "展会;2026", "老客户"][next() % 4]
            let gender = ["女", "男", ""][next() % 3]
            let birthday = next() % 3 == 0 ? String(format: "%04d-%02d-%02d", 1960 + next() % 45, 1 + next() % 12, 1 + next() % 28) : ""
            text += "EXT\(i),\(name),user\(i)@example.com,139\(String(format: "%08d", i)),\(company),\(title),\(tags),import,\(gender),\(birthday)\n"
            if text.utf8.count > 1 << 20 {
                handle.write(Data(text.utf8))
                text = ""
            }
        }
        handle.write(Data(text.utf8))
    }

    /// 1,000 products in 20 categories, priced 5–500 yuan, costing 40–80% of the price.
    static func writeProducts(path: String) throws {
        var text = "sku,name,category,list_price,unit_cost\n"
        for i in 1...1_000 {
            let price = 500 + (i * 7919) % 49_500
            text += "P\(i),商品\(i),类别\(i % 20),\(Money.decimalString(Int64(price), digits: 2)),\(Money.decimalString(Int64(price * (40 + i % 41) / 100), digits: 2))\n"
        }
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8)) else { throw ValidationError("cannot write \(path)") }
    }

    /// `lines` order lines in date order over three years, 1–5 lines per order, customers
    /// drawn at random from EXT1…EXTcustomers (as a shop's order export is); reproducible.
    static func writeOrderLines(path: String, lines: Int, customers: Int) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ValidationError("cannot write \(path)")
        }
        defer { try? handle.close() }
        var rng = UInt64(7)
        func next() -> Int { rng = rng &* 6364136223846793005 &+ 1442695040888963407; return Int(truncatingIfNeeded: rng >> 33) }
        let start = CalendarDate("2023-01-01")!.daysSinceEpoch
        let days = 3 * 365
        var text = "order_id,customer,order_date,sku,quantity,unit_price,discount,promotion,channel\n"
        var written = 0, order = 0
        while written < lines {
            order += 1
            let date = CalendarDate(daysSinceEpoch: start + order * days / max(1, lines / 3)).description
            let customer = 1 + next() % max(1, customers)
            let channel = ["store", "online", "phone"][next() % 3]
            for _ in 0..<min(1 + next() % 5, lines - written) {
                let sku = 1 + next() % 1_000
                let price = 500 + (sku * 7919) % 49_500
                let promoted = next() % 5 == 0
                let discount = promoted ? price / 10 : 0
                text += "O\(order),EXT\(customer),\(date),P\(sku),\(1 + next() % 3),\(Money.decimalString(Int64(price), digits: 2)),"
                    + "\(Money.decimalString(Int64(discount), digits: 2)),\(promoted ? "yes" : "no"),\(channel)\n"
                written += 1
            }
            if text.utf8.count > 1 << 20 {
                handle.write(Data(text.utf8))
                text = ""
            }
        }
        handle.write(Data(text.utf8))
    }
}
