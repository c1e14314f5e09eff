import CRMCore
import Foundation

/// One customer's totals from a transaction file.
public struct CustomerTransactions: Sendable, Hashable {
    /// The customer id: the number itself when the id is all digits (at most 18), otherwise a
    /// 63-bit FNV-1a hash of its bytes made negative (so it never equals a numeric id).
    public var id: Int64
    /// The id as written, for non-numeric ids (nil for numeric ones).
    public var externalID: String?
    /// First and last order day (days since 1970-01-01).
    public var firstDay: Int
    public var lastDay: Int
    /// Number of orders = number of rows (two rows on the same day are two orders).
    public var orderCount: Int
    public var revenueMinor: Int64
    /// Sum of the cost column; nil when the file has no cost column.
    public var costMinor: Int64?
    public var profitMinor: Int64? { costMinor.map { revenueMinor - $0 } }

    public init(id: Int64, externalID: String? = nil, firstDay: Int, lastDay: Int, orderCount: Int, revenueMinor: Int64, costMinor: Int64?) {
        self.id = id
        self.externalID = externalID
        self.firstDay = firstDay
        self.lastDay = lastDay
        self.orderCount = orderCount
        self.revenueMinor = revenueMinor
        self.costMinor = costMinor
    }
}

/// A malformed transaction file, with the 1-based line and the column name.
public struct TransactionParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: String
    public var text: String
    public var reason: String
    public var description: String { "line \(line), column \(column): \"\(text)\" \(reason)" }
}

/// Aggregates a transaction CSV (`customer_id,order_date,amount[,cost]`, header first, dates
/// YYYY-MM-DD, amounts like `12.34` or `-5`) into per-customer totals, straight from UTF-8
/// bytes: no String per field, amounts parsed exactly into minor units, the buffer split at
/// line boundaries and aggregated in parallel into open-addressing tables that are then merged.
/// Output is sorted by id ascending, so it does not depend on the number of workers.
public enum TransactionAggregator {
    public struct Options: Sendable, Hashable {
        /// Decimal places of the currency (2 for CNY/USD): `12.3` is 1230 minor units; more
        /// decimals than this are an error (not silently rounded).
        public var minorDigits: Int = 2
        /// Worker count (default: active processors).
        public var parallelism: Int = ProcessorCount.active
        public init(minorDigits: Int = 2, parallelism: Int = BGNBD.defaultParallelism) {
            self.minorDigits = minorDigits
            self.parallelism = parallelism
        }
    }

