import RealModule

/// Small dense linear algebra and a quasi-Newton minimiser for the model fits
/// (a handful of parameters, so dense n×n matrices are fine).
public enum Optimizer {
    /// What the minimiser reports.
    public struct Result: Sendable, Equatable {
        public var x: [Double]
        public var value: Double
        public var gradient: [Double]
        public var iterations: Int
        public var evaluations: Int
        public var converged: Bool
    }

    /// Options for `minimize`.
    public struct Options: Sendable, Equatable {
        /// Stop when max |gradient component| ≤ this.
        public var gradientTolerance: Double = 1e-9
        public var maxIterations: Int = 500
        /// Start from the inverse of a finite-difference Hessian at the start point (costs n
        /// extra gradient evaluations, usually saves many iterations).
        public var initialHessian: Bool = true
        public init() {}
    }

    /// Minimise f: ℝⁿ → ℝ given value and gradient together (`evaluate` returns nil when x is
    /// outside the domain). BFGS with an Armijo backtracking line search (Nocedal & Wright,
    /// Algorithm 6.1); the inverse-Hessian update is skipped when the curvature yᵀs ≤ 0.
    public static func minimize(
        start: [Double],
        options: Options = Options(),
        evaluate: (_ x: [Double]) -> (value: Double, gradient: [Double])?
    ) -> Result {
        let n = start.count
        var evaluations = 0
        func eval(_ x: [Double]) -> (value: Double, gradient: [Double])? {
            evaluations += 1
            guard let r = evaluate(x), r.value.isFinite, r.gradient.allSatisfy(\.isFinite) else { return nil }
            return r
        }
        var x = start
        guard var current = eval(x) else {
            return Result(x: x, value: .nan, gradient: Array(repeating: .nan, count: n), iterations: 0, evaluations: evaluations, converged: false)
        }
        var hInv = identity(n)
        if options.initialHessian {
            var gradients: [[Double]] = []
            let h = 1e-5
            for i in 0..<n {
                var xp = x
                xp[i] += h
                if let r = eval(xp) { gradients.append(r.gradient) } else { gradients = []; break }
            }
            if gradients.count == n {
                var hess = Array(repeating: Array(repeating: 0.0, count: n), count: n)
                for i in 0..<n { for j in 0..<n { hess[i][j] = (gradients[i][j] - current.gradient[j]) / h } }
                for i in 0..<n { for j in 0..<i { let m = 0.5 * (hess[i][j] + hess[j][i]); hess[i][j] = m; hess[j][i] = m } }
                if let inv = inverseSPD(hess) { hInv = inv }
            }
        }
        var iteration = 0
        var converged = false
        var firstStep = !options.initialHessian
        while iteration < options.maxIterations {
            if current.gradient.map(Swift.abs).max() ?? 0 <= options.gradientTolerance { converged = true; break }
            iteration += 1
            var direction = matVec(hInv, current.gradient).map { -$0 }
            var slope = dot(direction, current.gradient)
            if !(slope < 0) {
                hInv = identity(n)
                direction = current.gradient.map { -$0 }
                slope = dot(direction, current.gradient)
                firstStep = true
            }
            var step = 1.0
            if firstStep {
                let norm = Double.sqrt(dot(direction, direction))
                if norm > 1 { step = 1 / norm }
            }
            var accepted: (x: [Double], r: (value: Double, gradient: [Double]))?
            for _ in 0..<60 {
                let trial = zip(x, direction).map { $0 + step * $1 }
                if let r = eval(trial), r.value <= current.value + 1e-4 * step * slope {
                    accepted = (trial, r)
                    break
                }
                step *= 0.3
            }
            guard let next = accepted else { break }
            let s = zip(next.x, x).map { $0 - $1 }
            let y = zip(next.r.gradient, current.gradient).map { $0 - $1 }
            let sy = dot(s, y)
            if sy > 1e-300 {
                if firstStep {
                    // Scale the identity before the first update (Nocedal & Wright 6.20).
                    let scale = sy / dot(y, y)
                    hInv = identity(n).map { $0.map { $0 * scale } }
                    firstStep = false
                }
                let rho = 1 / sy
                let hy = matVec(hInv, y)
                let yhy = dot(y, hy)
                for i in 0..<n {
                    for j in 0..<n {
                        hInv[i][j] += (1 + rho * yhy) * rho * s[i] * s[j] - rho * (hy[i] * s[j] + s[i] * hy[j])
                    }
                }
            }
            let change = Swift.abs(next.r.value - current.value)
            x = next.x
            current = next.r
            if change <= 1e-15 * Swift.max(1, Swift.abs(current.value)) && (current.gradient.map(Swift.abs).max() ?? 0) <= options.gradientTolerance * 1e3 {
                converged = true
                break
            }
        }
        if current.gradient.map(Swift.abs).max() ?? 0 <= options.gradientTolerance { converged = true }
        return Result(x: x, value: current.value, gradient: current.gradient, iterations: iteration, evaluations: evaluations, converged: converged)
    }

