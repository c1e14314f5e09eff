import Foundation
import RealModule

/// A small, fast, seedable random number generator (xoshiro256**, Blackman & Vigna 2018),
/// seeded through SplitMix64, so simulations are repeatable across runs and platforms.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    public init(seed: UInt64) {
        var z = seed
        func splitMix() -> UInt64 {
            z &+= 0x9E37_79B9_7F4A_7C15
            var x = z
            x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
            x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
            return x ^ (x >> 31)
        }
        s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }

    /// Uniform on (0, 1) (never exactly 0).
    public mutating func uniform() -> Double {
        (Double(next() >> 11) + 0.5) * 0x1p-53
    }

    /// Standard normal (Marsaglia polar method).
    public mutating func normal() -> Double {
        while true {
            let u = 2 * uniform() - 1, v = 2 * uniform() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 { return u * Double.sqrt(-2 * Double.log(s) / s) }
        }
    }

    /// Gamma(shape, rate) (Marsaglia & Tsang 2000; shape < 1 boosted by U^(1/shape)).
    public mutating func gamma(shape: Double, rate: Double) -> Double {
        if shape < 1 {
            let g = gamma(shape: shape + 1, rate: rate)
            return g * Double.pow(uniform(), 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / Double.sqrt(9 * d)
        while true {
            let x = normal()
            var v = 1 + c * x
            if v <= 0 { continue }
            v = v * v * v
            let u = uniform()
            if Double.log(u) < 0.5 * x * x + d - d * v + d * Double.log(v) { return d * v / rate }
        }
    }

    /// Beta(a, b) from two gammas.
    public mutating func beta(_ a: Double, _ b: Double) -> Double {
        let x = gamma(shape: a, rate: 1), y = gamma(shape: b, rate: 1)
        return x / (x + y)
    }
}

/// Simulates customers from a BG/NBD model: λ ~ Gamma(r, α), p ~ Beta(a, b); purchases while
/// alive are Poisson(λ); after each repeat purchase the customer drops out with probability p.
/// Ages T are uniform on `ageRange` (CDNOW: a 12-week cohort observed to week 39, so 27–39).
/// Deterministic for a given seed: customers are generated in blocks of 65,536, each block with
/// its own generator seeded from (seed, block), so the result does not depend on the number
/// of workers.
public struct BGNBDSimulation: Sendable {
    public var model: BGNBD
    public var seed: UInt64
    public var ageRange: ClosedRange<Double>

    public init(model: BGNBD, seed: UInt64, ageRange: ClosedRange<Double> = 27...39) {
        self.model = model
        self.seed = seed
        self.ageRange = ageRange
    }

    public func histories(count: Int) -> [PurchaseHistory] {
        let blockSize = 65_536
        let blocks = (count + blockSize - 1) / blockSize
        var result = [PurchaseHistory](repeating: PurchaseHistory(repeatPurchases: 0, recency: 0, age: 1), count: count)
        let model = self.model, seed = self.seed, ageRange = self.ageRange
        result.withUnsafeMutableBufferPointer { out in
            let box = UnsafeSendable(out)
            DispatchQueue.concurrentPerform(iterations: blocks) { block in
                let out = box.value
                var rng = SeededGenerator(seed: seed ^ (UInt64(block) &* 0xD1B5_4A32_D192_ED03))
                let lo = block * blockSize, hi = Swift.min(count, lo + blockSize)
                for i in lo..<hi {
                    let age = ageRange.lowerBound + (ageRange.upperBound - ageRange.lowerBound) * rng.uniform()
                    let lambda = rng.gamma(shape: model.r, rate: model.alpha)
                    let p = rng.beta(model.a, model.b)
                    var t = 0.0, x = 0, last = 0.0
                    while true {
                        t += -Double.log(rng.uniform()) / lambda
                        if t > age { break }
                        x += 1
                        last = t
                        if rng.uniform() < p { break }
                    }
                    out[i] = PurchaseHistory(repeatPurchases: x, recency: last, age: age)
                }
            }
        }
        return result
    }
}
