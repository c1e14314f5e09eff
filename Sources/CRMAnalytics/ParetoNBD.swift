import RealModule

/// Pareto/NBD model of repeat purchasing (Schmittlein, Morrison & Colombo 1987; likelihood and
/// expressions as in Fader & Hardie 2005, "A note on deriving the Pareto/NBD model and related
/// expressions"): while alive a customer buys at rate λ ~ Gamma(r, α); lifetimes are
/// exponential with rate μ ~ Gamma(s, β).
public struct ParetoNBD: Sendable, Equatable {
    public var r: Double
    public var alpha: Double
    public var s: Double
    public var beta: Double

    public init(r: Double, alpha: Double, s: Double, beta: Double) {
        self.r = r
        self.alpha = alpha
        self.s = s
        self.beta = beta
    }

    /// A fitted Pareto/NBD model (standard errors in the order r, α, s, β).
    public struct Fit: Sendable, Equatable {
        public var model: ParetoNBD
        public var logLikelihood: Double
        public var standardErrors: [Double?]
        public var iterations: Int
        public var evaluations: Int
        public var converged: Bool
    }

    // MARK: Likelihood

    /// G(t) = ∫ₜ^∞ (β+τ)^−(s+1) (α+τ)^−m dτ and the derivatives of log G in (m, s, α, β).
    ///
    /// Expanding the smaller base around the larger gives the ₂F₁ series of FH 2005 eq. (22):
    /// for α ≥ β, G = (α+t)^−(m+s) Σₙ (s+1)ₙ/n! zⁿ/(m+s+n) with z = (α−β)/(α+t) (this is
    /// ₂F₁(m+s, s+1; m+s+1; z)/(m+s)); for α < β the roles swap. All terms are positive, so
    /// the sum and its parameter derivatives are accumulated together without cancellation.
    static func logG(m: Double, s: Double, alpha: Double, beta: Double, t: Double) -> (value: Double, dm: Double, ds: Double, dAlpha: Double, dBeta: Double)? {
        let alphaLarger = alpha >= beta
        let base = alphaLarger ? alpha + t : beta + t
        let z = Swift.abs(alpha - beta) / base
        // Series parameter: (s+1) when expanding around α, m when expanding around β.
        let k = alphaLarger ? s + 1 : m
        let ms = m + s
        var u = 1.0            // kₙ zⁿ / n!
        var v = k              // n·u/z for n = 1 (kept separately so z = 0 works)
        var harmonic = 0.0     // Σ_{j<n} 1/(k+j) = d log (k)ₙ / dk
        var sum = 1 / ms
        var sumOwn = 0.0       // Σ cₙ·Hₙ (derivative through k)
        var sumMS = -1 / (ms * ms)  // Σ −cₙ/(m+s+n)
        var sumZ = 0.0         // Σ n·uₙ/z/(m+s+n)
        var n = 1.0
        while n < 1_000_000 {
            harmonic += 1 / (k + n - 1)
            u *= (k + n - 1) / n * z
            let denom = ms + n
            let c = u / denom
            sum += c
            sumOwn += c * harmonic
            sumMS -= c / denom
            sumZ += v / denom
            v *= (k + n) * z / n
            n += 1
            if c <= 1e-17 * sum && (k + n - 1) * z / n < 1 && v / (ms + n) <= 1e-17 * sumZ { break }
        }
        guard n < 1_000_000, sum > 0 else { return nil }
        let logBase = Double.log(base)
        let value = -ms * logBase + Double.log(sum)
        let dz = sumZ / sum
        if alphaLarger {
            return (value, -logBase + sumMS / sum, -logBase + (sumOwn + sumMS) / sum,
                    -ms / base + dz * (t + beta) / (base * base), -dz / base)
        } else {
            return (value, -logBase + (sumOwn + sumMS) / sum, -logBase + sumMS / sum,
                    -dz / base, -ms / base + dz * (t + alpha) / (base * base))
        }
    }

    /// Log-likelihood of one customer (FH 2005 eq. 19 in the integral form
    /// L = Γ(r+x)αʳβˢ/Γ(r) · [(α+T)^−(r+x)(β+T)^−s + s·∫_{tₓ}^T (β+τ)^−(s+1)(α+τ)^−(r+x) dτ])
    /// and its gradient in (r, α, s, β).
    static func customerLogLikelihood(_ th: (r: Double, alpha: Double, s: Double, beta: Double), _ h: PurchaseHistory, lgR: Double, psiR: Double) -> (Double, Double, Double, Double, Double)? {
        let (r, alpha, s, beta) = th
        let x = Double(h.repeatPurchases)
        let m = r + x
        let lAT = Double.log(alpha + h.age), lBT = Double.log(beta + h.age)
        let logE1 = -m * lAT - s * lBT
        let dE1 = (-lAT, -m / (alpha + h.age), -lBT, -s / (beta + h.age))
        var logSI = -Double.infinity
        var dSI = (0.0, 0.0, 0.0, 0.0)
        if h.recency < h.age {
            guard let g1 = logG(m: m, s: s, alpha: alpha, beta: beta, t: h.recency),
                  let g2 = logG(m: m, s: s, alpha: alpha, beta: beta, t: h.age) else { return nil }
            let q = Double.exp(g2.value - g1.value)
            if q < 1 {
                logSI = Double.log(s) + g1.value + Double.log(onePlus: -q)
                let f = 1 / (1 - q)
                dSI = ((g1.dm - q * g2.dm) * f, (g1.dAlpha - q * g2.dAlpha) * f,
                       1 / s + (g1.ds - q * g2.ds) * f, (g1.dBeta - q * g2.dBeta) * f)
            }
        }
        let k = SpecialFunctions.logSumExp(logE1, logSI)
        let wE = Double.exp(logE1 - k), wI = Double.exp(logSI - k)
        let value = Double.logGamma(m) - lgR + r * Double.log(alpha) + s * Double.log(beta) + k
        return (value,
                SpecialFunctions.digamma(m) - psiR + Double.log(alpha) + wE * dE1.0 + wI * dSI.0,
                r / alpha + wE * dE1.1 + wI * dSI.1,
                Double.log(beta) + wE * dE1.2 + wI * dSI.2,
                s / beta + wE * dE1.3 + wI * dSI.3)
    }

