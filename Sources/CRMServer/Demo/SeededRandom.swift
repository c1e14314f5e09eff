/// SplitMix64 (Steele, Lea & Flood 2014): small, fast, and the same sequence on every
/// machine for a given seed, so `crm demo --seed N` always builds the same company.
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    mutating func chance(_ p: Double) -> Bool { unit() < p }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }

    mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }

    /// Picks index i with probability proportional to weights[i].
    mutating func weighted(_ cumulative: [Double]) -> Int {
        let x = unit() * cumulative.last!
        var lo = 0, hi = cumulative.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulative[mid] < x { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Pareto-tailed weight ≥ 1: a few customers buy far more than the rest (the 20/80 of domain §2).
    mutating func pareto(alpha: Double) -> Double { 1 / pow(max(1 - unit(), 1e-12), 1 / alpha) }
}

import Foundation
