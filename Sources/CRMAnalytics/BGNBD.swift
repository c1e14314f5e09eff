import Foundation
import RealModule

/// One customer's repeat-purchase history in the form the customer-base models use
/// (Fader, Hardie & Lee 2005): `repeatPurchases` x (purchases after the first),
/// `recency` t_x (time of the last purchase, measured from the first; 0 when x = 0) and
/// `age` T (time from the first purchase to the end of the observation window), all in one
/// time unit (weeks for CDNOW, days in the CRM).
public struct PurchaseHistory: Sendable, Hashable {
    public var repeatPurchases: Int
    public var recency: Double
    public var age: Double
    public init(repeatPurchases: Int, recency: Double, age: Double) {
        self.repeatPurchases = repeatPurchases
        self.recency = recency
        self.age = age
    }
}

/// Errors from fitting a model.
public enum ModelFitError: Error, Sendable, Equatable {
    case noCustomers
    case invalidHistory(index: Int, reason: String)
    case didNotConverge(iterations: Int)
}

/// Options shared by the maximum-likelihood fits.
public struct ModelFitOptions: Sendable, Equatable {
    /// L2 penalty λ: the objective is −LL + λ·Σθᵢ² on the natural parameters (0 = plain MLE).
    public var penalty: Double = 0
    /// Starting values (natural parameters); nil = the model's default start.
    public var start: [Double]? = nil
    /// Worker count for the log-likelihood sum (≥ 1; default: active processors, capped at 8).
    public var parallelism: Int = BGNBD.defaultParallelism
    /// Compute standard errors (a numerical Hessian: 2·n extra gradient evaluations).
    public var standardErrors: Bool = true
    public init(penalty: Double = 0, start: [Double]? = nil) {
        self.penalty = penalty
        self.start = start
    }
}

/// BG/NBD ("beta-geometric / negative binomial distribution") model of repeat purchasing
/// (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a customer
/// buys as a Poisson process with rate λ ~ Gamma(r, α); after each purchase they drop out with
/// probability p ~ Beta(a, b).
public struct BGNBD: Sendable, Equatable {
    public var r: Double
    public var alpha: Double
    public var a: Double
    public var b: Double

    public init(r: Double, alpha: Double, a: Double, b: Double) {
        self.r = r
        self.alpha = alpha
        self.a = a
        self.b = b
    }

    public static let defaultParallelism: Int = Swift.min(8, Swift.max(1, ProcessorCount.active))

    /// A fitted BG/NBD model with its log-likelihood and standard errors (order r, α, a, b).
    public struct Fit: Sendable, Equatable {
        public var model: BGNBD
        public var logLikelihood: Double
        public var standardErrors: [Double?]
        public var iterations: Int
        public var evaluations: Int
        public var converged: Bool
    }

    // MARK: Likelihood

    /// The customers in structure-of-arrays form, validated once.
    public struct Sample: Sendable {
        var x: [Int32]
        var tx: [Double]
        var age: [Double]
        var countByX: [Double]
        public var count: Int { x.count }

        public init(_ histories: [PurchaseHistory]) throws {
            x = []
            tx = []
            age = []
            x.reserveCapacity(histories.count)
            tx.reserveCapacity(histories.count)
            age.reserveCapacity(histories.count)
            var maxX = 0
            for (i, h) in histories.enumerated() {
                guard h.repeatPurchases >= 0, h.repeatPurchases < Int(Int32.max) else {
                    throw ModelFitError.invalidHistory(index: i, reason: "repeat purchases must be ≥ 0")
                }
                guard h.age > 0, h.recency >= 0, h.recency <= h.age, h.age.isFinite else {
                    throw ModelFitError.invalidHistory(index: i, reason: "need 0 ≤ recency ≤ age and age > 0")
                }
                guard h.repeatPurchases > 0 || h.recency == 0 else {
                    throw ModelFitError.invalidHistory(index: i, reason: "recency must be 0 when there are no repeat purchases")
                }
                maxX = Swift.max(maxX, h.repeatPurchases)
                x.append(Int32(h.repeatPurchases))
                tx.append(h.recency)
                age.append(h.age)
            }
            countByX = Array(repeating: 0, count: maxX + 1)
            for v in x { countByX[Int(v)] += 1 }
        }
    }

