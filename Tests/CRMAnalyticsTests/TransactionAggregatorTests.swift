import CRMCore
import Foundation
import Testing
import CRMAnalytics

func aggregate(_ text: String, parallelism: Int = 2) throws -> [CustomerTransactions] {
    var bytes = Array(text.utf8)
    return try bytes.withUnsafeMutableBytes { try TransactionAggregator.aggregate(bytes: UnsafeRawBufferPointer($0), options: .init(parallelism: parallelism)) }
}

func parseError(_ text: String) -> String? {
    do { _ = try aggregate(text); return nil } catch { return "\(error)" }
}

@Suite struct TransactionAggregatorTests {
    @Test func aggregatesPerCustomer() throws {
        let csv = """
        customer_id,order_date,amount,cost\r
        42,2024-01-05,12.34,10\r
        7,2024-03-01,-5,0.5\r
        42,2024-01-05,0.07,0.00\r
        42,2023-12-31,100.1,50.05\r
        acme-co,2024-02-29,1,0.99\r

        """
        let result = try aggregate(csv)

        #expect(result.map(\.id).suffix(2) == [7, 42])
        let c42 = try #require(result.first { $0.id == 42 })
        #expect(c42.orderCount == 3)                       // same-day rows are separate orders
        #expect(c42.revenueMinor == 1234 + 7 + 10010)
        #expect(c42.costMinor == Int64(1000 + 0 + 5005))
        #expect(c42.profitMinor == Int64(11251 - 6005))
        #expect(c42.firstDay == CalendarDate(year: 2023, month: 12, day: 31)!.daysSinceEpoch)
        #expect(c42.lastDay == CalendarDate(year: 2024, month: 1, day: 5)!.daysSinceEpoch)
        #expect(CalendarDate(daysSinceEpoch: c42.lastDay).description == "2024-01-05")
        let c7 = try #require(result.first { $0.id == 7 })
        #expect(c7.revenueMinor == -500 && c7.profitMinor == -550)
        let acme = try #require(result.first { $0.externalID == "acme-co" })
        #expect(acme.id < 0)
        #expect(acme.lastDay == CalendarDate(year: 2024, month: 2, day: 29)!.daysSinceEpoch)
    }

    @Test func withoutCostColumnProfitIsUnknown() throws {
        let result = try aggregate("customer_id,order_date,amount\n1,2024-01-01,3.5")
        #expect(result == [CustomerTransactions(id: 1, firstDay: CalendarDate(year: 2024, month: 1, day: 1)!.daysSinceEpoch, lastDay: CalendarDate(year: 2024, month: 1, day: 1)!.daysSinceEpoch, orderCount: 1, revenueMinor: 350, costMinor: nil)])
    }

    @Test func errorsNameLineAndColumn() {
        let header = "customer_id,order_date,amount\n"
        #expect(parseError(header + "1,2024-01-01,5\n2,2024-01-02,12x\n") == #"line 3, column amount: "12x" is not a number"#)
        #expect(parseError(header + "1,2024-02-30,5\n") == #"line 2, column order_date: "2024-02-30" is not a date YYYY-MM-DD"#)
        #expect(parseError(header + "1,2024-01-01,1.234\n") == #"line 2, column amount: "1.234" has more than 2 decimals"#)
        #expect(parseError(header + "1,2024-01-01,5,9\n") == #"line 2, column amount: "9" is followed by an extra column"#)
        #expect(parseError(header + ",2024-01-01,5\n")?.hasPrefix("line 2, column customer_id") == true)
        #expect(parseError("id,date,amount\n1,2024-01-01,5\n")?.hasPrefix("line 1, column header") == true)
        #expect(parseError("customer_id,order_date,amount,cost\n1,2024-01-01,5\n") == #"line 2, column cost: "" is missing"#)
    }

    @Test func errorLineIsAbsoluteInLaterChunks() {
        // Over 1 MiB so the second worker gets the bad line.
        var csv = "customer_id,order_date,amount\n"
        for i in 0..<60_000 { csv += "\(i),2024-01-01,1.00\n" }
        csv += "5,2024-13-01,1\n"
        #expect(parseError(csv) == #"line 60002, column order_date: "2024-13-01" is not a date YYYY-MM-DD"#)
    }

