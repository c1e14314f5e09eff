import Foundation
import Testing
import CRMAnalytics

/// Published estimates on CDNOW (see Fixtures/README in ../shared/reference/cdnow) and
/// predictions checked against independent numerical integration.
@Suite struct CustomerBaseModelTests {
    // MARK: Fits against the published tables

    @Test func bgnbdFitReproducesPublishedCDNOWEstimates() throws {
        // setup
        let histories = try Fixtures.cdnowHistories()
        #expect(histories.count == 2357)

        // act
        let fit = try BGNBD.fit(histories)

        // check: FHL 2005 Table: r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4
        #expect(fit.converged)
        #expect(Swift.abs(fit.model.r - 0.243) < 0.0005)
        #expect(Swift.abs(fit.model.alpha - 4.414) < 0.0005)
        #expect(Swift.abs(fit.model.a - 0.793) < 0.0005)
        #expect(Swift.abs(fit.model.b - 2.426) < 0.0005)
        #expect(Swift.abs(fit.logLikelihood - -9582.4) < 0.05)
        #expect(fit.standardErrors.allSatisfy { ($0 ?? 0) > 0 })
    }

    @Test func paretoNBDFitReproducesPublishedCDNOWEstimates() throws {
        let histories = try Fixtures.cdnowHistories()

        let fit = try ParetoNBD.fit(histories)

        // r = 0.55, α = 10.58, s = 0.61, β = 11.67, LL about −9595.0
        #expect(fit.converged)
        #expect(Swift.abs(fit.model.r - 0.55) < 0.005)
        #expect(Swift.abs(fit.model.alpha - 10.58) < 0.005)
        #expect(Swift.abs(fit.model.s - 0.61) < 0.005)
        #expect(Swift.abs(fit.model.beta - 11.67) < 0.005)
        #expect(Swift.abs(fit.logLikelihood - -9595.0) < 0.05)
    }

    @Test func gammaGammaFitReproducesPublishedCDNOWEstimates() throws {
        let spend = try Fixtures.cdnowSpend()

        let fit = try GammaGamma.fit(spend)

        // p = 6.25, q = 3.74, γ = 15.44 on the 946 repeat buyers. The fixture's z̄ is rounded
        // to cents, which moves γ to 15.448; allow 0.01 on γ only.
        #expect(fit.customersUsed == 946)
        #expect(Swift.abs(fit.model.p - 6.25) < 0.005)
        #expect(Swift.abs(fit.model.q - 3.74) < 0.005)
        #expect(Swift.abs(fit.model.gamma - 15.44) < 0.01)
    }

    @Test func bgnbdGradientMatchesFiniteDifferences() throws {
        let sample = try BGNBD.Sample(Fixtures.cdnowHistories())
        let p = [0.3, 5.0, 0.9, 2.0]

        let analytic = try #require(BGNBD.logLikelihood(p, data: sample, parallelism: 2))
        let sequential = try #require(BGNBD.logLikelihood(p, data: sample, parallelism: 1))

        #expect(relativeError(analytic.value, sequential.value) < 1e-12)
        for i in 0..<4 {
            let h = 1e-6 * p[i]
            var up = p, down = p
            up[i] += h
            down[i] -= h
            let fd = (BGNBD.logLikelihood(up, data: sample)!.value - BGNBD.logLikelihood(down, data: sample)!.value) / (2 * h)
            #expect(relativeError(analytic.gradient[i], fd) < 1e-5, "component \(i)")
        }
    }

