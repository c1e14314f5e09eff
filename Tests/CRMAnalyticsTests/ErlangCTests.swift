import Foundation
import Testing
import CRMAnalytics

/// Erlang C by its textbook formula with the finite sum, in logs:
/// C = (A^N/N! · N/(N−A)) / (Σ_{k<N} A^k/k! + A^N/N! · N/(N−A)).
func erlangCByFormula(agents n: Int, traffic a: Double) -> Double {
    func logTerm(_ k: Int) -> Double { Double(k) * log(a) - lgamma(Double(k) + 1) }
    let top = logTerm(n) + log(Double(n) / (Double(n) - a))
    let terms = (0..<n).map(logTerm) + [top]
    let m = terms.max()!
    let denominator = terms.reduce(0) { $0 + exp($1 - m) }
    return exp(top - m) / denominator
}

@Suite struct ErlangCTests {
    @Test func textbookExampleNeeds24Agents() {
        // 400 calls/h × 180 s = 20 erlangs; 80% within 20 s.
        let staffing = ErlangC.staff(callsPerHour: 400, handleSeconds: 180)

        #expect(staffing.agents == 24)
        let c = erlangCByFormula(agents: 24, traffic: 20)
        #expect(Swift.abs(staffing.performance.probabilityOfWaiting - c) < 1e-12)
        #expect(Swift.abs(staffing.performance.serviceLevel - (1 - c * exp(-4.0 * 20 / 180))) < 1e-12)
        #expect(Swift.abs(staffing.performance.averageSpeedOfAnswer - c * 180 / 4) < 1e-9)
        #expect(staffing.performance.occupancy == 20.0 / 24.0)
        // Published: SL ≈ 80.9%, ASA ≈ 13.4 s.
        #expect(Swift.abs(staffing.performance.serviceLevel - 0.809) < 0.0005)
        #expect(Swift.abs(staffing.performance.averageSpeedOfAnswer - 13.4) < 0.05)
        // 23 agents miss the target.
        let c23 = erlangCByFormula(agents: 23, traffic: 20)
        #expect(1 - c23 * exp(-3.0 * 20 / 180) < 0.8)
        #expect(ErlangC.performance(agents: 23, callsPerHour: 400, handleSeconds: 180, answerWithinSeconds: 20).serviceLevel < 0.8)
    }

    @Test func recursionMatchesFormulaOverARange() {
        for (n, a) in [(1, 0.5), (5, 3.2), (30, 25.0), (150, 140.0), (400, 380.5)] {
            #expect(Swift.abs(ErlangC.probabilityOfWaiting(agents: n, trafficErlangs: a) - erlangCByFormula(agents: n, traffic: a)) < 1e-10)
        }
        #expect(ErlangC.probabilityOfWaiting(agents: 20, trafficErlangs: 20) == 1)
    }

    @Test func shrinkageAndOccupancyCap() {
        let withShrinkage = ErlangC.staff(callsPerHour: 400, handleSeconds: 180, settings: .init(shrinkage: 0.3))
        #expect(withShrinkage.agents == 24)
        #expect(withShrinkage.scheduledAgents == 35)                    // ⌈24/0.7⌉ = ⌈34.29⌉
        // 20 erlangs with an 80% cap needs 25 agents even though 24 meet the service level.
        let capped = ErlangC.staff(callsPerHour: 400, handleSeconds: 180, settings: .init(shrinkage: 0.2, maxOccupancy: 0.8))
        #expect(capped.agents == 25)
        #expect(capped.scheduledAgents == 32)                           // 25/0.8 = 31.25
        // Exact division is not rounded up by floating-point noise: 21/0.7 = 30.
        let a = ErlangC.staff(callsPerHour: 100, handleSeconds: 180, settings: .init(shrinkage: 0.3))
        #expect(a.scheduledAgents == Int((Double(a.agents) / 0.7 - 1e-9).rounded(.up)))
    }

    @Test func dayForecastPerInterval() {
        let forecast = [
            ErlangC.IntervalForecast(start: "08:00", calls: 0, handleSeconds: 180),
            ErlangC.IntervalForecast(start: "08:30", calls: 200, handleSeconds: 180),   // 400/h
            ErlangC.IntervalForecast(start: "09:00", calls: 50, intervalSeconds: 900, handleSeconds: 180),  // 200/h
        ]
        let plan = ErlangC.staffDay(forecast)
        #expect(plan.map(\.staffing.agents) == [0, 24, ErlangC.staff(callsPerHour: 200, handleSeconds: 180).agents])
        #expect(plan[0].staffing.performance.serviceLevel == 1)
        #expect(plan[2].staffing.agents > 10 && plan[2].staffing.agents < 24)
    }
}
