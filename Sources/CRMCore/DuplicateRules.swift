import Foundation

/// Why two customer records may be the same party, and how sure we are.
public struct DuplicateCandidate: Sendable, Equatable, Codable {
    public enum Reason: String, Sendable, Codable, CaseIterable {
        case sameEmail, samePhone
        /// Names equal after normalisation (Chinese), or above the similarity threshold (Latin),
        /// for two persons of the same organisation, or two organisations.
        case similarName
    }

    public var first: Customer.ID
    public var second: Customer.ID
    public var reasons: [Reason]
    /// 0…1: how likely the two are one party.
    public var score: Double
    /// The name similarity behind `similarName` (1 for equal names).
    public var nameSimilarity: Double?

    public init(first: Customer.ID, second: Customer.ID, reasons: [Reason], score: Double, nameSimilarity: Double? = nil) {
        self.first = first; self.second = second; self.reasons = reasons; self.score = score; self.nameSimilarity = nameSimilarity
    }
}

/// The rules that decide whether two records look like one party (domain §10: the same
/// person collected twice from business cards, typed twice by two reps).
public enum DuplicateRules {
    /// Latin names at least this similar (Jaro-Winkler) count as similar.
    public static let latinThreshold = 0.92

    /// How much each kind of evidence weighs; evidence adds up, to at most 1.
    static let weights: [DuplicateCandidate.Reason: Double] = [.sameEmail: 0.7, .samePhone: 0.6, .similarName: 0.5]

    public static func score(_ reasons: [DuplicateCandidate.Reason], nameSimilarity: Double?) -> Double {
        var total = 0.0
        for r in Set(reasons) {
            let w = weights[r] ?? 0
            total += r == .similarName ? w * (nameSimilarity ?? 1) : w
        }
        return min(1, (total * 1000).rounded() / 1000)
    }

    /// The similarity of two names in 0…1, or nil when they are not similar enough to say so.
    /// Names with Chinese characters must be equal after normalisation (张伟 and 张玮 are two
    /// people); Latin names compare case- and space-insensitively with Jaro-Winkler.
    public static func nameSimilarity(_ a: String, _ b: String) -> Double? {
        let x = Normalise.searchKey(a), y = Normalise.searchKey(b)
        guard !x.isEmpty, !y.isEmpty else { return nil }
        if x == y { return 1 }
        if containsHan(x) || containsHan(y) { return nil }
        let s = jaroWinkler(x, y)
        return s >= latinThreshold ? (s * 1000).rounded() / 1000 : nil
    }

    static func containsHan(_ s: String) -> Bool {
        s.contains(where: SearchGrams.isIdeograph)
    }

    /// Jaro-Winkler similarity (prefix scale 0.1, prefix up to 4 characters).
    public static func jaroWinkler(_ a: String, _ b: String) -> Double {
        let s = Array(a), t = Array(b)
        if s.isEmpty && t.isEmpty { return 1 }
        if s.isEmpty || t.isEmpty { return 0 }
        let window = max(0, max(s.count, t.count) / 2 - 1)
        var sMatched = [Bool](repeating: false, count: s.count)
        var tMatched = [Bool](repeating: false, count: t.count)
        var matches = 0
        for i in 0..<s.count {
            let lo = max(0, i - window), hi = min(t.count - 1, i + window)
            if lo > hi { continue }
            for j in lo...hi where !tMatched[j] && s[i] == t[j] {
                sMatched[i] = true; tMatched[j] = true; matches += 1
                break
            }
        }
        if matches == 0 { return 0 }
        var transpositions = 0
        var k = 0
        for i in 0..<s.count where sMatched[i] {
            while !tMatched[k] { k += 1 }
            if s[i] != t[k] { transpositions += 1 }
            k += 1
        }
        let m = Double(matches)
        let jaro = (m / Double(s.count) + m / Double(t.count) + (m - Double(transpositions) / 2) / m) / 3
        var prefix = 0
        while prefix < min(4, s.count, t.count) && s[prefix] == t[prefix] { prefix += 1 }
        return jaro + Double(prefix) * 0.1 * (1 - jaro)
    }
}
