/// One customer's value over the analysis window, in integer minor units (分).
public struct CustomerValueInput: Sendable, Hashable {
    public var id: Int64
    public var revenueMinor: Int64
    public var profitMinor: Int64
    public init(id: Int64, revenueMinor: Int64, profitMinor: Int64) {
        self.id = id
        self.revenueMinor = revenueMinor
        self.profitMinor = profitMinor
    }
    @inlinable
    public func value(_ measure: ValueMeasure) -> Int64 { measure == .profit ? profitMinor : revenueMinor }
}

/// What the customers are ranked by (按销售收入或利润) — a setting.
public enum ValueMeasure: String, Sendable, CaseIterable, Codable {
    case profit, revenue
}

/// The customer pyramid (客户金字塔, Zeithaml, Rust & Lemon 2001): 白金 platinum, 黄金 gold,
/// 铁 iron, 铅 lead.
public enum CustomerTier: String, Sendable, CaseIterable, Codable, Comparable {
    case platinum, gold, iron, lead

    public static func < (l: Self, r: Self) -> Bool { l.order < r.order }
    var order: Int { Self.allCases.firstIndex(of: self)! }

    /// The three-level variant of the same ranking.
    public var threeLevel: ThreeLevelTier {
        switch self {
        case .platinum, .gold: .key
        case .iron: .ordinary
        case .lead: .small
        }
    }
}

/// The three-level pyramid (关键客户 key, 普通客户 ordinary, 小客户 small): key customers are the
/// platinum and gold tiers together (top 5% by default), ordinary the iron tier, small the lead.
public enum ThreeLevelTier: String, Sendable, CaseIterable, Codable {
    case key, ordinary, small
}

/// Where the tiers are cut.
public enum TierCutoffs: Sendable, Hashable {
    /// Shares of the customer base, in parts per million for exact integer counting.
    case shares(platinumPPM: Int, goldPPM: Int, ironPPM: Int)
    /// Minimum value (minor units) to reach each tier; below `ironMinor` is lead.
    case thresholds(platinumMinor: Int64, goldMinor: Int64, ironMinor: Int64)

    /// Top 1% / next 4% / next 15% / rest 80%.
    public static let standard = TierCutoffs.shares(platinumPPM: 10_000, goldPPM: 40_000, ironPPM: 150_000)

    /// Shares as fractions (0.01 = 1%), rounded to the nearest part per million.
    public static func shares(platinum: Double, gold: Double, iron: Double) -> TierCutoffs {
        func ppm(_ x: Double) -> Int { Int((x * 1_000_000).rounded()) }
        return .shares(platinumPPM: ppm(platinum), goldPPM: ppm(gold), ironPPM: ppm(iron))
    }
}

/// Settings of the value pyramid.
public struct PyramidSettings: Sendable, Hashable {
    public var measure: ValueMeasure
    public var cutoffs: TierCutoffs
    public init(measure: ValueMeasure = .profit, cutoffs: TierCutoffs = .standard) {
        self.measure = measure
        self.cutoffs = cutoffs
    }
}

/// The value pyramid of a customer base.
///
/// Ranking: by the measure descending, ties by customer id ascending, so the result is exact
/// and repeatable. Counting (share cut-offs): with n customers and cumulative shares
/// P = platinum, G = platinum + gold, I = platinum + gold + iron, the cumulative counts are
/// ⌈n·P⌉, ⌈n·G⌉, ⌈n·I⌉ (integer arithmetic on parts per million) — so any non-empty base has
/// at least one platinum customer when P > 0, and the top 1% of 250 customers is 3.
/// A customer whose value is ≤ 0 is always lead, whatever the rank (an unprofitable customer is
/// not a VIP); the counts of the other tiers shrink accordingly.
public struct ValuePyramid: Sendable, Equatable {
    /// One customer's place.
    public struct Assignment: Sendable, Hashable {
        public var id: Int64
        /// 1-based rank by the measure (ties by id).
        public var rank: Int
        public var tier: CustomerTier
    }

