import CRMCore
import Foundation

/// Every cut-off and rule of the customer-base analysis: an admin setting, stored with each
/// result so a result always says what produced it.
public struct AnalyticsSettings: Sendable, Hashable, Codable {
    /// The currency analysed (summaries are kept per currency; amounts are never converted).
    public var currency = "CNY"
    /// Tiers rank by profit or revenue over the window.
    public var measure = ValueMeasure.profit
    /// Shares of the customer base (0.01 = 1%) for platinum, gold and iron; the rest is lead.
    public var platinumShare = 0.01
    public var goldShare = 0.04
    public var ironShare = 0.15
    /// Absolute minimum values (minor units) instead of shares, when all three are set.
    public var platinumMinimumMinor: Int64?
    public var goldMinimumMinor: Int64?
    public var ironMinimumMinor: Int64?
    /// The value window in months, ending on the as-of day; trajectory compares it with the
    /// window before it.
    public var windowMonths = 12
    /// A customer who buys at least this share of spend on promotion is transaction-type.
    public var promotionShareThreshold = 0.5
    public var loyalty = LoyaltyRules()
    public var trajectory = ValueTrajectory.Rules()
    public var churn = ChurnRules()
    /// The repeat-purchase model: BG/NBD (fast) or Pareto/NBD.
    public var model = RepeatModel.bgnbd
    /// L2 penalty on the model parameters (0 = plain maximum likelihood).
    public var penalty = 0.0
    /// Expected purchases are forecast over this many days.
    public var forecastDays = 90
    /// CLV: months ahead, monthly discount rate, and margin on spend (nil = the customer
    /// base's own profit margin over the window).
    public var clvMonths = 12
    public var monthlyDiscountRate = 0.01
    public var margin: Double?
    /// Minutes between scheduled refreshes in the server (0 = only on demand).
    public var refreshIntervalMinutes = 60

    public enum RepeatModel: String, Sendable, Hashable, Codable, CaseIterable {
        case bgnbd, paretonbd
    }

    public init() {}

    public var pyramid: PyramidSettings {
        if let p = platinumMinimumMinor, let g = goldMinimumMinor, let i = ironMinimumMinor {
            return PyramidSettings(measure: measure, cutoffs: .thresholds(platinumMinor: p, goldMinor: g, ironMinor: i))
        }
        return PyramidSettings(measure: measure, cutoffs: .shares(platinum: platinumShare, gold: goldShare, iron: ironShare))
    }

    /// What is wrong with these settings, field by field (JSON Pointer, message).
    public func problems() -> [(pointer: String, message: String)] {
        var out: [(String, String)] = []
        if currency.count != 3 || !currency.allSatisfy(\.isUppercase) { out.append(("/currency", "must be a three-letter ISO 4217 code such as CNY")) }
        for (name, v) in [("platinumShare", platinumShare), ("goldShare", goldShare), ("ironShare", ironShare)] where !(0...1).contains(v) {
            out.append(("/\(name)", "must be a share between 0 and 1"))
        }
        if platinumShare + goldShare + ironShare > 1 { out.append(("/ironShare", "platinum, gold and iron shares add up to more than 1")) }
        let minimums = [platinumMinimumMinor, goldMinimumMinor, ironMinimumMinor]
        if minimums.contains(where: { $0 != nil }) {
            if minimums.contains(where: { $0 == nil }) {
                out.append(("/ironMinimumMinor", "set all three minimums, or none"))
            } else if !(platinumMinimumMinor! >= goldMinimumMinor! && goldMinimumMinor! >= ironMinimumMinor!) {
                out.append(("/goldMinimumMinor", "minimums must not increase from platinum to iron"))
            }
        }
        if !(1...120).contains(windowMonths) { out.append(("/windowMonths", "must be 1 to 120 months")) }
        if !(0...1).contains(promotionShareThreshold) { out.append(("/promotionShareThreshold", "must be a share between 0 and 1")) }
        if !(penalty >= 0) { out.append(("/penalty", "must be ≥ 0")) }
        if !(1...3650).contains(forecastDays) { out.append(("/forecastDays", "must be 1 to 3650 days")) }
        if !(1...120).contains(clvMonths) { out.append(("/clvMonths", "must be 1 to 120 months")) }
        if !(0..<1).contains(monthlyDiscountRate) { out.append(("/monthlyDiscountRate", "must be in [0, 1)")) }
        if let m = margin, !(0...1).contains(m) { out.append(("/margin", "must be a share between 0 and 1")) }
        if !(0...10_080).contains(refreshIntervalMinutes) { out.append(("/refreshIntervalMinutes", "must be 0 (off) to 10080 minutes")) }
        if loyalty.repeatMinPurchases < 1 || loyalty.longStandingMinPurchases < loyalty.repeatMinPurchases
            || loyalty.loyalMinPurchases < loyalty.longStandingMinPurchases || loyalty.longStandingMinTenureDays < 0
            || loyalty.loyalMinTenureDays < loyalty.longStandingMinTenureDays || loyalty.activeWithinDays < 0 {
            out.append(("/loyalty", "purchases and tenure must not decrease up the ladder (repeat ≤ long-standing ≤ loyal), all ≥ 0"))
        }
        if !(0...1_000_000).contains(trajectory.topSharePPM) || !(0...1_000_000).contains(trajectory.growthSharePPM)
            || !(0...100).contains(trajectory.declinePercent) {
            out.append(("/trajectory", "shares are 0 to 1,000,000 parts per million and declinePercent 0 to 100"))
        }
        if !(churn.highFromLapse >= churn.mediumFromLapse && churn.mediumFromLapse > 0) || !(churn.silentFromLapse > 0) || churn.silentMinPurchases < 2 {
            out.append(("/churn", "lapses must be positive with high ≥ medium, and silentMinPurchases ≥ 2"))
        }
        if !(0..<1).contains(churn.highBelowProbabilityAlive) || !(0..<1).contains(churn.mediumBelowProbabilityAlive) {
            out.append(("/churn", "P(alive) cut-offs must be in [0, 1)"))
        }
        return out
    }
}