    /// Total log-likelihood and gradient in (r, α, s, β).
    public static func logLikelihood(_ p: [Double], histories: [PurchaseHistory]) -> (value: Double, gradient: [Double])? {
        guard p.count == 4, p.allSatisfy({ $0 > 0 && $0.isFinite }) else { return nil }
        let th = (r: p[0], alpha: p[1], s: p[2], beta: p[3])
        let lgR = Double.logGamma(th.r), psiR = SpecialFunctions.digamma(th.r)
        var total = (0.0, 0.0, 0.0, 0.0, 0.0)
        for h in histories {
            guard let c = customerLogLikelihood(th, h, lgR: lgR, psiR: psiR) else { return nil }
            total.0 += c.0; total.1 += c.1; total.2 += c.2; total.3 += c.3; total.4 += c.4
        }
        return (total.0, [total.1, total.2, total.3, total.4])
    }

    /// Maximum-likelihood fit (BFGS on log-parameters, analytic gradient).
    public static func fit(_ histories: [PurchaseHistory], options: ModelFitOptions = ModelFitOptions()) throws -> Fit {
        let sample = try BGNBD.Sample(histories)  // validation only
        guard sample.count > 0 else { throw ModelFitError.noCustomers }
        let bg = BGNBD.defaultStart(sample)
        let start = options.start ?? [bg[0], bg[1], 1, bg[1]]
        let outcome = ModelFitting.fit(start: start, count: histories.count, penalty: options.penalty, standardErrors: options.standardErrors) {
            logLikelihood($0, histories: histories)
        }
        let t = outcome.parameters
        return Fit(model: ParetoNBD(r: t[0], alpha: t[1], s: t[2], beta: t[3]), logLikelihood: outcome.logLikelihood,
                   standardErrors: outcome.standardErrors, iterations: outcome.iterations,
                   evaluations: outcome.evaluations, converged: outcome.converged)
    }

    // MARK: Predictions (FH 2005 closed forms with ₂F₁)

    /// P(alive | x, t_x, T) = 1 / (1 + s/(r+s+x) · (α+T)^(r+x) (β+T)^s · A₀) (FH 2005 eq. 18),
    /// A₀ from ₂F₁ (`SpecialFunctions.hypergeometric2F1`).
    public func probabilityAlive(_ h: PurchaseHistory) throws -> Double {
        let x = Double(h.repeatPurchases)
        let m = r + x, ms = r + s + x
        func logF(_ t: Double) throws -> Double {
            if alpha >= beta {
                let z = (alpha - beta) / (alpha + t)
                return Double.log(try SpecialFunctions.hypergeometric2F1(ms, s + 1, ms + 1, z)) - ms * Double.log(alpha + t)
            } else {
                let z = (beta - alpha) / (beta + t)
                return Double.log(try SpecialFunctions.hypergeometric2F1(ms, m, ms + 1, z)) - ms * Double.log(beta + t)
            }
        }
        guard h.recency < h.age else { return 1 }
        let l1 = try logF(h.recency), l2 = try logF(h.age)
        let logA0 = l1 + Double.log(onePlus: -Double.exp(l2 - l1))
        let logRatio = Double.log(s / ms) + m * Double.log(alpha + h.age) + s * Double.log(beta + h.age) + logA0
        return 1 / (1 + Double.exp(logRatio))
    }

    /// E[X(t)] for a customer just acquired: rβ/(α(s−1)) · [1 − (β/(β+t))^(s−1)] (FH 2005 eq. 17;
    /// the s = 1 limit is taken smoothly through expm1).
    public func expectedPurchases(within t: Double) -> Double {
        r / alpha * beta * Self.lapseIntegral(s: s, base: beta, t: t)
    }

    /// E[Y(t) | x, t_x, T] = (r+x)(β+T)/((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive)
    /// (FH 2005 eq. 20).
    public func conditionalExpectedPurchases(within t: Double, given h: PurchaseHistory) throws -> Double {
        let x = Double(h.repeatPurchases)
        return (r + x) / (alpha + h.age) * (beta + h.age) * Self.lapseIntegral(s: s, base: beta + h.age, t: t) * (try probabilityAlive(h))
    }

    /// [1 − (B/(B+t))^(s−1)]/(s−1), continuous at s = 1 (= log((B+t)/B)).
    static func lapseIntegral(s: Double, base: Double, t: Double) -> Double {
        let l = Double.log(onePlus: t / base)
        if Swift.abs(s - 1) < 1e-12 { return l }
        return -Double.expMinusOne(-(s - 1) * l) / (s - 1)
    }
}