    /// Reads (memory-maps) a file and aggregates it.
    public static func aggregate(fileAtPath path: String, options: Options = Options()) throws -> [CustomerTransactions] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        return try data.withUnsafeBytes { try aggregate(bytes: $0, options: options) }
    }

    public static func aggregate(bytes: UnsafeRawBufferPointer, options: Options = Options()) throws -> [CustomerTransactions] {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else {
            throw TransactionParseError(line: 1, column: "header", text: "", reason: "is missing: expected customer_id,order_date,amount[,cost]")
        }
        let end = bytes.count
        // Header.
        var headerEnd = 0
        while headerEnd < end && base[headerEnd] != UInt8(ascii: "\n") { headerEnd += 1 }
        let headerText = String(decoding: UnsafeBufferPointer(start: base, count: headerEnd), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let columns = headerText.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let hasCost: Bool
        if columns == ["customer_id", "order_date", "amount"] { hasCost = false }
        else if columns == ["customer_id", "order_date", "amount", "cost"] { hasCost = true }
        else { throw TransactionParseError(line: 1, column: "header", text: headerText, reason: "is not customer_id,order_date,amount[,cost]") }
        let bodyStart = Swift.min(end, headerEnd + 1)

        // Chunks at line boundaries.
        let workers = Swift.max(1, Swift.min(options.parallelism, (end - bodyStart) / (1 << 20) + 1))
        var bounds = [bodyStart]
        for w in 1..<workers {
            var p = Swift.max(bounds.last!, bodyStart + (end - bodyStart) * w / workers)
            while p < end && base[p - 1] != UInt8(ascii: "\n") { p += 1 }
            bounds.append(p)
        }
        bounds.append(end)

        var results = [Result<ChunkTable, TransactionParseError>?](repeating: nil, count: workers)
        let shared = UnsafeSendable((base, bounds, options.minorDigits, hasCost))
        results.withUnsafeMutableBufferPointer { out in
            let sink = UnsafeSendable(out)
            let work: @Sendable (Int) -> Void = { w in
                let (base, bounds, digits, hasCost) = shared.value
                let table = ChunkTable(capacity: 1 << 14)
                do {
                    try parseChunk(base: base, from: bounds[w], to: bounds[w + 1], minorDigits: digits, hasCost: hasCost, into: table)
                    sink.value[w] = .success(table)
                } catch let error as LocalError {
                    // Absolute line: header + newlines before the chunk + the local line.
                    var line = 0
                    for i in 0..<bounds[w] where base[i] == UInt8(ascii: "\n") { line += 1 }
                    let text = String(decoding: UnsafeBufferPointer(start: base + error.start, count: error.count), as: UTF8.self)
                    sink.value[w] = .failure(TransactionParseError(line: line + error.line, column: error.column, text: text, reason: error.reason))
                } catch {
                    sink.value[w] = .failure(TransactionParseError(line: 0, column: "", text: "", reason: "\(error)"))
                }
            }
            if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
        }
        var tables: [ChunkTable] = []
        for r in results {
            switch r! {
            case .success(let t): tables.append(t)
            case .failure(let e): throw e
            }
        }
        let merged = tables.removeFirst()
        for t in tables {
            for k in 0..<t.capacity where t.slots[k].orders != 0 {
                let e = t.slots[k]
                guard let m = merged.slot(key: e.key, textStart: e.textStart, textCount: e.textCount, base: base) else {
                    throw TransactionParseError(line: 0, column: "customer_id", text: ChunkTable.text(e, base: base), reason: "has the same 63-bit hash as another id")
                }
                if m.pointee.orders == 0 {
                    m.pointee.first = e.first
                    m.pointee.last = e.last
                } else {
                    m.pointee.first = Swift.min(m.pointee.first, e.first)
                    m.pointee.last = Swift.max(m.pointee.last, e.last)
                }
                m.pointee.orders += e.orders
                m.pointee.revenue += e.revenue
                m.pointee.cost += e.cost
            }
        }
        var entries = merged.entries()
        entries.sort { $0.key < $1.key }
        return entries.map { e in
            CustomerTransactions(id: e.key, externalID: e.textStart >= 0 ? ChunkTable.text(e, base: base) : nil,
                                 firstDay: Int(e.first), lastDay: Int(e.last), orderCount: Int(e.orders),
                                 revenueMinor: e.revenue, costMinor: hasCost ? e.cost : nil)
        }
    }

    struct LocalError: Error {
        var line: Int
        var column: String
        var start: Int
        var count: Int
        var reason: String
    }

    /// One customer's running totals, stored in the hash table's slot itself (one cache line
    /// per row instead of one per column); `orders == 0` marks an empty slot.
    struct Entry {
        var key: Int64 = 0
        var textStart: Int = -1
        var textCount: Int32 = 0
        var first: Int32 = 0
        var last: Int32 = 0
        var orders: Int32 = 0
        var revenue: Int64 = 0
        var cost: Int64 = 0
    }

    /// Open-addressing table (linear probing, power-of-two capacity, ≤ 50% load) from customer
    /// key to its totals. Owned by one worker at a time.
    final class ChunkTable: @unchecked Sendable {
        private(set) var slots: UnsafeMutablePointer<Entry>
        private(set) var capacity: Int
        private(set) var count = 0

        init(capacity: Int) {
            self.capacity = capacity
            slots = .allocate(capacity: capacity)
            slots.initialize(repeating: Entry(), count: capacity)
        }

        deinit { slots.deallocate() }

        @inline(__always) static func hash(_ k: Int64) -> Int {
            Int(truncatingIfNeeded: (UInt64(bitPattern: k) &* 0x9E37_79B9_7F4A_7C15) >> 20)
        }

        static func text(_ e: Entry, base: UnsafePointer<UInt8>) -> String {
            String(decoding: UnsafeBufferPointer(start: base + e.textStart, count: Int(e.textCount)), as: UTF8.self)
        }

        /// The slot for the key (a new slot has orders == 0 and must be filled at once);
        /// nil when a text id's hash matches a different text.
        @inline(__always)
        func slot(key: Int64, textStart ts: Int, textCount tc: Int32, base: UnsafePointer<UInt8>) -> UnsafeMutablePointer<Entry>? {
            if (count + 1) * 2 > capacity { grow() }
            let mask = capacity - 1
            var h = Self.hash(key) & mask
            while true {
                let e = slots + h
                if e.pointee.orders == 0 {
                    e.pointee.key = key
                    e.pointee.textStart = ts
                    e.pointee.textCount = tc
                    count += 1
                    return e
                }
                if e.pointee.key == key {
                    if ts >= 0 && (e.pointee.textCount != tc || memcmp(base + e.pointee.textStart, base + ts, Int(tc)) != 0) { return nil }
                    return e
                }
                h = (h + 1) & mask
            }
        }

        func grow() {
            let old = slots, oldCapacity = capacity
            capacity *= 2
            slots = .allocate(capacity: capacity)
            slots.initialize(repeating: Entry(), count: capacity)
            let mask = capacity - 1
            for k in 0..<oldCapacity where old[k].orders != 0 {
                var h = Self.hash(old[k].key) & mask
                while slots[h].orders != 0 { h = (h + 1) & mask }
                slots[h] = old[k]
            }
            old.deallocate()
        }

        /// The occupied entries.
        func entries() -> [Entry] {
            var result = [Entry]()
            result.reserveCapacity(count)
            for k in 0..<capacity where slots[k].orders != 0 { result.append(slots[k]) }
            return result
        }
    }

    static func parseChunk(base: UnsafePointer<UInt8>, from: Int, to end: Int, minorDigits: Int, hasCost: Bool, into table: ChunkTable) throws {
        let comma = UInt8(ascii: ","), newline = UInt8(ascii: "\n"), cr = UInt8(ascii: "\r")
        let zero = UInt8(ascii: "0"), minus = UInt8(ascii: "-"), dot = UInt8(ascii: ".")
        var p = from
        var line = 0
        var cachedDateLow: UInt64 = 0, cachedDateHigh: UInt16 = 0, cachedDay: Int32 = 0, haveCachedDate = false
        let raw = UnsafeRawPointer(base)

        @inline(__always) func fieldEnd(_ start: Int, last: Bool) -> Int {
            var q = start
            if last {
                while q < end && base[q] != newline && base[q] != comma { q += 1 }
                if q > start && base[q - 1] == cr { q -= 1 }
            } else {
                while q < end && base[q] != comma && base[q] != newline { q += 1 }
            }
            return q
        }

        /// Exact decimal → minor units.
        @inline(__always) func money(_ s: Int, _ e: Int, column: String) throws -> Int64 {
            var q = s
            var negative = false
            if q < e && base[q] == minus { negative = true; q += 1 }
            var value: Int64 = 0
            var digits = 0
            while q < e && base[q] &- zero < 10 {
                value = value &* 10 &+ Int64(base[q] &- zero)
                digits += 1
                q += 1
            }
            var fraction = 0
            if q < e && base[q] == dot {
                q += 1
                while q < e && base[q] &- zero < 10 {
                    if fraction == minorDigits {
                        if base[q] != zero { throw LocalError(line: line, column: column, start: s, count: e - s, reason: "has more than \(minorDigits) decimals") }
                    } else {
                        value = value &* 10 &+ Int64(base[q] &- zero)
                        fraction += 1
                        digits += 1
                    }
                    q += 1
                }
            }
            if q != e || digits == 0 || (q > s && base[q - 1] == dot && digits == 0) {
                throw LocalError(line: line, column: column, start: s, count: e - s, reason: "is not a number")
            }
            if digits > 17 { throw LocalError(line: line, column: column, start: s, count: e - s, reason: "is too large") }
            while fraction < minorDigits { value &*= 10; fraction += 1 }
            return negative ? -value : value
        }

        while p < end {
            line += 1
            // Skip blank lines (including a trailing one).
            if base[p] == newline { p += 1; continue }
            if base[p] == cr && p + 1 < end && base[p + 1] == newline { p += 2; continue }

            // customer_id
            let idStart = p
            var numeric = true
            var idValue: Int64 = 0
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            while p < end {
                let c = base[p]
                if c == comma || c == newline { break }
                let d = c &- zero
                if d < 10 { idValue = idValue &* 10 &+ Int64(d) } else { numeric = false }
                hash = (hash ^ UInt64(c)) &* 0x100_0000_01B3
                p += 1
            }
            let idEnd = p
            if idEnd == idStart || p >= end || base[p] != comma {
                if idEnd == idStart { throw LocalError(line: line, column: "customer_id", start: idStart, count: 0, reason: "is empty") }
                throw LocalError(line: line, column: "order_date", start: idEnd, count: 0, reason: "is missing")
            }
            if idEnd - idStart > 18 { numeric = false }
            let key: Int64 = numeric ? idValue : Int64(bitPattern: hash | (1 << 63))
            p += 1

            // order_date
            let dateStart = p
            let dateEnd = fieldEnd(p, last: false)
            if dateEnd >= end || base[dateEnd] != comma {
                throw LocalError(line: line, column: "amount", start: dateEnd, count: 0, reason: "is missing")
            }
            var day: Int32
            if dateEnd - dateStart == 10 {
                let lo = raw.loadUnaligned(fromByteOffset: dateStart, as: UInt64.self)
                let hi = raw.loadUnaligned(fromByteOffset: dateStart + 8, as: UInt16.self)
                if haveCachedDate && lo == cachedDateLow && hi == cachedDateHigh {
                    day = cachedDay
                } else {
                    let d0 = base[dateStart] &- zero, d1 = base[dateStart + 1] &- zero
                    let d2 = base[dateStart + 2] &- zero, d3 = base[dateStart + 3] &- zero
                    let d5 = base[dateStart + 5] &- zero, d6 = base[dateStart + 6] &- zero
                    let d8 = base[dateStart + 8] &- zero, d9 = base[dateStart + 9] &- zero
                    let ok = base[dateStart + 4] == minus && base[dateStart + 7] == minus
                        && d0 < 10 && d1 < 10 && d2 < 10 && d3 < 10 && d5 < 10 && d6 < 10 && d8 < 10 && d9 < 10
                    let y = Int(d0) * 1000 + Int(d1) * 100 + Int(d2) * 10 + Int(d3)
                    let m = Int(d5) * 10 + Int(d6), d = Int(d8) * 10 + Int(d9)
                    guard ok, let date = CalendarDate(year: y, month: m, day: d) else {
                        throw LocalError(line: line, column: "order_date", start: dateStart, count: 10, reason: "is not a date YYYY-MM-DD")
                    }
                    day = Int32(date.daysSinceEpoch)
                    cachedDateLow = lo; cachedDateHigh = hi; cachedDay = day; haveCachedDate = true
                }
            } else {
                throw LocalError(line: line, column: "order_date", start: dateStart, count: dateEnd - dateStart, reason: "is not a date YYYY-MM-DD")
            }
            p = dateEnd + 1

            // amount [, cost]
            let amountStart = p
            let amountEnd = fieldEnd(p, last: !hasCost)
            if hasCost && (amountEnd >= end || base[amountEnd] != comma) {
                throw LocalError(line: line, column: "cost", start: amountEnd, count: 0, reason: "is missing")
            }
            let amount = try money(amountStart, amountEnd, column: "amount")
            var cost: Int64 = 0
            if hasCost {
                let costStart = amountEnd + 1
                let costEnd = fieldEnd(costStart, last: true)
                cost = try money(costStart, costEnd, column: "cost")
                p = costEnd
            } else {
                p = amountEnd
            }
            // End of line.
            if p < end && base[p] == cr { p += 1 }
            if p < end {
                if base[p] != newline {
                    let extra = base[p] == comma ? p + 1 : p
                    var q = extra
                    while q < end && base[q] != newline && base[q] != cr { q += 1 }
                    throw LocalError(line: line, column: hasCost ? "cost" : "amount", start: extra, count: q - extra, reason: "is followed by an extra column")
                }
                p += 1
            }

            guard let e = table.slot(key: key, textStart: numeric ? -1 : idStart, textCount: numeric ? 0 : Int32(idEnd - idStart), base: base) else {
                throw LocalError(line: line, column: "customer_id", start: idStart, count: idEnd - idStart, reason: "has the same 63-bit hash as another id")
            }
            if e.pointee.orders == 0 {
                e.pointee.first = day
                e.pointee.last = day
            } else {
                if day < e.pointee.first { e.pointee.first = day }
                if day > e.pointee.last { e.pointee.last = day }
            }
            e.pointee.orders += 1
            e.pointee.revenue += amount
            e.pointee.cost += cost
        }
    }
}