/// One customer as the analysis sees them: the purchase summary (lifetime) plus the
/// profit of the current and the previous window. Days are days since 1970-01-01.
public struct CustomerSummaryInput: Sendable, Hashable {
    public var id: Int64
    public var firstPurchaseDay: Int?
    public var lastPurchaseDay: Int?
    public var orderCount: Int
    /// Distinct purchase days: the models count purchases per day, as CDNOW does.
    public var purchaseDays: Int
    public var revenueMinor: Int64
    public var profitMinor: Int64
    public var promotionRevenueMinor: Int64
    /// Revenue on days after the first purchase day (the Gamma-Gamma spend).
    public var repeatRevenueMinor: Int64
    public var windowRevenueMinor: Int64
    public var windowProfitMinor: Int64
    public var previousWindowProfitMinor: Int64
    public var complaints: Int

    public init(id: Int64, firstPurchaseDay: Int? = nil, lastPurchaseDay: Int? = nil, orderCount: Int = 0, purchaseDays: Int = 0,
                revenueMinor: Int64 = 0, profitMinor: Int64 = 0, promotionRevenueMinor: Int64 = 0, repeatRevenueMinor: Int64 = 0,
                windowRevenueMinor: Int64 = 0, windowProfitMinor: Int64 = 0, previousWindowProfitMinor: Int64 = 0, complaints: Int = 0) {
        self.id = id; self.firstPurchaseDay = firstPurchaseDay; self.lastPurchaseDay = lastPurchaseDay
        self.orderCount = orderCount; self.purchaseDays = purchaseDays; self.revenueMinor = revenueMinor
        self.profitMinor = profitMinor; self.promotionRevenueMinor = promotionRevenueMinor; self.repeatRevenueMinor = repeatRevenueMinor
        self.windowRevenueMinor = windowRevenueMinor; self.windowProfitMinor = windowProfitMinor
        self.previousWindowProfitMinor = previousWindowProfitMinor; self.complaints = complaints
    }

    var hasPurchased: Bool { orderCount > 0 && firstPurchaseDay != nil && lastPurchaseDay != nil }
}

/// Everything the analysis concludes about one customer.
public struct CustomerAnalysis: Sendable, Hashable, Codable {
    public var id: Int64
    public var tier: CustomerTier
    public var valueLevel: ThreeLevelTier
    public var loyaltyStage: LoyaltyStage
    public var buyingType: BuyingType?
    public var trajectory: ValueTrajectory
    public var recencyScore: Int?
    public var frequencyScore: Int?
    public var monetaryScore: Int?
    public var rfmSegment: RFMSegment?
    /// Expected purchase days in the next `forecastDays`.
    public var expectedPurchases: Double?
    public var probabilityAlive: Double?
    public var clvMinor: Int64?
    public var churnRisk: ChurnRiskLevel?
    public var silentChurn: Bool
    public var windowRevenueMinor: Int64
    public var windowProfitMinor: Int64

