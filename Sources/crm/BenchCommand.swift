import ArgumentParser
import CRMAnalytics
import Foundation

/// `crm bench …`: benchmarks that print figures (speed targets are met here, never in
/// timed unit tests). The server's HTTP benchmark is `scripts/bench-api.sh`, since it
/// needs wrk and a running server.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmarks that print figures.",
        subcommands: [AnalyticsBench.self])
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
