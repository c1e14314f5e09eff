import ArgumentParser
import CRMAnalytics
import CRMCore
import CRMServer
import Foundation

/// `crm analytics …`: the analytics engine on files exported from any system, without
/// importing them. Results go to a CSV file; a JSON summary goes to stdout.
struct AnalyticsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "analytics",
        abstract: "Customer-base models, RFM and tiers on CSV files (no database needed).",
        subcommands: [Refresh.self, FitModel.self, RFMCommand.self])
}

/// `crm analytics refresh`: the server's analysis, run now against the database.
struct Refresh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Analyse the customer base in the database now and store every customer's results.",
        discussion: "The server also does this on a schedule (refreshIntervalMinutes in the analytics settings).")
    @OptionGroup var options: DatabaseOptions

    @Option(help: "The day the analysis stands on (YYYY-MM-DD; default today, UTC).")
    var asOf: String?

    func run() async throws {
        let settings = try await Settings(options: options)
        let logger = settings.logger()
        var day = CalendarDate(utc: Date())
        if let asOf {
            guard let d = CalendarDate(asOf) else { throw ValidationError("--as-of: \"\(asOf)\" is not a date like 2026-06-30") }
            day = d
        }
        let asOfDay = day
        let (run, timing) = try await withStore(settings.database, logger: logger) { store in
            try await CustomerBaseRefresh(store: store, logger: logger).run(asOf: asOfDay, by: nil)
        }
        let d = run.dashboard
        print(String(format: "Analysed %d customers (%d buyers) as of %@ in %.2f s: read %.2f s, compute %.2f s, write %.2f s.",
                     run.customers, d.buyers, d.asOf, run.seconds, timing.readSeconds, timing.computeSeconds, timing.writeSeconds))
        print("Tiers: " + d.tiers.map { "\($0.tier) \($0.customers)" }.joined(separator: ", "))
        if let m = d.repeatModel {
            print("\(m.model): " + m.parameters.sorted { $0.key < $1.key }.map { String(format: "%@ %.4f", $0.key, $0.value) }.joined(separator: ", ")
                  + String(format: ", log-likelihood %.1f", m.logLikelihood))
        }
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in status.split(separator: "\n") where line.hasPrefix("VmHWM") { print("Peak resident memory: " + line.dropFirst(6).trimmingCharacters(in: .whitespaces)) }
        }
    }
}

/// A CSV of numbers with a header, read whole (summary files are one row per customer, so
/// small), with errors that name the line and the column.
struct NumericTable {
    var header: [String]
    var ids: [String]
    var columns: [[Double]]
    var lines: [Int]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Reads `path`, keeping the id column as text and the `wanted` columns (first alias
    /// found wins) as numbers.
    init(path: String, id: [String], wanted: [[String]], optional: Set<Int> = []) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw Failure(description: "\(path): cannot read the file") }
        var text = String(decoding: data, as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var rows = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).makeIterator()
        guard let first = rows.next() else { throw Failure(description: "\(path): the file is empty") }
        let header = first.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        self.header = header
        func index(_ names: [String]) -> Int? { names.lazy.compactMap { header.firstIndex(of: $0.lowercased()) }.first }
        guard let idIndex = index(id) else {
            throw Failure(description: "\(path): line 1: no \(id[0]) column (the header is \(header.joined(separator: ",")))")
        }
        var indices: [Int?] = []
        for (k, names) in wanted.enumerated() {
            let found = index(names)
            if found == nil && !optional.contains(k) {
                throw Failure(description: "\(path): line 1: no \(names[0]) column (the header is \(header.joined(separator: ",")))")
            }
            indices.append(found)
        }
        var columns: [[Double]] = Array(repeating: [], count: wanted.count)
        var ids: [String] = [], lines: [Int] = []
        var line = 1
        while let row = rows.next() {
            line += 1
            if row.allSatisfy(\.isWhitespace) { continue }
            let fields = row.split(separator: ",", omittingEmptySubsequences: false)
            guard fields.count == header.count else {
                throw Failure(description: "\(path): line \(line): \(fields.count) fields where the header has \(header.count)")
            }
            ids.append(fields[idIndex].trimmingCharacters(in: .whitespaces))
            for (k, i) in indices.enumerated() {
                guard let i else { columns[k].append(.nan); continue }
                let raw = fields[i].trimmingCharacters(in: .whitespaces)
                guard let v = Double(raw), v.isFinite else {
                    throw Failure(description: "\(path): line \(line), column \(header[i]): \"\(raw)\" is not a number")
                }
                columns[k].append(v)
            }
            lines.append(line)
        }
        self.ids = ids
        self.columns = columns
        self.lines = lines
    }
}

