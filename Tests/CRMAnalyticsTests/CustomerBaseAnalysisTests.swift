import Foundation
import Testing
@testable import CRMAnalytics

@Suite("The whole customer-base analysis")
struct CustomerBaseAnalysisTests {
    /// Customers simulated from known BG/NBD parameters, turned into the day-based summaries
    /// the server reads: the analysis must recover the parameters, so its time units are right.
    @Test func recoversTheModelFromDaySummaries() throws {
        let truth = BGNBD(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426)
        let histories = BGNBDSimulation(model: truth, seed: 7).histories(count: 20_000)
        let asOf = 20_000
        let inputs = histories.enumerated().map { i, h -> CustomerSummaryInput in
            let first = asOf - Int((h.age * 7).rounded())
            let last = first + Int((h.recency * 7).rounded())
            let spend = Int64(1_000 + (i % 7) * 500)
            return CustomerSummaryInput(id: Int64(i + 1), firstPurchaseDay: first, lastPurchaseDay: last, orderCount: h.repeatPurchases + 1,
                                        purchaseDays: h.repeatPurchases + 1, revenueMinor: spend * Int64(h.repeatPurchases + 1),
                                        profitMinor: spend * Int64(h.repeatPurchases + 1) / 3, repeatRevenueMinor: spend * Int64(h.repeatPurchases),
                                        windowRevenueMinor: spend, windowProfitMinor: spend / 3)
        }
        // Today's first-time buyers (age 0) must not stop the fit for everyone else.
        let newcomers = (1...5).map { CustomerSummaryInput(id: Int64(100_000 + $0), firstPurchaseDay: asOf, lastPurchaseDay: asOf, orderCount: 1,
                                                           purchaseDays: 1, revenueMinor: 100, profitMinor: 30, windowRevenueMinor: 100, windowProfitMinor: 30) }
        let analysis = CustomerBaseAnalysis(inputs + newcomers, asOfDay: asOf)
        let model = try #require(analysis.dashboard.repeatModel)
        #expect(model.model == "bgnbd" && model.customers == 20_000)
        #expect(analysis.customers.suffix(5).allSatisfy { $0.probabilityAlive == 1 && $0.expectedPurchases != nil })
        for (name, value) in [("r", truth.r), ("alpha", truth.alpha), ("a", truth.a), ("b", truth.b)] {
            let fitted = try #require(model.parameters[name])
            #expect(abs(fitted - value) / value < 0.25, "\(name): fitted \(fitted), true \(value)")
        }
        #expect(analysis.dashboard.spendModel != nil)
        // P(alive) and CLV for everyone who bought; one-time buyers' P(alive) is 1 under BG/NBD.
        #expect(analysis.customers.allSatisfy { $0.probabilityAlive.map { (0...1).contains($0) } ?? false })
        #expect(analysis.customers.allSatisfy { ($0.clvMinor ?? -1) >= 0 })
        // The shared-forecast CLV equals CustomerLifetimeValue.value customer by customer.
        let bg = BGNBD(r: model.parameters["r"]!, alpha: model.parameters["alpha"]!, a: model.parameters["a"]!, b: model.parameters["b"]!)
        let spend = try #require(analysis.dashboard.spendModel)
        let gg = GammaGamma(p: spend.parameters["p"]!, q: spend.parameters["q"]!, gamma: spend.parameters["gamma"]!)
        let margin = Double(inputs.reduce(0) { $0 + $1.windowProfitMinor } + 150) / Double(inputs.reduce(0) { $0 + $1.windowRevenueMinor } + 500)
        for i in stride(from: 0, to: 20_000, by: 997) {
            let c = inputs[i]
            let days = (first: c.firstPurchaseDay!, last: c.lastPurchaseDay!)
            let x = c.purchaseDays - 1
            let h = PurchaseHistory(repeatPurchases: x, recency: x == 0 ? 0 : Double(days.last - days.first) / 7, age: Double(asOf - days.first) / 7)
            let direct = try CustomerLifetimeValue.value(
                history: h, spend: SpendHistory(repeatPurchases: x, meanSpend: x == 0 ? 0 : Double(c.repeatRevenueMinor) / Double(x)),
                purchases: bg, spendModel: gg, settings: CLVSettings(horizonPeriods: 12, periodLength: 365.25 / 12 / 7, discountRatePerPeriod: 0.01, margin: margin))
            #expect(analysis.customers[i].clvMinor == Int64(direct.rounded()), "customer \(i)")
        }
        for (c, h) in zip(analysis.customers, histories) where h.repeatPurchases == 0 {
            #expect(c.probabilityAlive == 1)
        }
    }

