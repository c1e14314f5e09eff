/// Inputs of the churn-risk rules for one customer (domain §8: detect silent churn early from
/// P(alive) and the lapse of the customer's own purchase cycle).
public struct ChurnInput: Sendable, Hashable {
    public var id: Int64
    /// P(alive) from BG/NBD or Pareto/NBD; nil when no model is fitted.
    public var probabilityAlive: Double?
    public var purchaseCount: Int
    public var firstPurchaseDay: Int
    public var lastPurchaseDay: Int
    /// Complaints or stated intentions to leave in the review window (voiced signals).
    public var complaints: Int
    public init(id: Int64, probabilityAlive: Double?, purchaseCount: Int, firstPurchaseDay: Int, lastPurchaseDay: Int, complaints: Int = 0) {
        self.id = id
        self.probabilityAlive = probabilityAlive
        self.purchaseCount = purchaseCount
        self.firstPurchaseDay = firstPurchaseDay
        self.lastPurchaseDay = lastPurchaseDay
        self.complaints = complaints
    }

    /// Mean days between purchases, (last − first)/(count − 1); nil with fewer than two purchases
    /// or when all were on one day.
    public var meanInterPurchaseDays: Double? {
        guard purchaseCount >= 2, lastPurchaseDay > firstPurchaseDay else { return nil }
        return Double(lastPurchaseDay - firstPurchaseDay) / Double(purchaseCount - 1)
    }
}

public enum ChurnRiskLevel: String, Sendable, CaseIterable, Codable, Comparable {
    case low, medium, high
    public static func < (l: Self, r: Self) -> Bool { allCases.firstIndex(of: l)! < allCases.firstIndex(of: r)! }
}

/// The outcome for one customer.
public struct ChurnAssessment: Sendable, Hashable {
    public var id: Int64
    public var level: ChurnRiskLevel
    /// Days since the last purchase ÷ the customer's mean inter-purchase interval (nil if unknown).
    public var cycleLapse: Double?
    /// A previously regular customer whose cycle has lapsed without any complaint (无声流失).
    public var silentChurn: Bool
}

/// Churn-risk rules (all thresholds configurable).
public struct ChurnRules: Sendable, Hashable, Codable {
    public var highBelowProbabilityAlive = 0.3
    public var mediumBelowProbabilityAlive = 0.6
    public var highFromLapse = 3.0
    public var mediumFromLapse = 1.5
    /// "Previously regular": at least this many purchases.
    public var silentMinPurchases = 4
    public var silentFromLapse = 2.0
    public init() {}

    /// - high: P(alive) < 0.3 or lapse ≥ 3 cycles;
    /// - medium: P(alive) < 0.6 or lapse ≥ 1.5 cycles;
    /// - low: otherwise (missing P(alive) or lapse simply does not count);
    /// - silent churn: purchases ≥ 4, lapse ≥ 2 cycles and no complaint.
    public func assess(_ c: ChurnInput, asOfDay today: Int) -> ChurnAssessment {
        let lapse = c.meanInterPurchaseDays.map { Double(today - c.lastPurchaseDay) / $0 }
        let alive = c.probabilityAlive
        let level: ChurnRiskLevel
        if (alive.map { $0 < highBelowProbabilityAlive } ?? false) || (lapse.map { $0 >= highFromLapse } ?? false) {
            level = .high
        } else if (alive.map { $0 < mediumBelowProbabilityAlive } ?? false) || (lapse.map { $0 >= mediumFromLapse } ?? false) {
            level = .medium
        } else {
            level = .low
        }
        let silent = c.purchaseCount >= silentMinPurchases && (lapse.map { $0 >= silentFromLapse } ?? false) && c.complaints == 0
        return ChurnAssessment(id: c.id, level: level, cycleLapse: lapse, silentChurn: silent)
    }
}