    @Test func parallelResultEqualsNaiveReference() throws {
        // Random file, > 1 MiB, with text ids and refunds; the reference splits Strings.
        var rng = SeededGenerator(seed: 7)
        var csv = "customer_id,order_date,amount,cost\n"
        for _ in 0..<40_000 {
            let k = rng.next() % 3000
            let id = k % 5 == 0 ? "c-\(k)" : "\(k)"
            let day = 1 + Int(rng.next() % 28), month = 1 + Int(rng.next() % 12)
            let amount = Int64(rng.next() % 100_000) - 5_000
            let cost = Int64(rng.next() % 5_000)
            func money(_ v: Int64) -> String { (v < 0 ? "-" : "") + "\(abs(v) / 100).\(String(format: "%02d", abs(v) % 100))" }
            csv += "\(id),2023-\(String(format: "%02d", month))-\(String(format: "%02d", day)),\(money(amount)),\(money(cost))\n"
        }
        var reference: [String: (first: String, last: String, n: Int, revenue: Int64, cost: Int64)] = [:]
        for line in csv.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",").map(String.init)
            func minor(_ s: String) -> Int64 {
                let negative = s.hasPrefix("-")
                let parts = s.drop { $0 == "-" }.split(separator: ".")
                let v = Int64(parts[0])! * 100 + Int64(parts[1])!
                return negative ? -v : v
            }
            var e = reference[f[0]] ?? (f[1], f[1], 0, 0, 0)
            e.first = min(e.first, f[1]); e.last = max(e.last, f[1])
            e.n += 1; e.revenue += minor(f[2]); e.cost += minor(f[3])
            reference[f[0]] = e
        }

        let parallel = try aggregate(csv, parallelism: 2)
        let single = try aggregate(csv, parallelism: 1)

        #expect(parallel == single)
        #expect(parallel.count == reference.count)
        #expect(parallel.map(\.id) == parallel.map(\.id).sorted())
        for c in parallel {
            let key = c.externalID ?? String(c.id)
            let e = try #require(reference[key])
            #expect(CalendarDate(daysSinceEpoch: c.firstDay).description == e.first)
            #expect(CalendarDate(daysSinceEpoch: c.lastDay).description == e.last)
            #expect(c.orderCount == e.n && c.revenueMinor == e.revenue && c.costMinor == e.cost)
        }
    }

    @Test func readsAFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("crm-analytics-\(UUID().uuidString).csv")
        try "customer_id,order_date,amount\n3,2024-01-01,2\n3,2024-01-09,1.5\n".write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }

        let result = try TransactionAggregator.aggregate(fileAtPath: url.path)

        #expect(result.count == 1)
        #expect(result[0].orderCount == 2 && result[0].revenueMinor == 350)
        #expect(result[0].lastDay - result[0].firstDay == 8)
    }

    @Test func dayNumbersMatchFoundationCalendar() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (1999, 12, 31), (2024, 3, 1), (1900, 3, 1)] {
            let date = calendar.date(from: DateComponents(year: y, month: m, day: d))!
            #expect(CalendarDate(year: y, month: m, day: d)!.daysSinceEpoch == Int(date.timeIntervalSince1970 / 86_400))
        }
    }
}

@Suite struct CLVTests {
    @Test func undiscountedCLVIsSpendTimesExpectedPurchases() throws {
        let bg = BGNBD(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426)
        let gg = GammaGamma(p: 6.25, q: 3.74, gamma: 15.44)
        let h = PurchaseHistory(repeatPurchases: 2, recency: 30.43, age: 38.86)
        let s = SpendHistory(repeatPurchases: 2, meanSpend: 22.35)

        let flat = try CustomerLifetimeValue.value(history: h, spend: s, purchases: bg, spendModel: gg,
                                                   settings: CLVSettings(horizonPeriods: 12, periodLength: 4, discountRatePerPeriod: 0, margin: 0.3))
        let discounted = try CustomerLifetimeValue.value(history: h, spend: s, purchases: bg, spendModel: gg,
                                                         settings: CLVSettings(horizonPeriods: 12, periodLength: 4, discountRatePerPeriod: 0.01, margin: 0.3))

        let expected = 0.3 * gg.conditionalExpectedSpend(s) * (try bg.conditionalExpectedPurchases(within: 48, given: h))
        #expect(relativeError(flat, expected) < 1e-12)
        #expect(discounted < flat && discounted > flat / 1.01 / 1.01 / 1.12)
    }
}
