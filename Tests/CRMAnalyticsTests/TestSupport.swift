import Foundation
import CRMAnalytics

/// Fixtures and independent numerical tools for the analytics tests.
enum Fixtures {
    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    static func lines(_ name: String) throws -> [[Substring]] {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        return text.split(whereSeparator: \.isNewline).dropFirst().map { $0.split(separator: ",") }
    }

    /// CDNOW calibration summary: (x, t_x, T) in weeks for the 2,357 customers.
    static func cdnowHistories() throws -> [PurchaseHistory] {
        try lines("cdnow_customers_summary.csv").map {
            PurchaseHistory(repeatPurchases: Int($0[1])!, recency: Double($0[2])!, age: Double($0[3])!)
        }
    }

    /// CDNOW (x, z̄) for all customers (z̄ = 0 when x = 0).
    static func cdnowSpend() throws -> [SpendHistory] {
        try lines("cdnow_customers_summary_with_transactions.csv").map {
            SpendHistory(repeatPurchases: Int($0[1])!, meanSpend: Double($0[4])!)
        }
    }
}

/// Tanh-sinh (double-exponential) quadrature (Takahasi & Mori 1974): converges fast even with
/// integrable endpoint singularities. Used as the independent method against the closed forms.
enum Quadrature {
    /// ∫ₐᵇ f(x) dx; f receives (x, distance to the nearer endpoint) so singular factors can be
    /// evaluated accurately near the ends.
    static func tanhSinh(_ a: Double, _ b: Double, step h: Double = 1.0 / 128, _ f: (Double) -> Double) -> Double {
        let half = (b - a) / 2
        var sum = 0.0
        var k = -Int((4.5 / h).rounded())
        while Double(k) * h <= 4.5 {
            let t = Double(k) * h
            let u = Double.pi / 2 * sinh(t)
            let e = exp(-2 * Swift.abs(u))
            let distance = (b - a) * e / (1 + e)
            let x = t < 0 ? a + distance : b - distance
            let weight = half * Double.pi / 2 * cosh(t) * 4 * e / ((1 + e) * (1 + e))
            if distance > 0 && x > a && x < b {
                let v = f(x)
                if v.isFinite { sum += weight * v }
            }
            k += 1
        }
        return sum * h
    }

    /// ∫₀^∞ f(x) dx through x = y/(1−y).
    static func halfLine(_ f: (Double) -> Double) -> Double {
        tanhSinh(0, 1) { y in
            let x = y / (1 - y)
            return f(x) / ((1 - y) * (1 - y))
        }
    }

    /// Gamma(shape, rate) density.
    static func gammaDensity(_ x: Double, shape: Double, rate: Double) -> Double {
        let logDensity: Double = shape * log(rate) + (shape - 1) * log(x) - rate * x - lgamma(shape)
        return exp(logDensity)
    }

    /// Beta(a, b) density.
    static func betaDensity(_ p: Double, _ a: Double, _ b: Double) -> Double {
        let logNorm: Double = lgamma(a + b) - lgamma(a) - lgamma(b)
        let logDensity: Double = (a - 1) * log(p) + (b - 1) * log1p(-p) + logNorm
        return exp(logDensity)
    }
}

func relativeError(_ a: Double, _ b: Double) -> Double {
    Swift.abs(a - b) / Swift.max(Swift.abs(b), 1e-300)
}