    /// Log-likelihood (FHL 2005 eq. 6, without the constant) and its analytic gradient in
    /// (r, α, a, b), summed over customers in one pass, split over `parallelism` workers.
    public static func logLikelihood(_ p: [Double], data: Sample, parallelism: Int = defaultParallelism) -> (value: Double, gradient: [Double])? {
        let r = p[0], alpha = p[1], a = p[2], b = p[3]
        guard r > 0, alpha > 0, a > 0, b > 0, p.allSatisfy(\.isFinite) else { return nil }
        let maxX = data.countByX.count - 1
        // Terms that depend on x only, once per distinct x.
        var xOnlyValue = 0.0
        var xOnlyGrad = (0.0, 0.0, 0.0)  // r, a, b
        var cX = Array(repeating: 0.0, count: maxX + 1)      // log a − log(b + x − 1)
        var invBX = Array(repeating: 0.0, count: maxX + 1)   // 1/(b + x − 1)
        let psiR = SpecialFunctions.digamma(r)
        let psiAB = SpecialFunctions.digamma(a + b)
        let psiB = SpecialFunctions.digamma(b)
        let lgR = Double.logGamma(r), lgAB = Double.logGamma(a + b), lgB = Double.logGamma(b)
        let logA = Double.log(a), logAlpha = Double.log(alpha)
        for x in 0...maxX {
            let n = data.countByX[x]
            if x > 0 {
                cX[x] = logA - Double.log(b + Double(x) - 1)
                invBX[x] = 1 / (b + Double(x) - 1)
            }
            guard n > 0 else { continue }
            let xd = Double(x)
            let v = Double.logGamma(r + xd) - lgR + r * logAlpha + lgAB + Double.logGamma(b + xd) - lgB - Double.logGamma(a + b + xd)
            xOnlyValue += n * v
            let psiABX = SpecialFunctions.digamma(a + b + xd)
            xOnlyGrad.0 += n * (SpecialFunctions.digamma(r + xd) - psiR + logAlpha)
            xOnlyGrad.1 += n * (psiAB - psiABX)
            xOnlyGrad.2 += n * (psiAB + SpecialFunctions.digamma(b + xd) - psiB - psiABX)
        }
        // Per-customer terms: D = log(A3 + A4) and the weight w of A4.
        let count = data.count
        let workers = Swift.max(1, Swift.min(parallelism, count / 20_000 + 1))
        var partials = [Double](repeating: 0, count: workers * 8)
        data.x.withUnsafeBufferPointer { xs in
        data.tx.withUnsafeBufferPointer { txs in
        data.age.withUnsafeBufferPointer { ages in
        cX.withUnsafeBufferPointer { cXs in
        invBX.withUnsafeBufferPointer { invBXs in
        partials.withUnsafeMutableBufferPointer { out in
            let box = UnsafeSendable((xs, txs, ages, cXs, invBXs, out))
            let work: @Sendable (Int) -> Void = { w in
                let (xs, txs, ages, cXs, invBXs, out) = box.value
                let lo = count * w / workers, hi = count * (w + 1) / workers
                var sumD = 0.0, sumLogs = 0.0, sumAlpha = 0.0, sumW = 0.0, sumWB = 0.0
                for i in lo..<hi {
                    let x = Int(xs[i])
                    let lT = Double.log(alpha + ages[i])
                    if x == 0 {
                        sumD -= r * lT
                        sumLogs -= lT
                        sumAlpha += r / (alpha + ages[i])
                    } else {
                        let rx = r + Double(x)
                        let ltx = Double.log(alpha + txs[i])
                        let u = cXs[x] + rx * (lT - ltx)
                        let e = Double.exp(-Swift.abs(u))
                        let softplus = Swift.max(u, 0) + Double.log(onePlus: e)
                        let w = u >= 0 ? 1 / (1 + e) : e / (1 + e)
                        sumD += -rx * lT + softplus
                        sumLogs -= (1 - w) * lT + w * ltx
                        sumAlpha += rx * ((1 - w) / (alpha + ages[i]) + w / (alpha + txs[i]))
                        sumW += w
                        sumWB += w * invBXs[x]
                    }
                }
                out[w * 8 + 0] = sumD
                out[w * 8 + 1] = sumLogs
                out[w * 8 + 2] = sumAlpha
                out[w * 8 + 3] = sumW
                out[w * 8 + 4] = sumWB
            }
            if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
        }}}}}}
        var s = [Double](repeating: 0, count: 5)
        for w in 0..<workers { for k in 0..<5 { s[k] += partials[w * 8 + k] } }
        let n = Double(count)
        let value = xOnlyValue + s[0]
        let gR = xOnlyGrad.0 + s[1]
        let gAlpha = n * r / alpha - s[2]
        let gA = xOnlyGrad.1 + s[3] / a
        let gB = xOnlyGrad.2 - s[4]
        return (value, [gR, gAlpha, gA, gB])
    }