    /// Hessian by central differences of an analytic gradient, symmetrised.
    public static func numericalHessian(at x: [Double], relativeStep: Double = 1e-5, gradient: ([Double]) -> [Double]?) -> [[Double]]? {
        let n = x.count
        var hess = Array(repeating: Array(repeating: 0.0, count: n), count: n)
        for i in 0..<n {
            let h = relativeStep * Swift.max(1, Swift.abs(x[i]))
            var xp = x, xm = x
            xp[i] += h
            xm[i] -= h
            guard let gp = gradient(xp), let gm = gradient(xm) else { return nil }
            for j in 0..<n { hess[i][j] = (gp[j] - gm[j]) / (2 * h) }
        }
        for i in 0..<n { for j in 0..<i { let m = 0.5 * (hess[i][j] + hess[j][i]); hess[i][j] = m; hess[j][i] = m } }
        return hess
    }

    /// Inverse of a symmetric positive-definite matrix by Cholesky; nil if not positive definite.
    public static func inverseSPD(_ a: [[Double]]) -> [[Double]]? {
        let n = a.count
        var l = Array(repeating: Array(repeating: 0.0, count: n), count: n)
        for i in 0..<n {
            for j in 0...i {
                var sum = a[i][j]
                for k in 0..<j { sum -= l[i][k] * l[j][k] }
                if i == j {
                    guard sum > 0 else { return nil }
                    l[i][i] = Double.sqrt(sum)
                } else {
                    l[i][j] = sum / l[j][j]
                }
            }
        }
        // Solve L Lᵀ X = I column by column.
        var inv = Array(repeating: Array(repeating: 0.0, count: n), count: n)
        for col in 0..<n {
            var y = Array(repeating: 0.0, count: n)
            for i in 0..<n {
                var sum = i == col ? 1.0 : 0.0
                for k in 0..<i { sum -= l[i][k] * y[k] }
                y[i] = sum / l[i][i]
            }
            var xcol = Array(repeating: 0.0, count: n)
            for i in stride(from: n - 1, through: 0, by: -1) {
                var sum = y[i]
                for k in (i + 1)..<n where k < n { sum -= l[k][i] * xcol[k] }
                xcol[i] = sum / l[i][i]
            }
            for i in 0..<n { inv[i][col] = xcol[i] }
        }
        return inv
    }

    static func identity(_ n: Int) -> [[Double]] {
        (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
    }

    static func matVec(_ m: [[Double]], _ v: [Double]) -> [Double] {
        m.map { row in dot(row, v) }
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        var s = 0.0
        for i in 0..<a.count { s += a[i] * b[i] }
        return s
    }
}

/// A fitted parameter with its standard error (from the inverse Hessian of the negative
/// log-likelihood at the optimum; nil when that Hessian is not positive definite).
public struct FittedParameter: Sendable, Equatable {
    public var value: Double
    public var standardError: Double?
}

/// Shared fitting machinery: parameters are optimised on the log scale (so they stay positive),
/// the objective is the negative log-likelihood per customer plus an optional L2 penalty
/// `penalty · Σ θᵢ²` on the natural parameters (as in the `lifetimes` package), and standard
/// errors come from a numerical Hessian of the analytic gradient, mapped back by the delta
/// method: se(θᵢ) = θᵢ · √((H⁻¹)ᵢᵢ) with H the Hessian in log-parameters.
enum ModelFitting {
    struct Outcome {
        var parameters: [Double]
        var logLikelihood: Double
        var standardErrors: [Double?]
        var iterations: Int
        var evaluations: Int
        var converged: Bool
    }

    /// `logLikelihood(θ)` returns the total log-likelihood and its gradient in θ (natural parameters).
    static func fit(
        start: [Double],
        count: Int,
        penalty: Double,
        gradientTolerance: Double = 1e-10,
        standardErrors: Bool = true,
        logLikelihood: ([Double]) -> (value: Double, gradient: [Double])?
    ) -> Outcome {
        let scale = 1 / Double(Swift.max(count, 1))
        func objective(_ phi: [Double]) -> (value: Double, gradient: [Double])? {
            let theta = phi.map { Double.exp($0) }
            guard let ll = logLikelihood(theta) else { return nil }
            var value = -ll.value * scale
            var grad = Array(repeating: 0.0, count: phi.count)
            for i in 0..<phi.count {
                grad[i] = -ll.gradient[i] * theta[i] * scale
                if penalty > 0 {
                    value += penalty * theta[i] * theta[i] * scale
                    grad[i] += 2 * penalty * theta[i] * theta[i] * scale
                }
            }
            return (value, grad)
        }
        var options = Optimizer.Options()
        options.gradientTolerance = gradientTolerance
        let result = Optimizer.minimize(start: start.map { Double.log($0) }, options: options, evaluate: objective)
        let theta = result.x.map { Double.exp($0) }
        var errors: [Double?] = Array(repeating: nil, count: theta.count)
        if standardErrors, let hess = Optimizer.numericalHessian(at: result.x, relativeStep: 1e-4, gradient: { objective($0)?.gradient }),
           let inv = Optimizer.inverseSPD(hess.map { $0.map { $0 / scale } }) {
            for i in 0..<theta.count where inv[i][i] > 0 { errors[i] = theta[i] * Double.sqrt(inv[i][i]) }
        }
        let ll = logLikelihood(theta)?.value ?? .nan
        return Outcome(parameters: theta, logLikelihood: ll, standardErrors: errors, iterations: result.iterations, evaluations: result.evaluations, converged: result.converged)
    }
}