    /// Totals of one tier; shares are nil when the base's total is ≤ 0.
    public struct TierSummary: Sendable, Hashable {
        public var tier: CustomerTier
        public var count: Int
        public var revenueMinor: Int64
        public var profitMinor: Int64
        public var revenueShare: Double?
        public var profitShare: Double?
    }

    /// Assignments in rank order.
    public var assignments: [Assignment]
    /// Each input customer's tier, in input order.
    public var tiers: [CustomerTier]
    /// Platinum, gold, iron, lead (always four entries).
    public var summaries: [TierSummary]
    public var settings: PyramidSettings

    /// Tier of each customer keyed by id.
    public var tierByID: [Int64: CustomerTier] {
        Dictionary(uniqueKeysWithValues: assignments.map { ($0.id, $0.tier) })
    }

    /// Summaries of the three-level variant (key, ordinary, small).
    public var threeLevelSummaries: [(tier: ThreeLevelTier, count: Int, revenueMinor: Int64, profitMinor: Int64)] {
        ThreeLevelTier.allCases.map { level in
            let parts = summaries.filter { $0.tier.threeLevel == level }
            return (level, parts.reduce(0) { $0 + $1.count }, parts.reduce(0) { $0 + $1.revenueMinor }, parts.reduce(0) { $0 + $1.profitMinor })
        }
    }

    public init(_ customers: [CustomerValueInput], settings: PyramidSettings = PyramidSettings()) {
        self.init(customers, settings: settings, order: Ranking.descending(customers.map { $0.value(settings.measure) }, ids: customers.map(\.id)))
    }

    /// With the customers' ranking by `settings.measure` already made (the Pareto curve's, when it ranks by the same).
    init(_ customers: [CustomerValueInput], settings: PyramidSettings, order: [Int]) {
        self.settings = settings
        let measure = settings.measure
        let n = customers.count
        var tiers = [CustomerTier](repeating: .lead, count: n)
        switch settings.cutoffs {
        case let .shares(p, g, i):
            let cumulative = [p, p + g, p + g + i].map { Ranking.ceilShare(n, ppm: $0) }
            for (rank, index) in order.enumerated() {
                let tier: CustomerTier = rank < cumulative[0] ? .platinum : rank < cumulative[1] ? .gold : rank < cumulative[2] ? .iron : .lead
                tiers[index] = customers[index].value(measure) > 0 ? tier : .lead
            }
        case let .thresholds(p, g, i):
            for index in 0..<n {
                let v = customers[index].value(measure)
                tiers[index] = v <= 0 ? .lead : v >= p ? .platinum : v >= g ? .gold : v >= i ? .iron : .lead
            }
        }
        self.tiers = tiers
        assignments = order.enumerated().map { Assignment(id: customers[$0.element].id, rank: $0.offset + 1, tier: tiers[$0.element]) }
        var counts = [Int](repeating: 0, count: 4)
        var revenue = [Int64](repeating: 0, count: 4), profit = [Int64](repeating: 0, count: 4)
        var totalRevenue: Int64 = 0, totalProfit: Int64 = 0
        for (index, c) in customers.enumerated() {
            let k = tiers[index].order
            counts[k] += 1
            revenue[k] += c.revenueMinor
            profit[k] += c.profitMinor
            totalRevenue += c.revenueMinor
            totalProfit += c.profitMinor
        }
        summaries = CustomerTier.allCases.map { tier in
            let k = tier.order
            return TierSummary(tier: tier, count: counts[k], revenueMinor: revenue[k], profitMinor: profit[k],
                               revenueShare: Ranking.share(revenue[k], of: totalRevenue),
                               profitShare: Ranking.share(profit[k], of: totalProfit))
        }
    }
}

/// Exact ranking helpers on Int64 values.
enum Ranking {
    /// Indices ordered by value descending, ties by id ascending.
    static func descending(_ values: [Int64], ids: [Int64]) -> [Int] {
        struct Entry { var value: Int64; var id: Int64; var index: Int }
        var entries = [Entry]()
        entries.reserveCapacity(values.count)
        for i in values.indices { entries.append(Entry(value: values[i], id: ids[i], index: i)) }
        entries.sort { $0.value != $1.value ? $0.value > $1.value : $0.id < $1.id }
        return entries.map(\.index)
    }