    /// Maximum-likelihood fit (BFGS on log-parameters, analytic gradient).
    public static func fit(_ histories: [PurchaseHistory], options: ModelFitOptions = ModelFitOptions()) throws -> Fit {
        try fit(Sample(histories), options: options)
    }

    public static func fit(_ data: Sample, options: ModelFitOptions = ModelFitOptions()) throws -> Fit {
        guard data.count > 0 else { throw ModelFitError.noCustomers }
        let start = options.start ?? defaultStart(data)
        let outcome = ModelFitting.fit(start: start, count: data.count, penalty: options.penalty, standardErrors: options.standardErrors) {
            logLikelihood($0, data: data, parallelism: options.parallelism)
        }
        let p = outcome.parameters
        return Fit(model: BGNBD(r: p[0], alpha: p[1], a: p[2], b: p[3]), logLikelihood: outcome.logLikelihood,
                   standardErrors: outcome.standardErrors, iterations: outcome.iterations,
                   evaluations: outcome.evaluations, converged: outcome.converged)
    }

    /// A start near typical optima: r = 0.5, α from the mean purchase rate (r/α ≈ rate), a = b = 1.
    static func defaultStart(_ data: Sample) -> [Double] {
        var totalX = 0.0, totalT = 0.0
        for i in 0..<data.count { totalX += Double(data.x[i]); totalT += data.age[i] }
        let rate = Swift.max(totalX / Swift.max(totalT, 1e-12), 1e-6)
        let r = 0.5
        return [r, Swift.min(Swift.max(r / rate, 1e-3), 1e6), 1, 2]
    }

    // MARK: Predictions

    /// P(alive | x, t_x, T) (FHL 2005 eq. 11).
    public func probabilityAlive(_ h: PurchaseHistory) -> Double {
        guard h.repeatPurchases > 0 else { return 1 }
        let x = Double(h.repeatPurchases)
        let logTerm = Double.log(a / (b + x - 1)) + (r + x) * (Double.log(alpha + h.age) - Double.log(alpha + h.recency))
        return 1 / (1 + Double.exp(logTerm))
    }

    /// E[X(t)]: expected purchases in (0, t] of a customer just acquired (FHL 2005 eq. 9).
    public func expectedPurchases(within t: Double) throws -> Double {
        guard t > 0 else { return 0 }
        let z = t / (alpha + t)
        let f = try SpecialFunctions.hypergeometric2F1(r, b, a + b - 1, z)
        return (a + b - 1) / (a - 1) * (1 - Double.exp(r * Double.log(alpha / (alpha + t))) * f)
    }

    /// E[Y(t) | x, t_x, T]: expected purchases in the next t (FHL 2005 eq. 10).
    public func conditionalExpectedPurchases(within t: Double, given h: PurchaseHistory) throws -> Double {
        guard t > 0 else { return 0 }
        let x = Double(h.repeatPurchases)
        let bigT = h.age
        let z = t / (alpha + bigT + t)
        let f = try SpecialFunctions.hypergeometric2F1(r + x, b + x, a + b + x - 1, z)
        let numerator = (a + b + x - 1) / (a - 1) * (1 - Double.exp((r + x) * Double.log((alpha + bigT) / (alpha + bigT + t))) * f)
        var denominator = 1.0
        if h.repeatPurchases > 0 {
            denominator += a / (b + x - 1) * Double.exp((r + x) * Double.log((alpha + bigT) / (alpha + h.recency)))
        }
        return numerator / denominator
    }
}

/// Wraps values that are safe to share for the duration of a parallel loop (buffers owned by
/// the caller, each worker writing only its own slots).
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

enum ProcessorCount {
    static var active: Int { ProcessInfo.processInfo.activeProcessorCount }
}
