import Testing
import CRMAnalytics

func makeCustomers(profits: [Int64], revenues: [Int64]? = nil) -> [CustomerValueInput] {
    profits.enumerated().map { i, p in
        CustomerValueInput(id: Int64(i + 1), revenueMinor: revenues?[i] ?? p * 3, profitMinor: p)
    }
}

func counts(_ p: ValuePyramid) -> [Int] { p.summaries.map(\.count) }

@Suite struct ValuePyramidTests {
    @Test func hundredCustomersSplitOneFourFifteenEighty() {
        let customers = makeCustomers(profits: (1...100).map { Int64($0) * 100 })

        let pyramid = ValuePyramid(customers)

        #expect(counts(pyramid) == [1, 4, 15, 80])
        // The best customer (id 100, profit 10000) is platinum; ids 96…99 gold.
        #expect(pyramid.tierByID[100] == .platinum)
        #expect((96...99).allSatisfy { pyramid.tierByID[Int64($0)] == .gold })
        #expect(pyramid.tierByID[80] == .lead)
        #expect(pyramid.tierByID[81] == .iron)
    }

    @Test func countsRoundUpCumulatively() {
        // 250 customers: ⌈2.5⌉ = 3 platinum, ⌈12.5⌉ − 3 = 10 gold, ⌈50⌉ − 13 = 37 iron, 200 lead.
        let pyramid = ValuePyramid(makeCustomers(profits: (1...250).map { Int64($0) }))
        #expect(counts(pyramid) == [3, 10, 37, 200])
        // 7 customers: ⌈0.07⌉ = 1, ⌈0.35⌉ − 1 = 0, ⌈1.4⌉ − 1 = 1, 5 lead.
        #expect(counts(ValuePyramid(makeCustomers(profits: [7, 6, 5, 4, 3, 2, 1]))) == [1, 0, 1, 5])
    }

    @Test func tiesAreBrokenByIdAscending() {
        // All equal: ranks follow ids.
        let customers = makeCustomers(profits: Array(repeating: 500, count: 20))
        let pyramid = ValuePyramid(customers)
        #expect(pyramid.assignments.map(\.id) == (1...20).map { Int64($0) })
        #expect(pyramid.tierByID[1] == .platinum)
        #expect(pyramid.tierByID[2] == .iron)   // ⌈1⌉ = 1 gold cut → gold empty; ⌈4⌉ → ids 2…4 iron
        #expect(counts(pyramid) == [1, 0, 3, 16])
        // Shuffled input gives the same assignment.
        let shuffled = ValuePyramid(customers.reversed())
        #expect(shuffled.assignments == pyramid.assignments)
    }

    @Test func unprofitableCustomersAreAlwaysLead() {
        let customers = makeCustomers(profits: [-50, 0, -10])
        let pyramid = ValuePyramid(customers)
        #expect(counts(pyramid) == [0, 0, 0, 3])
        #expect(pyramid.summaries[3].profitMinor == -60)
        #expect(pyramid.summaries[3].profitShare == nil)   // total profit ≤ 0
    }

    @Test func singleCustomerAndEmptyBase() {
        #expect(counts(ValuePyramid(makeCustomers(profits: [1]))) == [1, 0, 0, 0])
        let empty = ValuePyramid([])
        #expect(counts(empty) == [0, 0, 0, 0])
        #expect(empty.summaries.allSatisfy { $0.revenueShare == nil && $0.revenueMinor == 0 })
    }

    @Test func summarySharesAddUp() {
        let customers = makeCustomers(profits: (1...1000).map { Int64(($0 * 7919) % 1000) - 100 })
        let pyramid = ValuePyramid(customers)
        let totalProfit = customers.reduce(0) { $0 + $1.profitMinor }
        #expect(pyramid.summaries.reduce(0) { $0 + $1.profitMinor } == totalProfit)
        let share = pyramid.summaries.compactMap(\.profitShare).reduce(0, +)
        #expect(Swift.abs(share - 1) < 1e-12)
        #expect(pyramid.summaries.reduce(0) { $0 + $1.count } == 1000)
    }