    @Test func paretoNBDLogLikelihoodMatchesQuadratureOfTheIntegralForm() throws {
        // The series/₂F₁ likelihood against the defining integral over the death time τ.
        let histories = try Fixtures.cdnowHistories()
        let (r, alpha, s, beta) = (0.55, 10.58, 0.61, 11.67)

        let ll = try #require(ParetoNBD.logLikelihood([r, alpha, s, beta], histories: histories)).value

        var reference = 0.0
        for h in histories {
            let m = r + Double(h.repeatPurchases)
            let logE1 = -m * log(alpha + h.age) - s * log(beta + h.age)
            let ratio = h.recency < h.age ? s * Quadrature.tanhSinh(h.recency, h.age) { tau in
                exp(-(s + 1) * log(beta + tau) - m * log(alpha + tau) - logE1)
            } : 0
            reference += lgamma(m) - lgamma(r) + r * log(alpha) + s * log(beta) + logE1 + log1p(ratio)
        }
        #expect(relativeError(ll, reference) < 1e-9)
        // And the gradient is the gradient of that likelihood.
        let analytic = try #require(ParetoNBD.logLikelihood([r, alpha, s, beta], histories: histories)).gradient
        let p = [r, alpha, s, beta]
        for i in 0..<4 {
            let h = 1e-6 * p[i]
            var up = p, down = p
            up[i] += h
            down[i] -= h
            let fd = (ParetoNBD.logLikelihood(up, histories: histories)!.value - ParetoNBD.logLikelihood(down, histories: histories)!.value) / (2 * h)
            #expect(Swift.abs(analytic[i] - fd) < 1e-5 * Swift.max(1, Swift.abs(fd)), "component \(i)")
        }
    }

    // MARK: Predictions against independent integration

    /// A few CDNOW-like histories including x = 0, a heavy buyer and a lapsed one.
    static let histories: [PurchaseHistory] = [
        PurchaseHistory(repeatPurchases: 0, recency: 0, age: 38.86),
        PurchaseHistory(repeatPurchases: 2, recency: 30.43, age: 38.86),
        PurchaseHistory(repeatPurchases: 1, recency: 1.71, age: 38.86),
        PurchaseHistory(repeatPurchases: 7, recency: 29.43, age: 35.0),
        PurchaseHistory(repeatPurchases: 21, recency: 37.0, age: 37.5),
        PurchaseHistory(repeatPurchases: 4, recency: 2.0, age: 32.0),
    ]

    /// P(alive) by Bayes' rule with each marginal integral done numerically.
    static func bgnbdAliveByIntegration(_ m: BGNBD, _ h: PurchaseHistory) -> Double {
        let x = Double(h.repeatPurchases)
        func lambdaPart(_ t: Double) -> Double {
            Quadrature.halfLine { l in
                l == 0 ? 0 : exp(x * log(l) - l * t) * Quadrature.gammaDensity(l, shape: m.r, rate: m.alpha)
            }
        }
        let alive = lambdaPart(h.age) * Quadrature.tanhSinh(0, 1) { p in pow(1 - p, x) * Quadrature.betaDensity(p, m.a, m.b) }
        guard h.repeatPurchases > 0 else { return 1 }
        let dead = lambdaPart(h.recency) * Quadrature.tanhSinh(0, 1) { p in p * pow(1 - p, x - 1) * Quadrature.betaDensity(p, m.a, m.b) }
        return alive / (alive + dead)
    }

    @Test func bgnbdProbabilityAliveMatchesNumericalBayes() {
        let model = BGNBD(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426)
        for h in Self.histories {
            let closed = model.probabilityAlive(h)
            let integrated = Self.bgnbdAliveByIntegration(model, h)
            #expect(relativeError(closed, integrated) < 1e-6, "\(h)")
        }
    }

    @Test(arguments: [1.0, 39.0, 52.0, 1000.0])
    func bgnbdConditionalExpectationMatchesIntegralOverDropoutProbability(t: Double) throws {
        // Given alive: λ ~ Gamma(r+x, α+T), p ~ Beta(a, b+x); E[Y(t) | λ, p] = (1 − e^{−λpt})/p.
        // Long horizons (t = 1000) drive the ₂F₁ argument near 1 (the 1 − z transformation).
        let model = BGNBD(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426)
        for h in Self.histories {
            let x = Double(h.repeatPurchases)
            let closed = try model.conditionalExpectedPurchases(within: t, given: h)
            let alive = Self.bgnbdAliveByIntegration(model, h)
            let given = Quadrature.tanhSinh(0, 1) { p in
                -expm1((model.r + x) * log((model.alpha + h.age) / (model.alpha + h.age + p * t))) / p
                    * Quadrature.betaDensity(p, model.a, model.b + x)
            }
            #expect(relativeError(closed, alive * given) < 1e-6, "t=\(t) \(h)")
        }
    }