    public init(id: Int64, tier: CustomerTier, valueLevel: ThreeLevelTier, loyaltyStage: LoyaltyStage, buyingType: BuyingType?,
                trajectory: ValueTrajectory, recencyScore: Int?, frequencyScore: Int?, monetaryScore: Int?, rfmSegment: RFMSegment?,
                expectedPurchases: Double?, probabilityAlive: Double?, clvMinor: Int64?, churnRisk: ChurnRiskLevel?, silentChurn: Bool,
                windowRevenueMinor: Int64, windowProfitMinor: Int64) {
        self.id = id; self.tier = tier; self.valueLevel = valueLevel; self.loyaltyStage = loyaltyStage; self.buyingType = buyingType
        self.trajectory = trajectory; self.recencyScore = recencyScore; self.frequencyScore = frequencyScore
        self.monetaryScore = monetaryScore; self.rfmSegment = rfmSegment; self.expectedPurchases = expectedPurchases
        self.probabilityAlive = probabilityAlive; self.clvMinor = clvMinor; self.churnRisk = churnRisk; self.silentChurn = silentChurn
        self.windowRevenueMinor = windowRevenueMinor; self.windowProfitMinor = windowProfitMinor
    }
}

/// The figures a manager's dashboard shows, computed with the per-customer results.
public struct CustomerBaseDashboard: Sendable, Hashable, Codable {
    public struct Count: Sendable, Hashable, Codable {
        public var key: String
        public var customers: Int
    }
    public struct TierFigures: Sendable, Hashable, Codable {
        public var tier: String
        public var customers: Int
        public var revenueMinor: Int64
        public var profitMinor: Int64
        public var revenueShare: Double?
        public var profitShare: Double?
    }
    public struct ParetoPoint: Sendable, Hashable, Codable {
        public var percent: Int
        public var customers: Int
        public var revenueShare: Double?
        public var profitShare: Double?
    }
    public struct Bin: Sendable, Hashable, Codable {
        public var fromMinor: Int64
        public var toMinor: Int64
        public var customers: Int
    }
    public struct ModelFigures: Sendable, Hashable, Codable {
        public var model: String
        public var parameters: [String: Double]
        public var standardErrors: [String: Double]
        public var logLikelihood: Double
        public var customers: Int
        public var converged: Bool
    }

    public var asOf: String
    public var currency: String
    public var customers: Int
    public var buyers: Int
    public var measure: ValueMeasure
    public var tiers: [TierFigures]
    public var valueLevels: [TierFigures]
    public var pareto: [ParetoPoint]
    public var revenueShareOfTop20Percent: Double?
    public var customersFor80PercentOfRevenue: Int?
    public var rfmSegments: [Count]
    /// Customers by recency score (rows, 5 first) and frequency score (columns, 1 first).
    public var rfmGrid: [[Int]]
    public var loyaltyStages: [Count]
    public var buyingTypes: [Count]
    public var trajectories: [Count]
    public var churnRisk: [Count]
    public var silentChurn: Int
    /// CLV in ten bins of equal customer count (deciles) over customers with a CLV.
    public var clvDistribution: [Bin]
    public var repeatModel: ModelFigures?
    public var spendModel: ModelFigures?
}

/// The whole customer-base analysis: tiers, loyalty, type, trajectory, RFM, the fitted
/// repeat-purchase and spend models, P(alive), CLV and churn risk, for every customer.
/// Pure: the server reads the summaries, calls this, and stores the result.
public struct CustomerBaseAnalysis: Sendable {
    public var customers: [CustomerAnalysis]
    public var dashboard: CustomerBaseDashboard