    @Test func rankingByRevenueIsASetting() {
        // Customer 1: high revenue, low profit; customer 2 the reverse.
        let customers = [CustomerValueInput(id: 1, revenueMinor: 10_000, profitMinor: 10),
                         CustomerValueInput(id: 2, revenueMinor: 100, profitMinor: 90)]
        #expect(ValuePyramid(customers).tierByID[2] == .platinum)
        #expect(ValuePyramid(customers, settings: PyramidSettings(measure: .revenue)).tierByID[1] == .platinum)
    }

    @Test func absoluteThresholdsAndCustomShares() {
        let customers = makeCustomers(profits: [100_000, 50_000, 10_000, 9_999, 0])
        let byThreshold = ValuePyramid(customers, settings: PyramidSettings(cutoffs: .thresholds(platinumMinor: 100_000, goldMinor: 50_000, ironMinor: 10_000)))
        #expect(customers.map { byThreshold.tierByID[$0.id]! } == [.platinum, .gold, .iron, .lead, .lead])
        let byShares = ValuePyramid(customers, settings: PyramidSettings(cutoffs: .shares(platinum: 0.2, gold: 0.2, iron: 0.2)))
        #expect(counts(byShares) == [1, 1, 1, 2])
    }

    @Test func threeLevelVariantGroupsTiers() {
        let pyramid = ValuePyramid(makeCustomers(profits: (1...100).map { Int64($0) }))
        let three = pyramid.threeLevelSummaries
        #expect(three.map(\.tier) == [.key, .ordinary, .small])
        #expect(three.map(\.count) == [5, 15, 80])
        #expect(CustomerTier.gold.threeLevel == .key)
    }
}

@Suite struct ParetoCurveTests {
    @Test func topTwentyPercentAndCustomersForEightyPercent() {
        // Revenues 100, 90, …, 10 (total 550), given in scrambled order.
        let revenues: [Int64] = [30, 100, 10, 80, 50, 90, 20, 70, 40, 60]
        let customers = revenues.enumerated().map { CustomerValueInput(id: Int64($0.offset + 1), revenueMinor: $0.element, profitMinor: $0.element / 10) }

        let curve = ParetoCurve(customers)

        #expect(curve.share(ofTopPercent: 20) == 190.0 / 550.0)
        // 100+90+80+70+60 = 400 < 440 ≤ 450 = +50 → 6 customers.
        #expect(curve.customersNeeded(forShare: 0.8) == 6)
        #expect(curve.points.count == 100)
        #expect(curve.points[9].customers == 1)             // top 10% of 10
        #expect(curve.points[9].revenueShare == 100.0 / 550.0)
        #expect(curve.points[99].revenueShare == 1)
        #expect(curve.points[19].profitShare == 19.0 / 55.0)
    }

    @Test func exactBoundaryAndRefunds() {
        // 80 exactly reached by the first customer; a refund makes one customer negative.
        let customers = [CustomerValueInput(id: 1, revenueMinor: 80, profitMinor: 8),
                         CustomerValueInput(id: 2, revenueMinor: 30, profitMinor: 3),
                         CustomerValueInput(id: 3, revenueMinor: -10, profitMinor: -20)]
        let curve = ParetoCurve(customers)
        #expect(curve.customersNeeded(forShare: 0.8) == 1)
        #expect(curve.customersNeeded(forShare: 1.0) == 2)  // 110 ≥ 100 before the refund
        #expect(curve.share(ofTopPercent: 100) == 1)
        #expect(curve.share(ofTopPercent: 100, of: .profit) == nil)   // total profit 8 + 3 − 20 < 0
    }

    @Test func noRevenueGivesNoShares() {
        let curve = ParetoCurve([CustomerValueInput(id: 1, revenueMinor: 0, profitMinor: 0)])
        #expect(curve.share(ofTopPercent: 20) == nil)
        #expect(curve.customersNeeded(forShare: 0.8) == nil)
        #expect(ParetoCurve([]).share(ofTopPercent: 20) == nil)
    }
}
