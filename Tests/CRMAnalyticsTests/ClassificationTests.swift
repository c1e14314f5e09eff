import Testing
import CRMAnalytics

@Suite struct LoyaltyAndClassificationTests {
    let today = 10_000
    let rules = LoyaltyRules()

    func stage(_ count: Int, firstAgo: Int, lastAgo: Int) -> LoyaltyStage {
        rules.stage(of: LoyaltyInput(id: 1, purchaseCount: count, firstPurchaseDay: today - firstAgo, lastPurchaseDay: today - lastAgo), asOfDay: today)
    }

    @Test func ladderRules() {
        #expect(rules.stage(of: LoyaltyInput(id: 1, purchaseCount: 0, firstPurchaseDay: nil, lastPurchaseDay: nil), asOfDay: today) == .potential)
        #expect(stage(1, firstAgo: 3, lastAgo: 3) == .new)
        #expect(stage(2, firstAgo: 40, lastAgo: 3) == .repeat)
        #expect(stage(4, firstAgo: 365, lastAgo: 180) == .longStanding)   // boundaries inclusive
        #expect(stage(4, firstAgo: 364, lastAgo: 10) == .repeat)          // tenure one day short
        #expect(stage(8, firstAgo: 730, lastAgo: 30) == .loyal)
        #expect(stage(8, firstAgo: 730, lastAgo: 181) == .repeat)         // lapsed: off the upper rungs
        #expect(stage(7, firstAgo: 900, lastAgo: 30) == .longStanding)
        var strict = LoyaltyRules()
        strict.loyalMinPurchases = 20
        #expect(strict.stage(of: LoyaltyInput(id: 1, purchaseCount: 8, firstPurchaseDay: today - 800, lastPurchaseDay: today), asOfDay: today) == .longStanding)
        #expect(LoyaltyStage.potential < LoyaltyStage.loyal)
        #expect(ExchangeStatus(purchaseCount: 0) == .potential && ExchangeStatus(purchaseCount: 2) == .actual)
    }

    @Test func actualVersusPotentialUsesGroupNinetiethPercentile() {
        // Group A spends 100…1000 (10 customers): nearest-rank P90 = 9th smallest = 900.
        var inputs = (1...10).map { SpendInput(id: Int64($0), group: "A", spendMinor: Int64($0) * 100) }
        inputs.append(SpendInput(id: 99, group: "B", spendMinor: 0))
        let result = SpendPotentialAnalysis.actualVersusPotential(inputs)
        #expect(result[0].potentialMinor == 900)
        #expect(result[0].gapMinor == 800)
        #expect(result[0].shareOfPotential == 100.0 / 900.0)
        #expect(result[9].gapMinor == 0)
        #expect(result[9].shareOfPotential == 1000.0 / 900.0)
        #expect(result[10].potentialMinor == 0 && result[10].shareOfPotential == nil)
    }

    @Test func buyingTypeFromPromotionShare() {
        #expect(BuyingType.classify(spendMinor: 1000, promotionSpendMinor: 500) == .transactional)   // exactly 0.5
        #expect(BuyingType.classify(spendMinor: 1000, promotionSpendMinor: 499) == .relational)
        #expect(BuyingType.classify(spendMinor: 1000, promotionSpendMinor: 300, threshold: 0.3) == .transactional)
        #expect(BuyingType.classify(spendMinor: 0, promotionSpendMinor: 0) == nil)
        #expect(BuyingType.classify(spendMinor: -50, promotionSpendMinor: 10) == nil)
    }

    @Test func valueTrajectoryRules() {
        // Ten customers; ids 1…10 with current profit 1000, 900, … 100.
        var inputs: [TrajectoryInput] = (1...10).map { (k: Int) -> TrajectoryInput in
            let profit = Int64(11 - k) * 100
            return TrajectoryInput(id: Int64(k), previousProfitMinor: profit, currentProfitMinor: profit, clvMinor: Int64(k) * 10)
        }
        inputs[1].previousProfitMinor = 1001          // id 2: 900 now vs 1001 → fell > 10%
        inputs[2].previousProfitMinor = 888           // id 3: 800 vs 888 → fell < 10% → not declining
        inputs.append(TrajectoryInput(id: 11, previousProfitMinor: 50, currentProfitMinor: -5, clvMinor: 0))
        inputs.append(TrajectoryInput(id: 12, previousProfitMinor: 0, currentProfitMinor: 0, clvMinor: 5_000))
        let result = ValueTrajectory.classify(inputs)
        // 12 customers: top 20% = ⌈2.4⌉ = 3 by profit (ids 1, 2, 3) and by CLV (ids 12, 10, 9).
        #expect(result[0] == .topProfitNow)
        #expect(result[1] == .profitableDeclining)
        #expect(result[2] == .topProfitNow)
        #expect(result[3] == .ordinary)
        #expect(result[8] == .growthPotential)
        #expect(result[9] == .growthPotential)
        #expect(result[10] == .unprofitable)
        #expect(result[11] == .growthPotential)
        #expect(ValueTrajectory.classify([]).isEmpty)
    }
}

@Suite struct ChurnRiskTests {
    let rules = ChurnRules()

    @Test func levelsFromProbabilityAliveAndCycleLapse() {
        // Bought 5 times over 120 days → a 30-day cycle.
        let regular = ChurnInput(id: 1, probabilityAlive: 0.9, purchaseCount: 5, firstPurchaseDay: 0, lastPurchaseDay: 120)
        #expect(regular.meanInterPurchaseDays == 30)
        #expect(rules.assess(regular, asOfDay: 140).level == .low)              // lapse 0.67
        #expect(rules.assess(regular, asOfDay: 165).level == .medium)           // lapse 1.5
        #expect(rules.assess(regular, asOfDay: 210).level == .high)             // lapse 3
        var doubtful = regular
        doubtful.probabilityAlive = 0.5
        #expect(rules.assess(doubtful, asOfDay: 121).level == .medium)
        doubtful.probabilityAlive = 0.2
        #expect(rules.assess(doubtful, asOfDay: 121).level == .high)
        // One purchase and no model: nothing to judge.
        let once = ChurnInput(id: 2, probabilityAlive: nil, purchaseCount: 1, firstPurchaseDay: 0, lastPurchaseDay: 0)
        #expect(once.meanInterPurchaseDays == nil)
        #expect(rules.assess(once, asOfDay: 900).level == .low)
    }

    @Test func silentChurnIsALapsedRegularWhoNeverComplained() {
        let regular = ChurnInput(id: 1, probabilityAlive: 0.8, purchaseCount: 5, firstPurchaseDay: 0, lastPurchaseDay: 120)
        let lapsed = rules.assess(regular, asOfDay: 180)                           // lapse 2
        #expect(lapsed.silentChurn)
        #expect(lapsed.cycleLapse == 2)
        #expect(!rules.assess(regular, asOfDay: 179).silentChurn)
        var voiced = regular
        voiced.complaints = 1
        #expect(!rules.assess(voiced, asOfDay: 200).silentChurn)                  // voiced, not silent
        let occasional = ChurnInput(id: 3, probabilityAlive: 0.8, purchaseCount: 3, firstPurchaseDay: 0, lastPurchaseDay: 60)
        #expect(!rules.assess(occasional, asOfDay: 300).silentChurn)              // never regular
    }
}