    @Test func bgnbdUnconditionalExpectationMatchesIntegral() throws {
        let model = BGNBD(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426)
        for t in [5.0, 39.0, 78.0, 500.0] {
            let closed = try model.expectedPurchases(within: t)
            let integrated = Quadrature.tanhSinh(0, 1) { p in
                -expm1(model.r * log(model.alpha / (model.alpha + p * t))) / p * Quadrature.betaDensity(p, model.a, model.b)
            }
            #expect(relativeError(closed, integrated) < 1e-6, "t=\(t)")
        }
    }

    /// Pareto/NBD P(alive) from the integral over the death time.
    static func paretoAliveByIntegration(_ m: ParetoNBD, _ h: PurchaseHistory) -> Double {
        let mm = m.r + Double(h.repeatPurchases)
        let logE1 = -mm * log(m.alpha + h.age) - m.s * log(m.beta + h.age)
        let ratio = m.s * Quadrature.tanhSinh(h.recency, h.age) { tau in
            exp(-(m.s + 1) * log(m.beta + tau) - mm * log(m.alpha + tau) - logE1)
        }
        return 1 / (1 + ratio)
    }

    @Test(arguments: [
        ParetoNBD(r: 0.55, alpha: 10.58, s: 0.61, beta: 11.67),   // α < β (CDNOW)
        ParetoNBD(r: 0.55, alpha: 12.0, s: 0.61, beta: 4.0),      // α > β, moderate z
        ParetoNBD(r: 0.4, alpha: 60.0, s: 1.3, beta: 0.5),        // α ≫ β: z near 1
    ])
    func paretoProbabilityAliveAndExpectationMatchIntegration(model: ParetoNBD) throws {
        for h in Self.histories {
            let alive = try model.probabilityAlive(h)
            let reference = Self.paretoAliveByIntegration(model, h)
            #expect(relativeError(alive, reference) < 1e-6, "\(model) \(h)")

            // Given alive: λ ~ Gamma(r+x, α+T), μ ~ Gamma(s, β+T); E[Y(t)|λ,μ] = λ(1 − e^{−μt})/μ.
            let t = 52.0
            let expected = try model.conditionalExpectedPurchases(within: t, given: h)
            let muPart = Quadrature.halfLine { mu in
                mu == 0 ? 0 : -expm1(-mu * t) / mu * Quadrature.gammaDensity(mu, shape: model.s, rate: model.beta + h.age)
            }
            let integrated = reference * (model.r + Double(h.repeatPurchases)) / (model.alpha + h.age) * muPart
            #expect(relativeError(expected, integrated) < 1e-6, "\(model) \(h)")
        }
    }

    @Test func gammaGammaConditionalSpendMatchesPosteriorIntegral() {
        let model = GammaGamma(p: 6.25, q: 3.74, gamma: 15.44)
        for h in [SpendHistory(repeatPurchases: 1, meanSpend: 11.77), SpendHistory(repeatPurchases: 6, meanSpend: 40.0), SpendHistory(repeatPurchases: 0, meanSpend: 0)] {
            let x = Double(h.repeatPurchases)
            let closed = model.conditionalExpectedSpend(h)
            // ν | data ~ Gamma(p x + q, γ + x z̄); E[M | ν] = p/ν.
            let integrated = Quadrature.halfLine { nu in
                nu == 0 ? 0 : model.p / nu * Quadrature.gammaDensity(nu, shape: model.p * x + model.q, rate: model.gamma + x * h.meanSpend)
            }
            #expect(relativeError(closed, integrated) < 1e-6, "\(h)")
        }
    }

    // MARK: ₂F₁

    @Test(arguments: [
        (0.8, 1.7, 3.1, 0.3), (2.5, 1.61, 3.5, 0.95), (10.2, 3.0, 11.2, 0.999),
        (0.7, 1.4, 2.3, -0.6), (3.0, 0.5, 4.0, -5.0), (1.0, 1.2, 2.2, 0.97),
    ])
    func hypergeometricMatchesEulerIntegral(a: Double, b: Double, c: Double, z: Double) throws {
        // Euler: ₂F₁ = Γ(c)/(Γ(b)Γ(c−b)) ∫₀¹ t^(b−1)(1−t)^(c−b−1)(1−zt)^(−a) dt, c > b > 0.
        let value = try SpecialFunctions.hypergeometric2F1(a, b, c, z)
        let integral = Quadrature.tanhSinh(0, 1) { t in
            exp((b - 1) * log(t) + (c - b - 1) * log1p(-t) - a * log1p(-z * t))
        } * exp(lgamma(c) - lgamma(b) - lgamma(c - b))
        #expect(relativeError(value, integral) < 1e-8)
    }