    /// - asOfDay: the day the analysis stands on (days since 1970-01-01).
    public init(_ inputs: [CustomerSummaryInput], asOfDay: Int, settings: AnalyticsSettings = AnalyticsSettings()) {
        // Purchases dated after the as-of day (orders booked ahead) count as made on it, so no
        // recency, tenure or age is negative.
        let inputs = inputs.map { c -> CustomerSummaryInput in
            var c = c
            c.firstPurchaseDay = c.firstPurchaseDay.map { min($0, asOfDay) }
            c.lastPurchaseDay = c.lastPurchaseDay.map { min($0, asOfDay) }
            return c
        }
        let n = inputs.count
        let buyers = inputs.indices.filter { inputs[$0].hasPurchased }

        // Value pyramid and Pareto over the window.
        let values = inputs.map { CustomerValueInput(id: $0.id, revenueMinor: $0.windowRevenueMinor, profitMinor: $0.windowProfitMinor) }
        // One ranking serves both when they rank by the same measure (they do by default).
        let ids = values.map(\.id)
        let pyramidOrder = Ranking.descending(values.map { $0.value(settings.pyramid.measure) }, ids: ids)
        let paretoOrder = settings.pyramid.measure == settings.measure
            ? pyramidOrder : Ranking.descending(values.map { $0.value(settings.measure) }, ids: ids)
        let pyramid = ValuePyramid(values, settings: settings.pyramid, order: pyramidOrder)
        let pareto = ParetoCurve(values, rankedBy: settings.measure, order: paretoOrder)

        // RFM among those who bought (recency and frequency mean nothing without a purchase).
        let rfm = RFM.score(buyers.map {
            RFMInput(id: inputs[$0].id, lastPurchaseDay: inputs[$0].lastPurchaseDay!, orderCount: inputs[$0].orderCount,
                     monetaryMinor: inputs[$0].revenueMinor)
        })
        var rfmOf = [RFMScore?](repeating: nil, count: n)
        for (k, i) in buyers.enumerated() { rfmOf[i] = rfm[k] }

        // Repeat-purchase and spend models, in weeks, on the buyers.
        let week = 7.0
        let histories = buyers.map { i -> PurchaseHistory in
            let c = inputs[i]
            let first = c.firstPurchaseDay!, last = c.lastPurchaseDay!
            let x = max(c.purchaseDays - 1, 0)
            // A customer who first bought today has age 0, which the models cannot take; an
            // hour of age keeps their predictions defined (P(alive) 1, few purchases expected).
            let age = max(Double(max(asOfDay - first, last - first)) / week, 1.0 / (7 * 24))
            return PurchaseHistory(repeatPurchases: x, recency: x == 0 ? 0 : min(Double(last - first) / week, age), age: age)
        }
        // The fit learns from customers who have been watched for at least a day; today's
        // newcomers add nothing to it (and one bad history must not cost everyone their P(alive)).
        let fitHistories = histories.filter { $0.age >= 1.0 / 7 }
        let spends = buyers.map { i -> SpendHistory in
            let x = max(inputs[i].purchaseDays - 1, 0)
            return SpendHistory(repeatPurchases: x, meanSpend: x == 0 ? 0 : max(Double(inputs[i].repeatRevenueMinor) / Double(x), 0))
        }
        let options = ModelFitOptions(penalty: settings.penalty)
        var repeatModel: (any RepeatPurchaseModel)?
        var repeatFigures: CustomerBaseDashboard.ModelFigures?
        if fitHistories.count >= 10, fitHistories.contains(where: { $0.repeatPurchases > 0 }) {
            switch settings.model {
            case .bgnbd:
                if let fit = try? BGNBD.fit(fitHistories, options: options) {
                    repeatModel = fit.model
                    repeatFigures = .init(model: "bgnbd", parameters: ["r": fit.model.r, "alpha": fit.model.alpha, "a": fit.model.a, "b": fit.model.b],
                                          standardErrors: Self.named(["r", "alpha", "a", "b"], fit.standardErrors),
                                          logLikelihood: fit.logLikelihood, customers: fitHistories.count, converged: fit.converged)
                }
            case .paretonbd:
                if let fit = try? ParetoNBD.fit(fitHistories, options: options) {
                    repeatModel = fit.model
                    repeatFigures = .init(model: "paretonbd", parameters: ["r": fit.model.r, "alpha": fit.model.alpha, "s": fit.model.s, "beta": fit.model.beta],
                                          standardErrors: Self.named(["r", "alpha", "s", "beta"], fit.standardErrors),
                                          logLikelihood: fit.logLikelihood, customers: fitHistories.count, converged: fit.converged)
                }
            }
        }
        var spendModel: GammaGamma?
        var spendFigures: CustomerBaseDashboard.ModelFigures?
        let repeatSpends = spends.filter { $0.repeatPurchases > 0 && $0.meanSpend > 0 }
        if repeatSpends.count >= 10, let fit = try? GammaGamma.fit(repeatSpends, options: options), fit.model.q > 1 {
            spendModel = fit.model
            spendFigures = .init(model: "gammagamma", parameters: ["p": fit.model.p, "q": fit.model.q, "gamma": fit.model.gamma],
                                 standardErrors: Self.named(["p", "q", "gamma"], fit.standardErrors),
                                 logLikelihood: fit.logLikelihood, customers: fit.customersUsed, converged: fit.converged)
        }

        // Per-buyer predictions, spread over the cores: CLV sums a forecast per month.
        let totalRevenue = inputs.reduce(Int64(0)) { $0 + $1.windowRevenueMinor }
        let totalProfit = inputs.reduce(Int64(0)) { $0 + $1.windowProfitMinor }
        let margin = settings.margin ?? (totalRevenue > 0 ? min(max(Double(totalProfit) / Double(totalRevenue), 0), 1) : 1)
        let clvSettings = CLVSettings(horizonPeriods: settings.clvMonths, periodLength: 365.25 / 12 / week,
                                      discountRatePerPeriod: settings.monthlyDiscountRate, margin: margin)
        let forecastWeeks = Double(settings.forecastDays) / week
        var predictions = [(expected: Double?, alive: Double?, clv: Int64?)](repeating: (nil, nil, nil), count: buyers.count)
        if let repeatModel {
            // Histories are whole days, so many customers share one: each distinct history is
            // forecast once (the expensive part, a series per month of the CLV horizon).
            var uniqueIndex: [PurchaseHistory: Int] = [:]
            var distinct: [PurchaseHistory] = []
            let slot = histories.map { h -> Int in
                if let i = uniqueIndex[h] { return i }
                uniqueIndex[h] = distinct.count
                distinct.append(h)
                return distinct.count - 1
            }
            let unique = distinct
            var forecasts = [(expected: Double?, alive: Double?, discounted: Double?)](repeating: (nil, nil, nil), count: unique.count)
            let chunks = max(1, min(64, unique.count / 2_000))
            forecasts.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let out = out // each chunk writes only its own disjoint range
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    for k in (unique.count * chunk / chunks)..<(unique.count * (chunk + 1) / chunks) {
                        let h = unique[k]
                        // A value the maths could not give (overflow, no convergence) is left out, not stored as NaN.
                        func finite(_ v: Double?) -> Double? { v.flatMap { $0.isFinite ? $0 : nil } }
                        out[k] = (finite(try? repeatModel.conditionalExpectedPurchases(within: forecastWeeks, given: h)),
                                  finite(try? repeatModel.probabilityAlive(h)),
                                  finite(try? CustomerLifetimeValue.discountedPurchases(history: h, purchases: repeatModel, settings: clvSettings)))
                    }
                }
            }
            for k in buyers.indices {
                let f = forecasts[slot[k]]
                var clv: Int64?
                if let spendModel, let discounted = f.discounted {
                    // CustomerLifetimeValue.value, with the shared purchase part.
                    let v = spendModel.conditionalExpectedSpend(spends[k]) * clvSettings.margin * discounted
                    clv = v.isFinite ? Int64(exactly: v.rounded()) : nil // nil beyond Int64 too
                }
                predictions[k] = (f.expected, f.alive, clv)
            }
        }
        var predictionOf = [(expected: Double?, alive: Double?, clv: Int64?)?](repeating: nil, count: n)
        for (k, i) in buyers.enumerated() { predictionOf[i] = predictions[k] }

        let trajectories = ValueTrajectory.classify(inputs.indices.map { i in
            TrajectoryInput(id: inputs[i].id, previousProfitMinor: inputs[i].previousWindowProfitMinor,
                            currentProfitMinor: inputs[i].windowProfitMinor, clvMinor: predictionOf[i]?.clv ?? 0)
        }, rules: settings.trajectory)

        // Each customer's result, in two halves side by side, straight into the result's storage.
        func analysis(_ i: Int) -> CustomerAnalysis {
            let c = inputs[i]
            let tier = pyramid.tiers[i]
            let stage = settings.loyalty.stage(of: LoyaltyInput(id: c.id, purchaseCount: c.orderCount, firstPurchaseDay: c.firstPurchaseDay,
                                                                lastPurchaseDay: c.lastPurchaseDay), asOfDay: asOfDay)
            let score = rfmOf[i]
            let prediction = predictionOf[i]
            var churn: ChurnAssessment?
            if c.hasPurchased {
                churn = settings.churn.assess(ChurnInput(id: c.id, probabilityAlive: prediction?.alive, purchaseCount: c.purchaseDays,
                                                         firstPurchaseDay: c.firstPurchaseDay!, lastPurchaseDay: c.lastPurchaseDay!,
                                                         complaints: c.complaints), asOfDay: asOfDay)
            }
            return CustomerAnalysis(
                id: c.id, tier: tier, valueLevel: tier.threeLevel, loyaltyStage: stage,
                buyingType: BuyingType.classify(spendMinor: c.revenueMinor, promotionSpendMinor: c.promotionRevenueMinor,
                                                threshold: settings.promotionShareThreshold),
                trajectory: trajectories[i], recencyScore: score?.recency, frequencyScore: score?.frequency,
                monetaryScore: score?.monetary, rfmSegment: score?.segment,
                expectedPurchases: prediction?.expected, probabilityAlive: prediction?.alive, clvMinor: prediction?.clv,
                churnRisk: churn?.level, silentChurn: churn?.silentChurn ?? false,
                windowRevenueMinor: c.windowRevenueMinor, windowProfitMinor: c.windowProfitMinor)
        }
        let results = [CustomerAnalysis](unsafeUninitializedCapacity: n) { buffer, count in
            func fill(_ range: Range<Int>) { for i in range { (buffer.baseAddress! + i).initialize(to: analysis(i)) } }
            _ = inParallel({ fill(0..<n / 2) }, { fill(n / 2..<n) })
            count = n
        }
        customers = results

        // The dashboard.
        func counts<K: RawRepresentable & CaseIterable & Hashable>(_ keys: [K?]) -> [CustomerBaseDashboard.Count] where K.RawValue == String {
            var tally: [K: Int] = [:]
            for k in keys { if let k { tally[k, default: 0] += 1 } }
            return K.allCases.map { .init(key: $0.rawValue, customers: tally[$0] ?? 0) }
        }
        var grid = Array(repeating: Array(repeating: 0, count: 5), count: 5)
        for s in rfm { grid[5 - s.recency][s.frequency - 1] += 1 }
        let clvs = results.compactMap(\.clvMinor).sorted()
        var bins: [CustomerBaseDashboard.Bin] = []
        if !clvs.isEmpty {
            let k = min(10, clvs.count)
            for b in 0..<k {
                let range = (clvs.count * b / k)..<(clvs.count * (b + 1) / k)
                bins.append(.init(fromMinor: clvs[range.lowerBound], toMinor: clvs[range.upperBound - 1], customers: range.count))
            }
        }
        let three = pyramid.threeLevelSummaries
        let totalProfitAll = three.reduce(Int64(0)) { $0 + $1.profitMinor }
        let totalRevenueAll = three.reduce(Int64(0)) { $0 + $1.revenueMinor }
        func share(_ part: Int64, _ whole: Int64) -> Double? { whole > 0 ? Double(part) / Double(whole) : nil }
        dashboard = CustomerBaseDashboard(
            asOf: CalendarDate(daysSinceEpoch: asOfDay).description, currency: settings.currency, customers: n, buyers: buyers.count,
            measure: settings.measure,
            tiers: pyramid.summaries.map { .init(tier: $0.tier.rawValue, customers: $0.count, revenueMinor: $0.revenueMinor,
                                                  profitMinor: $0.profitMinor, revenueShare: $0.revenueShare, profitShare: $0.profitShare) },
            valueLevels: three.map { .init(tier: $0.tier.rawValue, customers: $0.count, revenueMinor: $0.revenueMinor, profitMinor: $0.profitMinor,
                                           revenueShare: share($0.revenueMinor, totalRevenueAll), profitShare: share($0.profitMinor, totalProfitAll)) },
            pareto: pareto.points.map { .init(percent: $0.percent, customers: $0.customers, revenueShare: $0.revenueShare, profitShare: $0.profitShare) },
            revenueShareOfTop20Percent: pareto.share(ofTopPercent: 20, of: .revenue),
            customersFor80PercentOfRevenue: pareto.customersNeeded(forShare: 0.8, of: .revenue),
            rfmSegments: counts(rfmOf.map { $0?.segment }), rfmGrid: grid,
            loyaltyStages: counts(results.map(\.loyaltyStage)), buyingTypes: counts(results.map(\.buyingType)),
            trajectories: counts(results.map(\.trajectory)), churnRisk: counts(results.map(\.churnRisk)),
            silentChurn: results.count { $0.silentChurn }, clvDistribution: bins,
            repeatModel: repeatFigures, spendModel: spendFigures)
    }

    static func named(_ names: [String], _ values: [Double?]) -> [String: Double] {
        var out: [String: Double] = [:]
        for (name, v) in zip(names, values) { if let v, v.isFinite { out[name] = v } }
        return out
    }
}
