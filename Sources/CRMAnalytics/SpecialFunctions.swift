import RealModule

/// Special functions used by the customer-base models (BG/NBD, Pareto/NBD, Gamma-Gamma).
/// Real arguments only; all functions are pure and thread-safe.
public enum SpecialFunctions {
    /// log |Γ(x)|.
    @inlinable
    public static func logGamma(_ x: Double) -> Double { Double.logGamma(x) }

    /// Digamma ψ(x) = d/dx log Γ(x) for x > 0: upward recurrence to x ≥ 10, then the
    /// asymptotic series (Abramowitz & Stegun 6.3.18); absolute error below 1e-14.
    public static func digamma(_ x: Double) -> Double {
        var x = x
        var result = 0.0
        if x <= 0 {
            // Reflection (A&S 6.3.7): ψ(1 − x) − ψ(x) = π cot(πx).
            if x == x.rounded() { return .nan }
            return digamma(1 - x) - Double.pi / Double.tan(Double.pi * x)
        }
        while x < 10 {
            result -= 1 / x
            x += 1
        }
        let inv = 1 / x
        let inv2 = inv * inv
        // B2k/(2k) coefficients: 1/12, 1/120, 1/252, 1/240, 1/132, 691/32760, 1/12.
        let series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (1.0 / 240 - inv2 * (1.0 / 132 - inv2 * (691.0 / 32760 - inv2 / 12))))))
        return result + Double.log(x) - 0.5 * inv - series
    }

    /// log(e^a + e^b) without overflow.
    @inlinable
    public static func logSumExp(_ a: Double, _ b: Double) -> Double {
        let m = Swift.max(a, b)
        if m == -.infinity { return -.infinity }
        return m + Double.log(onePlus: Double.exp(Swift.min(a, b) - m))
    }

    /// log Γ(a + n) − log Γ(a) = Σ log(a + k), exactly enough for small n (used for x counts).
    @inlinable
    public static func logRisingFactorial(_ a: Double, _ n: Int) -> Double {
        if n > 30 { return Double.logGamma(a + Double(n)) - Double.logGamma(a) }
        var p = 1.0
        for k in 0..<n { p *= a + Double(k) }
        return Double.log(p)
    }

    /// Errors from special-function evaluation.
    public enum Failure: Error, Sendable, Equatable {
        case hypergeometricDidNotConverge(a: Double, b: Double, c: Double, z: Double)
        case outsideDomain(String)
    }

    /// Gaussian hypergeometric function ₂F₁(a, b; c; z) for real a, b, c and z < 1.
    ///
    /// - 0 ≤ z ≤ 0.9: the defining power series, summed until a term is below 1e-17 of the sum
    ///   once terms are shrinking (at most 200 000 terms).
    /// - z < 0: the Pfaff transformation (A&S 15.3.5) to w = z/(z − 1) ∈ (0, 1).
    /// - 0.9 < z < 1: the linear transformation to 1 − z (A&S 15.3.6). When c − a − b is within
    ///   1e-6 of an integer that formula degenerates; then the series is summed directly up to
    ///   z = 0.9999 (≤ 10⁶ terms), and beyond that the two sides c ± 1e-5 are averaged
    ///   (error about 1e-9 relative), which is adequate for the model predictions here.
    public static func hypergeometric2F1(_ a: Double, _ b: Double, _ c: Double, _ z: Double) throws -> Double {
        guard z < 1 else { throw Failure.outsideDomain("2F1 needs z < 1, got \(z)") }
        if z == 0 { return 1 }
        if z < 0 {
            let w = z / (z - 1)
            // Pick the Pfaff form whose series has positive terms when possible.
            if c - b > 0 || c - a <= 0 {
                return Double.pow(1 - z, -a) * (try hypergeometric2F1(a, c - b, c, w))
            } else {
                return Double.pow(1 - z, -b) * (try hypergeometric2F1(c - a, b, c, w))
            }
        }
        if z <= 0.9 { return try series2F1(a, b, c, z) }
        let d = c - a - b
        if Swift.abs(d - d.rounded()) < 1e-6 {
            if z <= 0.9999, let direct = try? series2F1(a, b, c, z, maxTerms: 1_000_000) { return direct }
            let h = 1e-5
            let up = try oneMinusZ2F1(a, b, c + h, z)
            let down = try oneMinusZ2F1(a, b, c - h, z)
            return 0.5 * (up + down)
        }
        return try oneMinusZ2F1(a, b, c, z)
    }

    static func series2F1(_ a: Double, _ b: Double, _ c: Double, _ z: Double, maxTerms: Double = 200_000) throws -> Double {
        var term = 1.0
        var sum = 1.0
        var n = 0.0
        while n < maxTerms {
            term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
            sum += term
            n += 1
            if term == 0 { return sum }
            let ratio = Swift.abs((a + n) * (b + n) / ((c + n) * (n + 1)) * z)
            if Swift.abs(term) <= 1e-17 * Swift.abs(sum) && ratio < 1 { return sum }
        }
        throw Failure.hypergeometricDidNotConverge(a: a, b: b, c: c, z: z)
    }

    /// Γ(p)·Γ(q)/(Γ(r)·Γ(s)) with signs, in a stable log form.
    static func gammaRatio(_ p: Double, _ q: Double, _ r: Double, _ s: Double) -> Double {
        func isPole(_ x: Double) -> Bool { x <= 0 && x == x.rounded() }
        if isPole(r) || isPole(s) { return 0 }
        let logValue = Double.logGamma(p) + Double.logGamma(q) - Double.logGamma(r) - Double.logGamma(s)
        var sign = 1.0
        // sign(1/Γ(x)) = sign(Γ(x)), so numerator and denominator signs combine alike.
        for x in [p, q, r, s] where x < 0 && Double.signGamma(x) == .minus { sign = -sign }
        return sign * Double.exp(logValue)
    }

    static func oneMinusZ2F1(_ a: Double, _ b: Double, _ c: Double, _ z: Double) throws -> Double {
        let d = c - a - b
        let w = 1 - z
        let first = gammaRatio(c, d, c - a, c - b) * (try series2F1(a, b, 1 - d, w))
        let second = Double.pow(w, d) * gammaRatio(c, -d, a, b) * (try series2F1(c - a, c - b, 1 + d, w))
        return first + second
    }
}