    @Test func hypergeometricClosedForms() throws {
        for z in [-0.9, 0.1, 0.5, 0.93, 0.9999] {
            // ₂F₁(1, 1; 2; z) = −log(1 − z)/z
            #expect(relativeError(try SpecialFunctions.hypergeometric2F1(1, 1, 2, z), -log1p(-z) / z) < 1e-9)
            // ₂F₁(a, b; b; z) = (1 − z)^(−a)
            #expect(relativeError(try SpecialFunctions.hypergeometric2F1(0.7, 2.3, 2.3, z), pow(1 - z, -0.7)) < 1e-9)
        }
    }

    @Test func hypergeometricNearIntegerExponentCloseToOne() throws {
        // c − a − b = 0 and z beyond the direct-series range: the averaged transformation.
        for z in [0.99999, 0.9999999] {
            #expect(relativeError(try SpecialFunctions.hypergeometric2F1(1, 1, 2, z), -log1p(-z) / z) < 1e-8)
        }
        // c − a − b = −1 (integer): ₂F₁(1, 2; 2; z) = 1/(1 − z).
        #expect(relativeError(try SpecialFunctions.hypergeometric2F1(1, 2, 2, 0.99999), 1 / (1 - 0.99999)) < 1e-8)
        #expect(throws: SpecialFunctions.Failure.self) { try SpecialFunctions.hypergeometric2F1(1, 1, 2, 1) }
    }

    @Test func digammaMatchesDifferenceOfLogGamma() {
        for x in [0.05, 0.5, 1.0, 2.5, 7.0, 40.0] {
            let h = 1e-5 * x
            let fd = (lgamma(x + h) - lgamma(x - h)) / (2 * h)
            #expect(Swift.abs(SpecialFunctions.digamma(x) - fd) < 1e-7 * Swift.max(1, Swift.abs(fd)))
        }
        #expect(Swift.abs(SpecialFunctions.digamma(1) - -0.5772156649015329) < 1e-14)
    }

    // MARK: Simulation

    @Test func simulationIsRepeatableAndTheFitRecoversTheTruth() throws {
        let truth = BGNBD(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426)
        let simulation = BGNBDSimulation(model: truth, seed: 42)

        let first = simulation.histories(count: 200_000)
        let again = simulation.histories(count: 200_000)
        let fit = try BGNBD.fit(first)

        #expect(first == again)
        #expect(first.allSatisfy { $0.age >= 27 && $0.age <= 39 && $0.recency <= $0.age })
        #expect(relativeError(fit.model.r, truth.r) < 0.05)
        #expect(relativeError(fit.model.alpha, truth.alpha) < 0.05)
        #expect(relativeError(fit.model.a, truth.a) < 0.10)
        #expect(relativeError(fit.model.b, truth.b) < 0.10)
    }

    @Test func fittingNoCustomersIsAnError() {
        #expect(throws: ModelFitError.noCustomers) { try BGNBD.fit([]) }
        #expect(throws: ModelFitError.noCustomers) { try GammaGamma.fit([SpendHistory(repeatPurchases: 0, meanSpend: 0)]) }
        #expect(throws: ModelFitError.self) { try BGNBD.fit([PurchaseHistory(repeatPurchases: 1, recency: 5, age: 4)]) }
    }

    @Test func penaltyShrinksParameters() throws {
        let histories = try Fixtures.cdnowHistories()
        let plain = try BGNBD.fit(histories)
        let penalised = try BGNBD.fit(histories, options: ModelFitOptions(penalty: 100))
        #expect(penalised.model.alpha < plain.model.alpha)
        #expect(penalised.logLikelihood < plain.logLikelihood)
    }
}
