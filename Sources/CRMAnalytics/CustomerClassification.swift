// Loyalty ladder, actual vs potential spend, transaction- vs relationship-type buyers and the
// value trajectory (../shared/domain.md §2).

/// A customer's purchase summary for the loyalty ladder. Days are day numbers (e.g. days since
/// 1970-01-01); `firstPurchaseDay`/`lastPurchaseDay` are nil when there is no purchase.
public struct LoyaltyInput: Sendable, Hashable {
    public var id: Int64
    public var purchaseCount: Int
    public var firstPurchaseDay: Int?
    public var lastPurchaseDay: Int?
    public init(id: Int64, purchaseCount: Int, firstPurchaseDay: Int?, lastPurchaseDay: Int?) {
        self.id = id
        self.purchaseCount = purchaseCount
        self.firstPurchaseDay = firstPurchaseDay
        self.lastPurchaseDay = lastPurchaseDay
    }
}

/// The loyalty ladder (关系阶梯): 潜在客户 potential → 新客户 new → 经常性客户 repeat →
/// 老客户 long-standing → 忠诚客户 loyal.
public enum LoyaltyStage: String, Sendable, CaseIterable, Codable, Comparable {
    case potential, new, `repeat`, longStanding, loyal
    public static func < (l: Self, r: Self) -> Bool { allCases.firstIndex(of: l)! < allCases.firstIndex(of: r)! }
}

/// Configurable ladder rules. Tenure = days since the first purchase, recency = days since the
/// last purchase, both as of the evaluation day.
public struct LoyaltyRules: Sendable, Hashable, Codable {
    public var repeatMinPurchases = 2
    public var longStandingMinPurchases = 4
    public var longStandingMinTenureDays = 365
    public var loyalMinPurchases = 8
    public var loyalMinTenureDays = 730
    /// Long-standing and loyal need a purchase within this many days.
    public var activeWithinDays = 180
    public init() {}

    /// The first rule that holds, top of the ladder first:
    /// no purchase → potential; loyal if purchases ≥ loyalMinPurchases, tenure ≥
    /// loyalMinTenureDays and recency ≤ activeWithinDays; long-standing likewise with its own
    /// minimums; repeat if purchases ≥ repeatMinPurchases (also a lapsed regular — the ladder
    /// does not go down to "lapsed", churn risk covers that); otherwise new (one purchase).
    public func stage(of c: LoyaltyInput, asOfDay today: Int) -> LoyaltyStage {
        guard c.purchaseCount > 0, let first = c.firstPurchaseDay, let last = c.lastPurchaseDay else { return .potential }
        let tenure = today - first, recency = today - last
        if c.purchaseCount >= loyalMinPurchases && tenure >= loyalMinTenureDays && recency <= activeWithinDays { return .loyal }
        if c.purchaseCount >= longStandingMinPurchases && tenure >= longStandingMinTenureDays && recency <= activeWithinDays { return .longStanding }
        if c.purchaseCount >= repeatMinPurchases { return .repeat }
        return .new
    }
}

/// 现实客户 actual (has bought) vs 潜在客户 potential.
public enum ExchangeStatus: String, Sendable, CaseIterable, Codable {
    case actual, potential
    public init(purchaseCount: Int) { self = purchaseCount > 0 ? .actual : .potential }
}

/// Spend of a customer within a comparison group (a tier, segment or industry — the caller's key).
public struct SpendInput: Sendable, Hashable {
    public var id: Int64
    public var group: String
    public var spendMinor: Int64
    public init(id: Int64, group: String = "", spendMinor: Int64) {
        self.id = id
        self.group = group
        self.spendMinor = spendMinor
    }
}

/// A customer's actual spend against an estimated potential (share of wallet proxy).
public struct SpendPotential: Sendable, Hashable {
    public var id: Int64
    public var actualMinor: Int64
    /// The group's percentile spend (nearest rank).
    public var potentialMinor: Int64
    /// potential − actual, not below 0: what is left to win.
    public var gapMinor: Int64
    /// actual / potential; nil when the potential is ≤ 0.
    public var shareOfPotential: Double?
}

public enum SpendPotentialAnalysis {
    /// Potential = the `percentile`-th percentile (nearest-rank: the ⌈p/100·n⌉-th smallest) of
    /// spend among the customers of the same group — "what a good customer like this one spends".
    /// Results are in input order.
    public static func actualVersusPotential(_ inputs: [SpendInput], percentile: Int = 90) -> [SpendPotential] {
        var byGroup: [String: [Int64]] = [:]
        for i in inputs { byGroup[i.group, default: []].append(i.spendMinor) }
        var potential: [String: Int64] = [:]
        for (group, values) in byGroup {
            let sorted = values.sorted()
            let rank = Swift.max(1, (sorted.count * Swift.max(0, Swift.min(percentile, 100)) + 99) / 100)
            potential[group] = sorted[rank - 1]
        }
        return inputs.map { i in
            let p = potential[i.group]!
            return SpendPotential(id: i.id, actualMinor: i.spendMinor, potentialMinor: p,
                                  gapMinor: Swift.max(0, p - i.spendMinor), shareOfPotential: p > 0 ? Double(i.spendMinor) / Double(p) : nil)
        }
    }
}