/// Writes CSV rows through a buffer.
struct CSVWriter {
    let handle: FileHandle
    var buffer = Data()

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw NumericTable.Failure(description: "\(path): cannot write the file")
        }
        handle = h
    }

    mutating func row(_ fields: [String]) {
        buffer.append(contentsOf: Array((fields.joined(separator: ",") + "\n").utf8))
        if buffer.count > 1 << 20 { flush() }
    }

    mutating func flush() {
        handle.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func close() {
        flush()
        try? handle.close()
    }
}

func printJSON(_ value: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}

func rounded(_ x: Double, _ digits: Int = 6) -> Double {
    guard x.isFinite else { return x }
    let scale = Foundation.pow(10, Double(digits))
    return (x * scale).rounded() / scale
}


struct FitModel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fit",
        abstract: "Fit BG/NBD, Pareto/NBD or Gamma-Gamma by maximum likelihood and predict per customer.",
        discussion: """
            bgnbd and paretonbd read --summary with columns id,frequency,recency,T (repeat purchases, \
            time of the last purchase since the first, age; one time unit throughout, e.g. weeks). \
            gammagamma reads id,frequency,monetary (mean spend of the repeat purchases). The CDNOW \
            names x, t_x and zbar are accepted too. With --predict T and --out FILE, each customer's \
            expected purchases in the next T and P(alive) are written; when the file also has a \
            monetary column, Gamma-Gamma is fitted as well and the expected spend and CLV are added.
            """)

    enum Model: String, ExpressibleByArgument, CaseIterable {
        case bgnbd, paretonbd, gammagamma
    }

    @Option(help: "bgnbd, paretonbd or gammagamma.") var model: Model
    @Option(help: "The per-customer summary CSV.") var summary: String
    @Option(help: "L2 penalty on the parameters (0 = plain maximum likelihood).") var penalty = 0.0
    @Option(help: "Predict over this many time units (needs --out).") var predict: Double?
    @Option(help: "Where to write the per-customer predictions (CSV).") var out: String?
    @Option(help: "CLV: number of periods of length --period.") var horizon = 12
    @Option(help: "CLV: period length in the file's time unit (4.345 for months in weeks).") var period = 4.345
    @Option(help: "CLV: discount rate per period.") var discountRate = 0.01
    @Option(help: "CLV: profit margin applied to spend.") var margin = 1.0

    func validate() throws {
        if (predict == nil) != (out == nil) { throw ValidationError("--predict and --out go together") }
        if let predict, !(predict > 0) { throw ValidationError("--predict must be a positive time") }
    }

    func run() async throws {
        let options = ModelFitOptions(penalty: penalty)
        switch model {
        case .gammagamma:
            let table = try NumericTable(path: summary, id: ["id", "customer_id"], wanted: [["frequency", "x"], ["monetary", "zbar", "monetary_value"]])
            let spend = try spendHistories(table, frequency: 0, monetary: 1)
            let fit = try GammaGamma.fit(spend.filter { $0.repeatPurchases > 0 }, options: options)
            try printJSON(["model": "gammagamma", "customers": fit.customersUsed, "logLikelihood": rounded(fit.logLikelihood),
                           "parameters": ["p": rounded(fit.model.p), "q": rounded(fit.model.q), "gamma": rounded(fit.model.gamma)],
                           "standardErrors": errors(["p", "q", "gamma"], fit.standardErrors),
                           "iterations": fit.iterations, "converged": fit.converged])
            if let out {
                var w = try CSVWriter(path: out)
                w.row(["id", "expected_spend"])
                for (i, s) in spend.enumerated() { w.row([table.ids[i], String(fit.model.conditionalExpectedSpend(s))]) }
                w.close()
            }
        case .bgnbd, .paretonbd:
            let table = try NumericTable(path: summary, id: ["id", "customer_id"],
                                         wanted: [["frequency", "x"], ["recency", "t_x"], ["t", "age"], ["monetary", "zbar", "monetary_value"]],
                                         optional: [3])
            var histories: [PurchaseHistory] = []
            histories.reserveCapacity(table.ids.count)
            for i in table.ids.indices {
                let x = table.columns[0][i], tx = table.columns[1][i], t = table.columns[2][i]
                guard x >= 0, x == x.rounded(.down) else {
                    throw NumericTable.Failure(description: "\(summary): line \(table.lines[i]), column frequency: \(x) is not a whole number ≥ 0")
                }
                guard tx >= 0, t >= tx, x > 0 || tx == 0 else {
                    throw NumericTable.Failure(description: "\(summary): line \(table.lines[i]), column recency: \(tx) must be 0 with no repeat purchases and between 0 and T (\(t))")
                }
                histories.append(PurchaseHistory(repeatPurchases: Int(x), recency: tx, age: t))
            }
            let purchases: any RepeatPurchaseModel
            var json: [String: Any] = ["model": model.rawValue, "customers": histories.count]
            func report(_ names: [String], _ values: [Double], _ standardErrors: [Double?], _ logLikelihood: Double, _ iterations: Int, _ converged: Bool) {
                json["parameters"] = Dictionary(uniqueKeysWithValues: zip(names, values.map { rounded($0) }))
                json["standardErrors"] = errors(names, standardErrors)
                json["logLikelihood"] = rounded(logLikelihood)
                json["iterations"] = iterations
                json["converged"] = converged
            }
            if model == .bgnbd {
                let fit = try BGNBD.fit(histories, options: options)
                purchases = fit.model
                report(["r", "alpha", "a", "b"], [fit.model.r, fit.model.alpha, fit.model.a, fit.model.b], fit.standardErrors,
                       fit.logLikelihood, fit.iterations, fit.converged)
            } else {
                let fit = try ParetoNBD.fit(histories, options: options)
                purchases = fit.model
                report(["r", "alpha", "s", "beta"], [fit.model.r, fit.model.alpha, fit.model.s, fit.model.beta], fit.standardErrors,
                       fit.logLikelihood, fit.iterations, fit.converged)
            }
            let hasMonetary = table.columns[3].contains { !$0.isNaN }
            var spendFit: GammaGamma.Fit?
            var spend: [SpendHistory] = []
            if hasMonetary {
                spend = try spendHistories(table, frequency: 0, monetary: 3)
                let fit = try GammaGamma.fit(spend.filter { $0.repeatPurchases > 0 }, options: options)
                spendFit = fit
                json["gammaGamma"] = ["p": rounded(fit.model.p), "q": rounded(fit.model.q), "gamma": rounded(fit.model.gamma),
                                      "logLikelihood": rounded(fit.logLikelihood)]
            }
            if let predict, let out {
                var w = try CSVWriter(path: out)
                w.row(["id", "expected_purchases", "p_alive"] + (spendFit == nil ? [] : ["expected_spend", "clv"]))
                let settings = CLVSettings(horizonPeriods: horizon, periodLength: period, discountRatePerPeriod: discountRate, margin: margin)
                for (i, h) in histories.enumerated() {
                    var fields = [table.ids[i], String(try purchases.conditionalExpectedPurchases(within: predict, given: h)),
                                  String(try purchases.probabilityAlive(h))]
                    if let spendFit {
                        fields.append(String(spendFit.model.conditionalExpectedSpend(spend[i])))
                        fields.append(String(try CustomerLifetimeValue.value(history: h, spend: spend[i], purchases: purchases,
                                                                            spendModel: spendFit.model, settings: settings)))
                    }
                    w.row(fields)
                }
                w.close()
                json["predictions"] = ["file": out, "horizon": predict]
            }
            try printJSON(json)
        }
    }

    func spendHistories(_ table: NumericTable, frequency: Int, monetary: Int) throws -> [SpendHistory] {
        try table.ids.indices.map { i in
            let x = table.columns[frequency][i], m = table.columns[monetary][i]
            guard x >= 0, x == x.rounded(.down) else {
                throw NumericTable.Failure(description: "\(summary): line \(table.lines[i]), column frequency: \(x) is not a whole number ≥ 0")
            }
            guard x == 0 || m > 0 else {
                throw NumericTable.Failure(description: "\(summary): line \(table.lines[i]), column monetary: \(m) must be positive for a repeat buyer")
            }
            return SpendHistory(repeatPurchases: Int(x), meanSpend: x == 0 ? 0 : m)
        }
    }

    func errors(_ names: [String], _ values: [Double?]) -> [String: Any] {
        Dictionary(uniqueKeysWithValues: zip(names, values).map { ($0, $1.map { rounded($0) } as Any? ?? NSNull()) })
    }
}

