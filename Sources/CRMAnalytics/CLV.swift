import RealModule

/// A model of repeat purchases that can forecast a customer's purchases (BG/NBD, Pareto/NBD).
public protocol RepeatPurchaseModel: Sendable {
    /// Expected purchases in the next `t` time units given the history.
    func conditionalExpectedPurchases(within t: Double, given h: PurchaseHistory) throws -> Double
    /// The probability that a customer with this history is still alive (still buying).
    func probabilityAlive(_ h: PurchaseHistory) throws -> Double
}

extension BGNBD: RepeatPurchaseModel {}
extension ParetoNBD: RepeatPurchaseModel {}

/// Settings of the CLV computation.
public struct CLVSettings: Sendable, Hashable {
    /// Number of periods in the horizon (e.g. 12 months).
    public var horizonPeriods: Int
    /// Length of one period in the model's time unit (e.g. 4.345 weeks for a month).
    public var periodLength: Double
    /// Discount rate per period (e.g. 0.01 per month ≈ 12.7% a year).
    public var discountRatePerPeriod: Double
    /// Profit margin applied to spend (1 = spend is already profit).
    public var margin: Double
    public init(horizonPeriods: Int = 12, periodLength: Double = 1, discountRatePerPeriod: Double = 0.01, margin: Double = 1) {
        self.horizonPeriods = horizonPeriods
        self.periodLength = periodLength
        self.discountRatePerPeriod = discountRatePerPeriod
        self.margin = margin
    }
}

/// Customer lifetime value (客户终生价值): the present value of future profit.
public enum CustomerLifetimeValue {
    /// CLV = margin · E[M] · Σ_{k=1}^{H} (E[Y(kΔ)] − E[Y((k−1)Δ)]) / (1 + d)^k
    /// — expected purchases in each period (from the purchase model, conditional on the history)
    /// times the expected spend per purchase (Gamma-Gamma conditional expectation) times the
    /// margin, each period discounted to the present at the period's end (as in the `lifetimes`
    /// package's `customer_lifetime_value`). In the spend's currency units.
    public static func value(history: PurchaseHistory, spend: SpendHistory, purchases: some RepeatPurchaseModel,
                             spendModel: GammaGamma, settings: CLVSettings = CLVSettings()) throws -> Double {
        let perPurchase = spendModel.conditionalExpectedSpend(spend) * settings.margin
        return perPurchase * (try discountedPurchases(history: history, purchases: purchases, settings: settings))
    }

    /// The purchase part of the CLV: expected purchases in each period, discounted. It
    /// depends on the purchase history only, so customers with the same history share it.
    public static func discountedPurchases(history: PurchaseHistory, purchases: some RepeatPurchaseModel,
                                           settings: CLVSettings = CLVSettings()) throws -> Double {
        var total = 0.0
        var previous = 0.0
        for k in 1...Swift.max(1, settings.horizonPeriods) {
            let cumulative = try purchases.conditionalExpectedPurchases(within: Double(k) * settings.periodLength, given: history)
            total += (cumulative - previous) / Double.pow(1 + settings.discountRatePerPeriod, Double(k))
            previous = cumulative
        }
        return total
    }
}