/// Transaction-type (交易型: buys mainly on promotion, waits for discounts) vs relationship-type
/// (关系型: values quality and stable supply over price).
public enum BuyingType: String, Sendable, CaseIterable, Codable {
    case transactional, relational

    /// From the share of spend bought on promotion or discount: transactional when
    /// promotionSpend / spend ≥ threshold (default 0.5, compared exactly in parts per million);
    /// nil when the spend is ≤ 0 (nothing to judge).
    public static func classify(spendMinor: Int64, promotionSpendMinor: Int64, threshold: Double = 0.5) -> BuyingType? {
        guard spendMinor > 0 else { return nil }
        let ppm = Int((threshold * 1_000_000).rounded())
        return Ranking.reaches(promotionSpendMinor, of: spendMinor, ppm: ppm) ? .transactional : .relational
    }
}

/// Input of the value trajectory: profit in two consecutive equal windows and the CLV.
public struct TrajectoryInput: Sendable, Hashable {
    public var id: Int64
    public var previousProfitMinor: Int64
    public var currentProfitMinor: Int64
    public var clvMinor: Int64
    public init(id: Int64, previousProfitMinor: Int64, currentProfitMinor: Int64, clvMinor: Int64) {
        self.id = id
        self.previousProfitMinor = previousProfitMinor
        self.currentProfitMinor = currentProfitMinor
        self.clvMinor = clvMinor
    }
}

/// The value trajectory among customers (domain §2.5).
public enum ValueTrajectory: String, Sendable, CaseIterable, Codable {
    /// (a) brings the most profit now.
    case topProfitNow
    /// (b) good profit and could become the biggest (grow share of wallet).
    case growthPotential
    /// (c) profitable now but losing value.
    case profitableDeclining
    /// (d) not profitable: serve cheaply or end the relationship.
    case unprofitable
    /// None of the above: steady, unremarkable.
    case ordinary

    /// Settings for `classify`.
    public struct Rules: Sendable, Hashable, Codable {
        /// Top share by current-window profit counted as "top profit now" (default 20%, ppm).
        public var topSharePPM = 200_000
        /// Top share by CLV counted as "growth potential" (default 20%, ppm).
        public var growthSharePPM = 200_000
        /// Profit falling by more than this percentage between windows is "declining".
        public var declinePercent = 10
        public init() {}
    }

    /// Rules, first match wins (ranks: descending, ties by id, counts ⌈n·share⌉ as the pyramid):
    /// 1. unprofitable — current profit ≤ 0 and CLV ≤ 0;
    /// 2. profitableDeclining — current profit > 0 and current < previous·(1 − declinePercent/100);
    /// 3. topProfitNow — current profit > 0 and within the top `topSharePPM` by current profit;
    /// 4. growthPotential — CLV > 0 and within the top `growthSharePPM` by CLV;
    /// 5. ordinary.
    /// Results are in input order.
    public static func classify(_ inputs: [TrajectoryInput], rules: Rules = Rules()) -> [ValueTrajectory] {
        let n = inputs.count
        // A rank is only asked of a positive value, and every positive value ranks above
        // every other, so only the positive ones are sorted (most customers have none);
        // the two rankings are independent and run side by side.
        func ranks(_ value: KeyPath<TrajectoryInput, Int64>) -> [Int] {
            let positive = inputs.indices.filter { inputs[$0][keyPath: value] > 0 }
            var rank = [Int](repeating: n, count: n)
            let order = Ranking.descending(positive.map { inputs[$0][keyPath: value] }, ids: positive.map { inputs[$0].id })
            for (r, k) in order.enumerated() { rank[positive[k]] = r }
            return rank
        }
        let (profitRank, clvRank) = inParallel({ ranks(\.currentProfitMinor) }, { ranks(\.clvMinor) })
        let topCount = Ranking.ceilShare(n, ppm: rules.topSharePPM)
        let growthCount = Ranking.ceilShare(n, ppm: rules.growthSharePPM)
        return inputs.indices.map { i in
            let c = inputs[i]
            if c.currentProfitMinor <= 0 && c.clvMinor <= 0 { return .unprofitable }
            if c.currentProfitMinor > 0 {
                let lhs = c.currentProfitMinor.multipliedFullWidth(by: 100)
                let rhs = c.previousProfitMinor.multipliedFullWidth(by: Int64(100 - rules.declinePercent))
                let declining = lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
                if declining { return .profitableDeclining }
                if profitRank[i] < topCount { return .topProfitNow }
            }
            if c.clvMinor > 0 && clvRank[i] < growthCount { return .growthPotential }
            return .ordinary
        }
    }
}
