import Foundation

/// A buyer's recency, frequency and monetary inputs. `lastPurchaseDay` is a day number (e.g.
/// days since 1970-01-01); `orderCount` the number of orders; `monetaryMinor` the spend in the
/// window in minor units.
public struct RFMInput: Sendable, Hashable {
    public var id: Int64
    public var lastPurchaseDay: Int
    public var orderCount: Int
    public var monetaryMinor: Int64
    public init(id: Int64, lastPurchaseDay: Int, orderCount: Int, monetaryMinor: Int64) {
        self.id = id
        self.lastPurchaseDay = lastPurchaseDay
        self.orderCount = orderCount
        self.monetaryMinor = monetaryMinor
    }
}

/// Named RFM segments with stable raw strings (display names live in the web layer).
public enum RFMSegment: String, Sendable, CaseIterable, Codable {
    case champions
    case loyal
    case potentialLoyalists = "potential_loyalists"
    case new
    case promising
    case needAttention = "need_attention"
    case aboutToSleep = "about_to_sleep"
    case atRisk = "at_risk"
    case cantLose = "cant_lose"
    case hibernating
    case lost

    /// The segment of an (R, F, M) score, each 1…5. F and M are combined into
    /// FM = ⌈(F + M)/2⌉ (their mean, halves rounded up), then the R × FM grid is read:
    ///
    /// | R \ FM | 1              | 2                  | 3                  | 4         | 5         |
    /// |--------|----------------|--------------------|--------------------|-----------|-----------|
    /// | 5      | new            | potentialLoyalists | potentialLoyalists | champions | champions |
    /// | 4      | promising      | potentialLoyalists | potentialLoyalists | loyal     | champions |
    /// | 3      | aboutToSleep   | needAttention      | needAttention      | loyal     | loyal     |
    /// | 2      | hibernating    | hibernating        | atRisk             | atRisk    | atRisk    |
    /// | 1      | lost           | lost               | hibernating        | cantLose  | cantLose  |
    public static func classify(recency r: Int, frequency f: Int, monetary m: Int) -> RFMSegment {
        let fm = (f + m + 1) / 2
        return grid[Swift.max(1, Swift.min(5, r)) - 1][Swift.max(1, Swift.min(5, fm)) - 1]
    }

    static let grid: [[RFMSegment]] = [
        [.lost, .lost, .hibernating, .cantLose, .cantLose],                                   // R = 1
        [.hibernating, .hibernating, .atRisk, .atRisk, .atRisk],                              // R = 2
        [.aboutToSleep, .needAttention, .needAttention, .loyal, .loyal],                      // R = 3
        [.promising, .potentialLoyalists, .potentialLoyalists, .loyal, .champions],           // R = 4
        [.new, .potentialLoyalists, .potentialLoyalists, .champions, .champions],             // R = 5
    ]
}

/// R, F and M scores 1…5 and the segment.
public struct RFMScore: Sendable, Hashable {
    public var recency: Int
    public var frequency: Int
    public var monetary: Int
    public var segment: RFMSegment
    /// "545"-style code.
    public var code: String { "\(recency)\(frequency)\(monetary)" }
}

public enum RFM {
    /// SQL NTILE: the bucket (1…buckets) of the row at 0-based `position` among `count` rows;
    /// the first (count mod buckets) buckets get one extra row.
    @inlinable
    public static func ntile(position: Int, count: Int, buckets: Int = 5) -> Int {
        let q = count / buckets, rem = count % buckets
        let big = rem * (q + 1)
        return position < big ? position / (q + 1) + 1 : rem + (position - big) / q + 1
    }

    /// Scores defined exactly as SQL
    /// `NTILE(5) OVER (ORDER BY value ASC, customer_id ASC)` with value =
    /// - R: the last purchase day (so the most recent — fewest days since the last purchase —
    ///   get 5; equivalently ORDER BY days_since_last DESC, customer_id ASC),
    /// - F: the order count, M: the monetary value (highest → 5).
    /// Ties are broken by customer id ascending, so equal values may straddle a bucket edge,
    /// exactly as in SQL. Results are in input order.
    public static func score(_ inputs: [RFMInput]) -> [RFMScore] {
        let n = inputs.count
        guard n > 0 else { return [] }
        var r = [UInt8](repeating: 0, count: n), f = r, m = r
        let ids = inputs.map(\.id)
        let keys: [[Int64]] = [inputs.map { Int64($0.lastPurchaseDay) }, inputs.map { Int64($0.orderCount) }, inputs.map(\.monetaryMinor)]
        r.withUnsafeMutableBufferPointer { rb in
        f.withUnsafeMutableBufferPointer { fb in
        m.withUnsafeMutableBufferPointer { mb in
            let outputs = UnsafeSendable([rb, fb, mb])
            let work: @Sendable (Int) -> Void = { dim in
                let order = ascendingOrder(keys[dim], ids: ids)
                let out = outputs.value[dim]
                for (position, index) in order.enumerated() {
                    out[Int(index)] = UInt8(ntile(position: position, count: n))
                }
            }
            if n < 50_000 { for d in 0..<3 { work(d) } } else { DispatchQueue.concurrentPerform(iterations: 3, execute: work) }
        }}}
        return (0..<n).map { i in
            RFMScore(recency: Int(r[i]), frequency: Int(f[i]), monetary: Int(m[i]),
                     segment: RFMSegment.classify(recency: Int(r[i]), frequency: Int(f[i]), monetary: Int(m[i])))
        }
    }

    /// Indices sorted by (key ascending, id ascending).
    static func ascendingOrder(_ keys: [Int64], ids: [Int64]) -> [Int32] {
        struct Entry { var key: Int64; var id: Int64; var index: Int32 }
        var entries = [Entry]()
        entries.reserveCapacity(keys.count)
        for i in keys.indices { entries.append(Entry(key: keys[i], id: ids[i], index: Int32(i))) }
        entries.sort { $0.key != $1.key ? $0.key < $1.key : $0.id < $1.id }
        return entries.map(\.index)
    }
}
