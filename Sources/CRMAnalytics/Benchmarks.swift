import CRMCore
import Foundation

/// Benchmarks behind `crm bench analytics`: a BG/NBD fit on simulated customers and the RFM
/// pipeline (aggregate a transaction CSV, score, tier, summarise). Figures are seconds and the
/// recovered parameters, keyed by name.
public enum AnalyticsBenchmark {
    /// Runs the benchmarks.
    /// - customers: simulated customers for the BG/NBD fit (0 skips it);
    /// - transactionsFile: a CSV for the RFM pipeline (nil skips it; see `writeSyntheticTransactions`).
    public static func run(customers: Int = 1_000_000, transactionsFile: String? = nil, seed: UInt64 = 1) throws -> [String: Double] {
        var figures: [String: Double] = [:]
        if customers > 0 {
            let truth = BGNBD(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426)
            var clock = ContinuousClock.now
            let histories = BGNBDSimulation(model: truth, seed: seed).histories(count: customers)
            figures["bgnbd_simulate_seconds"] = seconds(since: clock)
            clock = ContinuousClock.now
            var options = ModelFitOptions()
            options.standardErrors = false
            let fit = try BGNBD.fit(histories, options: options)
            figures["bgnbd_fit_seconds"] = seconds(since: clock)
            figures["bgnbd_customers"] = Double(customers)
            figures["bgnbd_r"] = fit.model.r
            figures["bgnbd_alpha"] = fit.model.alpha
            figures["bgnbd_a"] = fit.model.a
            figures["bgnbd_b"] = fit.model.b
            figures["bgnbd_log_likelihood"] = fit.logLikelihood
            figures["bgnbd_evaluations"] = Double(fit.evaluations)
        }
        if let path = transactionsFile {
            let clock = ContinuousClock.now
            let aggregated = try TransactionAggregator.aggregate(fileAtPath: path)
            figures["rfm_aggregate_seconds"] = seconds(since: clock)
            let report = RFMReport(aggregated)
            figures["rfm_total_seconds"] = seconds(since: clock)
            figures["rfm_customers"] = Double(report.summary.customerCount)
            figures["rfm_rows"] = Double(report.summary.orderCount)
            figures["rfm_revenue_share_top20"] = report.summary.revenueShareOfTop20Percent ?? .nan
        }
        return figures
    }

    /// Writes a synthetic `customer_id,order_date,amount,cost` file: `rows` orders of
    /// `customers` customers over 2023–2024 (about 31 bytes a row: 10M rows ≈ 310 MB).
    public static func writeSyntheticTransactions(path: String, rows: Int, customers: Int, seed: UInt64 = 1) throws {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteUnknown) }
        defer { try? handle.close() }
        var rng = SeededGenerator(seed: seed)
        let start = CalendarDate(year: 2023, month: 1, day: 1)!.daysSinceEpoch
        var buffer = [UInt8]()
        buffer.reserveCapacity(1 << 22)
        buffer.append(contentsOf: Array("customer_id,order_date,amount,cost\n".utf8))
        func appendNumber(_ v: Int) {
            var digits: [UInt8] = []
            var x = v
            repeat { digits.append(UInt8(48 + x % 10)); x /= 10 } while x > 0
            buffer.append(contentsOf: digits.reversed())
        }
        func appendMoney(_ minor: Int) {
            appendNumber(minor / 100)
            buffer.append(UInt8(ascii: "."))
            buffer.append(UInt8(48 + (minor / 10) % 10))
            buffer.append(UInt8(48 + minor % 10))
        }
        let dayText = (0..<731).map { Array(CalendarDate(daysSinceEpoch: start + $0).description.utf8) }
        for _ in 0..<rows {
            // Skewed customers (square of a uniform) so the Pareto view is not flat.
            let u = rng.uniform()
            appendNumber(100_000 + Int(u * u * Double(customers)))
            buffer.append(UInt8(ascii: ","))
            buffer.append(contentsOf: dayText[Int(rng.next() % 731)])
            buffer.append(UInt8(ascii: ","))
            let amount = 100 + Int(rng.next() % 99_900)
            appendMoney(amount)
            buffer.append(UInt8(ascii: ","))
            appendMoney(amount * Int(40 + rng.next() % 50) / 100)
            buffer.append(UInt8(ascii: "\n"))
            if buffer.count > (1 << 22) - 128 {
                handle.write(Data(buffer))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        handle.write(Data(buffer))
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
