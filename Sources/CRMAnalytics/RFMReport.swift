/// The `crm analytics rfm` report: per-customer RFM scores, segment and pyramid tier, plus a
/// summary of the base.
public struct RFMReport: Sendable, Equatable {
    /// One customer's line.
    public struct Row: Sendable, Hashable {
        public var id: Int64
        public var externalID: String?
        /// Days from the last order to the report day.
        public var recencyDays: Int
        public var orderCount: Int
        public var revenueMinor: Int64
        public var profitMinor: Int64?
        public var score: RFMScore
        public var tier: CustomerTier
    }

    /// A count per segment or tier, in the enum's declaration order.
    public struct Count<Key: Sendable & Hashable>: Sendable, Hashable {
        public var key: Key
        public var customers: Int
    }

    public struct Summary: Sendable, Hashable {
        public var customerCount: Int
        public var orderCount: Int
        public var revenueMinor: Int64
        public var profitMinor: Int64?
        /// The day recency is measured from (days since 1970-01-01).
        public var asOfDay: Int
        /// What the pyramid ranked by (profit when every customer has a cost, else revenue).
        public var tierMeasure: ValueMeasure
        /// Revenue share of the top 20% of customers by revenue (nil when revenue ≤ 0).
        public var revenueShareOfTop20Percent: Double?
        /// Fewest customers (by revenue, descending) making 80% of revenue.
        public var customersFor80PercentOfRevenue: Int?
        public var segments: [Count<RFMSegment>]
        public var tiers: [Count<CustomerTier>]
    }

    /// Rows in the input order (the aggregator's: id ascending).
    public var rows: [Row]
    public var summary: Summary

    /// Builds the report. `asOfDay` defaults to the latest order day in the data (so the most
    /// recent buyer has recency 0). The pyramid uses `pyramid.measure` when every customer has a
    /// cost; without a cost column it falls back to revenue.
    public init(_ customers: [CustomerTransactions], asOfDay: Int? = nil, pyramid: PyramidSettings = PyramidSettings()) {
        let today = asOfDay ?? (customers.map(\.lastDay).max() ?? 0)
        let scores = RFM.score(customers.map {
            RFMInput(id: $0.id, lastPurchaseDay: $0.lastDay, orderCount: $0.orderCount, monetaryMinor: $0.revenueMinor)
        })
        let hasProfit = customers.allSatisfy { $0.costMinor != nil }
        var settings = pyramid
        if !hasProfit { settings.measure = .revenue }
        let values = customers.map { CustomerValueInput(id: $0.id, revenueMinor: $0.revenueMinor, profitMinor: $0.profitMinor ?? $0.revenueMinor) }
        let valuePyramid = ValuePyramid(values, settings: settings)
        let tierOf = valuePyramid.tiers
        rows = customers.indices.map { i in
            let c = customers[i]
            return Row(id: c.id, externalID: c.externalID, recencyDays: today - c.lastDay, orderCount: c.orderCount,
                       revenueMinor: c.revenueMinor, profitMinor: c.profitMinor, score: scores[i], tier: tierOf[i])
        }
        let pareto = ParetoCurve(values, rankedBy: .revenue)
        var segmentCounts = [RFMSegment: Int]()
        for s in scores { segmentCounts[s.segment, default: 0] += 1 }
        summary = Summary(
            customerCount: customers.count,
            orderCount: customers.reduce(0) { $0 + $1.orderCount },
            revenueMinor: customers.reduce(0) { $0 + $1.revenueMinor },
            profitMinor: hasProfit ? customers.reduce(0) { $0 + ($1.profitMinor ?? 0) } : nil,
            asOfDay: today,
            tierMeasure: settings.measure,
            revenueShareOfTop20Percent: pareto.share(ofTopPercent: 20, of: .revenue),
            customersFor80PercentOfRevenue: pareto.customersNeeded(forShare: 0.8, of: .revenue),
            segments: RFMSegment.allCases.map { Count(key: $0, customers: segmentCounts[$0] ?? 0) },
            tiers: valuePyramid.summaries.map { Count(key: $0.tier, customers: $0.count) })
    }
}