    @Test func prospectsGetTheBottomAndNoScores() {
        let inputs = [
            CustomerSummaryInput(id: 1),
            CustomerSummaryInput(id: 2, firstPurchaseDay: 100, lastPurchaseDay: 100, orderCount: 1, purchaseDays: 1, revenueMinor: 500,
                                 profitMinor: 200, promotionRevenueMinor: 500, windowRevenueMinor: 500, windowProfitMinor: 200),
            CustomerSummaryInput(id: 3, firstPurchaseDay: 50, lastPurchaseDay: 150, orderCount: 3, purchaseDays: 3, revenueMinor: 900,
                                 profitMinor: 300, repeatRevenueMinor: 600, windowRevenueMinor: 900, windowProfitMinor: 300, previousWindowProfitMinor: 900),
        ]
        let analysis = CustomerBaseAnalysis(inputs, asOfDay: 160)
        let prospect = analysis.customers[0]
        #expect(prospect.tier == .lead && prospect.loyaltyStage == .potential && prospect.rfmSegment == nil && prospect.churnRisk == nil)
        #expect(prospect.buyingType == nil && prospect.trajectory == .unprofitable)
        #expect(analysis.customers[1].buyingType == .transactional && analysis.customers[2].buyingType == .relational)
        #expect(analysis.customers[2].tier == .platinum, "⌈3·1%⌉ = 1 platinum: the highest window profit")
        #expect(analysis.customers[2].trajectory == .profitableDeclining)
        #expect(analysis.dashboard.customers == 3 && analysis.dashboard.buyers == 2)
        #expect(analysis.dashboard.tiers.map(\.customers).reduce(0, +) == 3)
        #expect(analysis.dashboard.rfmGrid.flatMap { $0 }.reduce(0, +) == 2)
        #expect(analysis.dashboard.repeatModel == nil, "too few buyers to fit a model")
    }

    @Test func settingsProblemsNameTheField() {
        var s = AnalyticsSettings()
        #expect(s.problems().isEmpty)
        s.currency = "rmb"
        s.platinumMinimumMinor = 100
        #expect(s.problems().map(\.pointer) == ["/currency", "/ironMinimumMinor"])
        s = AnalyticsSettings()
        (s.platinumMinimumMinor, s.goldMinimumMinor, s.ironMinimumMinor) = (100, 500, 10)
        #expect(s.problems().map(\.pointer) == ["/goldMinimumMinor"])
        (s.platinumMinimumMinor, s.goldMinimumMinor, s.ironMinimumMinor) = (1_000, 500, 10)
        #expect(s.problems().isEmpty)
        if case .thresholds(let p, let g, let i) = s.pyramid.cutoffs { #expect([p, g, i] == [1_000, 500, 10]) } else { Issue.record("thresholds expected") }
    }
}


@Suite("Gamma-Gamma on a large base")
struct GammaGammaParallelTests {
    @Test func chunkedLikelihoodEqualsTheSerialSum() throws {
        let customers = (0..<60_000).map { SpendHistory(repeatPurchases: 1 + $0 % 9, meanSpend: 5 + Double(($0 * 7919) % 1000) / 10) }
        let theta = [6.25, 3.74, 15.44]
        let chunked = try #require(GammaGamma.logLikelihood(theta, customers: customers))
        let serial = GammaGamma.sum(customers[...], p: theta[0], q: theta[1], g: theta[2], lgQ: Double(lgamma(theta[1])),
                                    psiQ: SpecialFunctions.digamma(theta[1]), logG: Foundation.log(theta[2]))
        for (a, b) in zip([chunked.value] + chunked.gradient, [serial.0, serial.1, serial.2, serial.3]) {
            #expect(abs(a - b) <= 1e-9 * max(1, abs(b)))
        }
    }

    @Test func inParallelReturnsBothResultsInOrder() {
        let (sum, text) = inParallel({ (1...100_000).reduce(0, +) }, { (1...3).map(String.init).joined(separator: ",") })
        #expect(sum == 5_000_050_000 && text == "1,2,3")
        let (empty, value) = inParallel({ [Int]() }, { 7 })
        #expect(empty.isEmpty && value == 7)
    }
}