struct RFMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rfm",
        abstract: "RFM scores, segments and value tiers from a transactions CSV.",
        discussion: """
            Reads customer_id,order_date,amount[,cost] (a header line first; dates YYYY-MM-DD; amounts \
            like 12.34), one order per row. Writes one row per customer to --out and a JSON summary to \
            stdout: customers, revenue share of the top 20%, customers making 80% of revenue, and the \
            count in each segment and tier. Scores are SQL NTILE(5) with the customer id breaking ties; \
            5 is the most recent, the most frequent, the highest spend.
            """)

    @Option(help: "The transactions CSV.") var transactions: String
    @Option(help: "The day recency is measured from (YYYY-MM-DD; default: the last order day in the file).") var asOf: String?
    @Option(help: "Where to write the per-customer rows (CSV).") var out: String?
    @Option(help: "Rank tiers by profit (needs a cost column) or revenue.") var measure: ValueMeasure = .profit
    @Option(help: "Digits after the decimal point in amounts.") var minorDigits = 2

    func run() async throws {
        var asOfDay: Int?
        if let asOf {
            guard let date = CalendarDate(asOf) else { throw ValidationError("--as-of: \"\(asOf)\" is not a date like 2026-06-30") }
            asOfDay = date.daysSinceEpoch
        }
        let customers: [CustomerTransactions]
        do {
            customers = try TransactionAggregator.aggregate(fileAtPath: transactions, options: .init(minorDigits: minorDigits))
        } catch let error as TransactionParseError {
            throw NumericTable.Failure(description: "\(transactions): \(error)")
        }
        let report = RFMReport(customers, asOfDay: asOfDay, pyramid: PyramidSettings(measure: measure))
        if let out {
            var w = try CSVWriter(path: out)
            w.row(["customer_id", "recency_days", "frequency", "monetary", "profit", "r", "f", "m", "rfm", "segment", "tier"])
            for row in report.rows {
                w.row([row.externalID ?? String(row.id), String(row.recencyDays), String(row.orderCount), minor(row.revenueMinor),
                       row.profitMinor.map(minor) ?? "", String(row.score.recency), String(row.score.frequency), String(row.score.monetary),
                       row.score.code, row.score.segment.rawValue, row.tier.rawValue])
            }
            w.close()
        }
        let s = report.summary
        var json: [String: Any] = [
            "customers": s.customerCount, "orders": s.orderCount, "revenue": minor(s.revenueMinor),
            "asOf": CalendarDate(daysSinceEpoch: s.asOfDay).description, "tierMeasure": s.tierMeasure.rawValue,
            "revenueShareOfTop20Percent": s.revenueShareOfTop20Percent.map { rounded($0) } as Any? ?? NSNull(),
            "customersFor80PercentOfRevenue": s.customersFor80PercentOfRevenue as Any? ?? NSNull(),
            "segments": Dictionary(uniqueKeysWithValues: s.segments.map { ($0.key.rawValue, $0.customers) }),
            "tiers": Dictionary(uniqueKeysWithValues: s.tiers.map { ($0.key.rawValue, $0.customers) }),
        ]
        if let p = s.profitMinor { json["profit"] = minor(p) }
        if let out { json["file"] = out }
        try printJSON(json)
    }

    func minor(_ v: Int64) -> String {
        guard minorDigits > 0 else { return String(v) }
        let scale = Int64(Foundation.pow(10, Double(minorDigits)))
        let sign = v < 0 ? "-" : ""
        let a = v.magnitude
        let frac = String(a % UInt64(scale))
        return "\(sign)\(a / UInt64(scale)).\(String(repeating: "0", count: minorDigits - frac.count))\(frac)"
    }
}

