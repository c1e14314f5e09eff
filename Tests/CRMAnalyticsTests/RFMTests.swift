import Testing
import CRMAnalytics

/// A straightforward NTILE(5) OVER (ORDER BY key ASC, id ASC): sort, then hand out rows to
/// buckets whose sizes are ⌊n/5⌋ + 1 for the first n mod 5 buckets and ⌊n/5⌋ for the rest.
func referenceNtile(_ keys: [Int64], ids: [Int64]) -> [Int] {
    let order = keys.indices.sorted { (keys[$0], ids[$0]) < (keys[$1], ids[$1]) }
    let n = keys.count
    var sizes = (0..<5).map { n / 5 + ($0 < n % 5 ? 1 : 0) }
    var result = [Int](repeating: 0, count: n)
    var bucket = 0
    for i in order {
        while sizes[bucket] == 0 { bucket += 1 }
        result[i] = bucket + 1
        sizes[bucket] -= 1
    }
    return result
}

@Suite struct RFMTests {
    @Test func ntileMatchesSQLBucketSizes() {
        // 7 rows → buckets of 2, 2, 1, 1, 1.
        #expect((0..<7).map { RFM.ntile(position: $0, count: 7) } == [1, 1, 2, 2, 3, 4, 5])
        // 3 rows → 1, 2, 3 (buckets 4 and 5 empty).
        #expect((0..<3).map { RFM.ntile(position: $0, count: 3) } == [1, 2, 3])
        #expect((0..<10).map { RFM.ntile(position: $0, count: 10) } == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    }

    @Test func mostRecentMostFrequentHighestSpendGetFive() {
        let inputs = (1...5).map { k in
            RFMInput(id: Int64(k), lastPurchaseDay: 100 + k, orderCount: k, monetaryMinor: Int64(k) * 1000)
        }
        let scores = RFM.score(inputs)
        #expect(scores.map(\.recency) == [1, 2, 3, 4, 5])
        #expect(scores.map(\.frequency) == [1, 2, 3, 4, 5])
        #expect(scores.map(\.monetary) == [1, 2, 3, 4, 5])
        #expect(scores[4].segment == .champions)
        #expect(scores[0].segment == .lost)
        #expect(scores[4].code == "555")
    }

    @Test func tiesSplitByCustomerIdLikeSQL() {
        // Ten customers with identical values: scores follow ids (1,1,2,2,…).
        let inputs = (1...10).reversed().map { RFMInput(id: Int64($0), lastPurchaseDay: 50, orderCount: 3, monetaryMinor: 700) }
        let scores = RFM.score(inputs)
        let byID = Dictionary(uniqueKeysWithValues: zip(inputs.map(\.id), scores))
        #expect((1...10).map { byID[Int64($0)]!.recency } == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        #expect((1...10).map { byID[Int64($0)]!.monetary } == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
    }

    @Test(arguments: [1, 2, 4, 5, 6, 13, 101, 1000, 60_001])
    func scoresMatchReferenceNtileOnRandomData(count: Int) {
        var rng = SeededGenerator(seed: UInt64(count))
        let inputs = (0..<count).map { _ in
            RFMInput(id: Int64(rng.next() % 1_000_000_007),  // mostly distinct ids
                     lastPurchaseDay: Int(rng.next() % 30),     // many ties
                     orderCount: Int(rng.next() % 6),
                     monetaryMinor: Int64(rng.next() % 2000) - 200)  // refunds too
        }
        let scores = RFM.score(inputs)
        let ids = inputs.map(\.id)
        #expect(scores.map(\.recency) == referenceNtile(inputs.map { Int64($0.lastPurchaseDay) }, ids: ids))
        #expect(scores.map(\.frequency) == referenceNtile(inputs.map { Int64($0.orderCount) }, ids: ids))
        #expect(scores.map(\.monetary) == referenceNtile(inputs.map(\.monetaryMinor), ids: ids))
    }

    @Test func segmentRules() {
        #expect(RFMSegment.classify(recency: 5, frequency: 5, monetary: 4) == .champions)
        #expect(RFMSegment.classify(recency: 5, frequency: 1, monetary: 1) == .new)
        #expect(RFMSegment.classify(recency: 4, frequency: 1, monetary: 1) == .promising)
        #expect(RFMSegment.classify(recency: 5, frequency: 2, monetary: 3) == .potentialLoyalists)
        #expect(RFMSegment.classify(recency: 3, frequency: 4, monetary: 4) == .loyal)
        #expect(RFMSegment.classify(recency: 3, frequency: 2, monetary: 2) == .needAttention)
        #expect(RFMSegment.classify(recency: 3, frequency: 1, monetary: 1) == .aboutToSleep)
        #expect(RFMSegment.classify(recency: 2, frequency: 5, monetary: 5) == .atRisk)
        #expect(RFMSegment.classify(recency: 1, frequency: 5, monetary: 4) == .cantLose)
        #expect(RFMSegment.classify(recency: 2, frequency: 1, monetary: 2) == .hibernating)
        #expect(RFMSegment.classify(recency: 1, frequency: 1, monetary: 2) == .lost)
        // Every segment is reachable and every score has one.
        var seen = Set<RFMSegment>()
        for r in 1...5 { for f in 1...5 { for m in 1...5 { seen.insert(RFMSegment.classify(recency: r, frequency: f, monetary: m)) } } }
        #expect(seen == Set(RFMSegment.allCases))
        #expect(RFMSegment.cantLose.rawValue == "cant_lose")
    }

    @Test func emptyAndSingleInput() {
        #expect(RFM.score([]).isEmpty)
        let one = RFM.score([RFMInput(id: 9, lastPurchaseDay: 1, orderCount: 1, monetaryMinor: 0)])
        #expect(one.map(\.code) == ["111"])
    }

    @Test func reportSummarisesTheBase() {
        // 10 customers, revenues 1000…100; customer 1 bought most recently.
        let customers = (1...10).map { k in
            CustomerTransactions(id: Int64(k), firstDay: 0, lastDay: 100 - k, orderCount: 11 - k,
                                 revenueMinor: Int64(11 - k) * 100, costMinor: Int64(11 - k) * 40)
        }
        let report = RFMReport(customers)

        #expect(report.summary.customerCount == 10)
        #expect(report.summary.asOfDay == 99)
        #expect(report.rows[0].recencyDays == 0)
        #expect(report.rows[0].score.code == "555")
        #expect(report.summary.revenueShareOfTop20Percent == 1900.0 / 5500.0)
        #expect(report.summary.customersFor80PercentOfRevenue == 6)
        #expect(report.summary.tierMeasure == .profit)
        #expect(report.summary.tiers.map(\.customers) == [1, 0, 1, 8])
        #expect(report.summary.segments.reduce(0) { $0 + $1.customers } == 10)
        #expect(report.summary.segments.first { $0.key == .champions }?.customers == 2)
        #expect(report.summary.profitMinor == Int64(5500 * 6 / 10))
    }
}