    /// ⌈n · ppm / 10⁶⌉ in integers (clamped to 0...n).
    static func ceilShare(_ n: Int, ppm: Int) -> Int {
        let ppm = Swift.max(0, Swift.min(ppm, 1_000_000))
        return (n * ppm + 999_999) / 1_000_000
    }

    static func share(_ part: Int64, of total: Int64) -> Double? {
        total > 0 ? Double(part) / Double(total) : nil
    }

    /// part/total ≥ ppm/10⁶, exactly (128-bit products); total > 0.
    static func reaches(_ part: Int64, of total: Int64, ppm: Int) -> Bool {
        let lhs = part.multipliedFullWidth(by: 1_000_000)
        let rhs = total.multipliedFullWidth(by: Int64(ppm))
        return lhs.high != rhs.high ? lhs.high > rhs.high : lhs.low >= rhs.low
    }
}

/// The Pareto (20/80) view: what share of revenue and profit the top x% of customers bring.
public struct ParetoCurve: Sendable, Equatable {
    /// The top `percent`% of customers (count ⌈n·percent/100⌉, the pyramid's rounding).
    public struct Point: Sendable, Hashable {
        public var percent: Int
        public var customers: Int
        public var revenueShare: Double?
        public var profitShare: Double?
    }

    /// Points for 1…100%.
    public var points: [Point]
    public var rankedBy: ValueMeasure
    /// Prefix sums in rank order (index k = top k customers).
    let revenuePrefix: [Int64]
    let profitPrefix: [Int64]

    /// Ranks by `rankedBy` descending (ties by id ascending).
    public init(_ customers: [CustomerValueInput], rankedBy: ValueMeasure = .revenue) {
        self.init(customers, rankedBy: rankedBy, order: Ranking.descending(customers.map { $0.value(rankedBy) }, ids: customers.map(\.id)))
    }

    /// With the customers' ranking by `rankedBy` already made.
    init(_ customers: [CustomerValueInput], rankedBy: ValueMeasure, order: [Int]) {
        self.rankedBy = rankedBy
        var rp: [Int64] = [0], pp: [Int64] = [0]
        rp.reserveCapacity(order.count + 1)
        pp.reserveCapacity(order.count + 1)
        for i in order {
            rp.append(rp.last! + customers[i].revenueMinor)
            pp.append(pp.last! + customers[i].profitMinor)
        }
        revenuePrefix = rp
        profitPrefix = pp
        let n = customers.count
        points = (1...100).map { percent in
            let k = Ranking.ceilShare(n, ppm: percent * 10_000)
            return Point(percent: percent, customers: k,
                         revenueShare: Ranking.share(rp[k], of: rp[n]), profitShare: Ranking.share(pp[k], of: pp[n]))
        }
    }

    /// Share of revenue (or profit) brought by the top `percent`% (any percent 0…100, e.g. 20).
    public func share(ofTopPercent percent: Double, of measure: ValueMeasure = .revenue) -> Double? {
        let n = revenuePrefix.count - 1
        let k = Ranking.ceilShare(n, ppm: Int((percent * 10_000).rounded()))
        let prefix = measure == .revenue ? revenuePrefix : profitPrefix
        return Ranking.share(prefix[k], of: prefix[n])
    }

    /// The fewest top-ranked customers whose cumulative revenue (or profit) reaches `share` of
    /// the total (e.g. 0.8); nil when the total is ≤ 0.
    public func customersNeeded(forShare share: Double, of measure: ValueMeasure = .revenue) -> Int? {
        let prefix = measure == .revenue ? revenuePrefix : profitPrefix
        let total = prefix[prefix.count - 1]
        guard total > 0 else { return nil }
        let ppm = Int((share * 1_000_000).rounded())
        for k in 0..<prefix.count where Ranking.reaches(prefix[k], of: total, ppm: ppm) { return k }
        return nil
    }
}