extension ValueMeasure: ExpressibleByArgument {}

struct Staffing: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call-centre agents needed, by Erlang C, for a call volume or a day's forecast.",
        discussion: """
            --forecast reads a CSV with columns start,calls[,aht][,minutes]: the interval's start \
            (any label, e.g. 09:00), the calls expected in it, the mean handle time in seconds \
            (default --aht) and the interval length (default 30 minutes).
            """)

    @Option(help: "Calls arriving per hour.") var callsPerHour: Double?
    @Option(help: "Mean handle time in seconds (talk plus after-call work).") var aht: Double?
    @Option(help: "Share of calls to answer within --within seconds.") var target = 0.8
    @Option(help: "Seconds within which --target of calls are answered.") var within = 20.0
    @Option(help: "Share of paid time agents are not on the phones (breaks, training).") var shrinkage = 0.0
    @Option(help: "Highest acceptable occupancy.") var maxOccupancy = 1.0
    @Option(help: "A day's forecast by interval (CSV).") var forecast: String?

    func validate() throws {
        guard (0.0..<1.0).contains(target), target > 0 else { throw ValidationError("--target must be between 0 and 1, e.g. 0.8") }
        guard within >= 0 else { throw ValidationError("--within must be ≥ 0 seconds") }
        guard (0.0...0.95).contains(shrinkage) else { throw ValidationError("--shrinkage must be 0 to 0.95") }
        guard (0.5...1.0).contains(maxOccupancy) else { throw ValidationError("--max-occupancy must be 0.5 to 1") }
        if forecast == nil {
            guard let c = callsPerHour, c >= 0 else { throw ValidationError("give --calls-per-hour (≥ 0) or --forecast FILE") }
            guard let a = aht, a > 0 else { throw ValidationError("--aht must be a positive number of seconds") }
        }
    }

    func run() async throws {
        let settings = ErlangC.Settings(target: .init(fraction: target, seconds: within), shrinkage: shrinkage, maxOccupancy: maxOccupancy)
        func json(_ s: ErlangC.Staffing) -> [String: Any] {
            ["agents": s.agents, "scheduledAgents": s.scheduledAgents, "trafficErlangs": rounded(s.performance.trafficErlangs, 4),
             "serviceLevel": rounded(s.performance.serviceLevel, 4), "averageSpeedOfAnswerSeconds": rounded(s.performance.averageSpeedOfAnswer, 2),
             "occupancy": rounded(s.performance.occupancy, 4), "probabilityOfWaiting": rounded(s.performance.probabilityOfWaiting, 4)]
        }
        if let forecast {
            let table = try NumericTable(path: forecast, id: ["start", "interval"], wanted: [["calls"], ["aht", "handle_seconds"], ["minutes", "interval_minutes"]],
                                         optional: [1, 2])
            var intervals: [ErlangC.IntervalForecast] = []
            for i in table.ids.indices {
                let handle = table.columns[1][i].isNaN ? aht : table.columns[1][i]
                guard let handle, handle > 0 else {
                    throw NumericTable.Failure(description: "\(forecast): line \(table.lines[i]), column aht: give a positive handle time here or --aht")
                }
                let minutes = table.columns[2][i].isNaN ? 30 : table.columns[2][i]
                guard table.columns[0][i] >= 0, minutes > 0 else {
                    throw NumericTable.Failure(description: "\(forecast): line \(table.lines[i]): calls must be ≥ 0 and minutes > 0")
                }
                intervals.append(.init(start: table.ids[i], calls: table.columns[0][i], intervalSeconds: minutes * 60, handleSeconds: handle))
            }
            let day = ErlangC.staffDay(intervals, settings: settings)
            try printJSON(["intervals": day.map { ["start": $0.interval.start, "calls": $0.interval.calls].merging(json($0.staffing)) { a, _ in a } },
                           "peakScheduledAgents": day.map(\.staffing.scheduledAgents).max() ?? 0])
        } else {
            try printJSON(json(ErlangC.staff(callsPerHour: callsPerHour!, handleSeconds: aht!, settings: settings)))
        }
    }
}
