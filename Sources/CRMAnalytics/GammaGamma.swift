import Foundation
import RealModule

/// A repeat buyer's spend summary for the Gamma-Gamma model: number of repeat purchases x and
/// the mean spend z̄ of those purchases (in currency units, e.g. yuan, not minor units).
public struct SpendHistory: Sendable, Hashable {
    public var repeatPurchases: Int
    public var meanSpend: Double
    public init(repeatPurchases: Int, meanSpend: Double) {
        self.repeatPurchases = repeatPurchases
        self.meanSpend = meanSpend
    }
}

/// Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee 2005, "RFM and CLV: using
/// iso-value curves"; Colombo & Jiang 1999): each purchase's value ~ Gamma(p, ν) and
/// ν ~ Gamma(q, γ) across customers. Fit on repeat buyers (x ≥ 1, z̄ > 0) only.
public struct GammaGamma: Sendable, Equatable {
    public var p: Double
    public var q: Double
    public var gamma: Double

    public init(p: Double, q: Double, gamma: Double) {
        self.p = p
        self.q = q
        self.gamma = gamma
    }

    /// A fitted Gamma-Gamma model (standard errors in the order p, q, γ).
    public struct Fit: Sendable, Equatable {
        public var model: GammaGamma
        public var logLikelihood: Double
        public var standardErrors: [Double?]
        public var customersUsed: Int
        public var iterations: Int
        public var converged: Bool
    }

    /// Log-likelihood of the mean spends and its gradient in (p, q, γ):
    /// ℓ = log Γ(px+q) − log Γ(px) − log Γ(q) + q log γ + (px−1) log z̄ + px log x − (px+q) log(γ + x z̄)
    /// (FHL 2005 "RFM and CLV", eq. 3 with z̄ = mean spend).
    public static func logLikelihood(_ theta: [Double], customers: [SpendHistory]) -> (value: Double, gradient: [Double])? {
        let p = theta[0], q = theta[1], g = theta[2]
        guard p > 0, q > 0, g > 0 else { return nil }
        let lgQ = Double.logGamma(q), psiQ = SpecialFunctions.digamma(q), logG = Double.log(g)
        // Large customer bases are summed in chunks over the cores; the chunks are fixed by
        // the count and added in order, so the result does not depend on scheduling.
        let chunks = customers.count >= 50_000 ? min(64, customers.count / 10_000) : 1
        if chunks > 1 {
            var partial = [(Double, Double, Double, Double)](repeating: (0, 0, 0, 0), count: chunks)
            partial.withUnsafeMutableBufferPointer { out in
                nonisolated(unsafe) let out = out // each chunk writes only its own slot
                DispatchQueue.concurrentPerform(iterations: chunks) { k in
                    let range = (customers.count * k / chunks)..<(customers.count * (k + 1) / chunks)
                    out[k] = sum(customers[range], p: p, q: q, g: g, lgQ: lgQ, psiQ: psiQ, logG: logG)
                }
            }
            let total = partial.reduce((0.0, 0.0, 0.0, 0.0)) { ($0.0 + $1.0, $0.1 + $1.1, $0.2 + $1.2, $0.3 + $1.3) }
            return (total.0, [total.1, total.2, total.3])
        }
        let total = sum(customers[...], p: p, q: q, g: g, lgQ: lgQ, psiQ: psiQ, logG: logG)
        return (total.0, [total.1, total.2, total.3])
    }

    static func sum(_ customers: ArraySlice<SpendHistory>, p: Double, q: Double, g: Double, lgQ: Double, psiQ: Double,
                    logG: Double) -> (Double, Double, Double, Double) {
        var value = 0.0, gp = 0.0, gq = 0.0, gg = 0.0
        for c in customers {
            let x = Double(c.repeatPurchases), z = c.meanSpend
            let px = p * x
            let logXZ = Double.log(g + x * z)
            value += Double.logGamma(px + q) - Double.logGamma(px) - lgQ + q * logG + (px - 1) * Double.log(z) + px * Double.log(x) - (px + q) * logXZ
            let psiPXQ = SpecialFunctions.digamma(px + q)
            gp += x * (psiPXQ - SpecialFunctions.digamma(px) + Double.log(z) + Double.log(x) - logXZ)
            gq += psiPXQ - psiQ + logG - logXZ
            gg += q / g - (px + q) / (g + x * z)
        }
        return (value, gp, gq, gg)
    }

    /// Maximum-likelihood fit; customers with x = 0 or z̄ ≤ 0 are skipped (the model is for
    /// positive spend of repeat buyers).
    public static func fit(_ customers: [SpendHistory], options: ModelFitOptions = ModelFitOptions()) throws -> Fit {
        let used = customers.filter { $0.repeatPurchases > 0 && $0.meanSpend > 0 && $0.meanSpend.isFinite }
        guard !used.isEmpty else { throw ModelFitError.noCustomers }
        let start = options.start ?? [1, 1, 1]
        let outcome = ModelFitting.fit(start: start, count: used.count, penalty: options.penalty, standardErrors: options.standardErrors) {
            logLikelihood($0, customers: used)
        }
        let t = outcome.parameters
        return Fit(model: GammaGamma(p: t[0], q: t[1], gamma: t[2]), logLikelihood: outcome.logLikelihood,
                   standardErrors: outcome.standardErrors, customersUsed: used.count,
                   iterations: outcome.iterations, converged: outcome.converged)
    }

    /// E[M | p, q, γ, x, z̄]: expected spend per purchase given the history (FHL 2005 eq. 5):
    /// (γ + x z̄)·p / (p x + q − 1); for x = 0 the population mean p γ / (q − 1). Needs q > 1.
    public func conditionalExpectedSpend(_ h: SpendHistory) -> Double {
        let x = Double(h.repeatPurchases)
        let z = h.repeatPurchases > 0 ? h.meanSpend : 0
        return (gamma + x * z) * p / (p * x + q - 1)
    }

    /// Population mean spend per purchase p γ / (q − 1) (q > 1).
    public var meanSpend: Double { p * gamma / (q - 1) }
}
