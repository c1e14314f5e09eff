import Foundation

/// A calendar date with no time of day or zone (a birthday, an order date).
/// Stored and sent as `YYYY-MM-DD`, which also sorts correctly as text.
public struct CalendarDate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...CalendarDate.daysIn(month: month, year: year)).contains(day) else { return nil }
        self.year = year; self.month = month; self.day = day
    }

    /// Parses exactly `YYYY-MM-DD`; nil for anything else, including 2025-02-30.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let date = CalendarDate(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a date (YYYY-MM-DD): \(raw)"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// "YYYY-MM-DD", written digit by digit: every order line, task and audit entry of an
    /// import formats a date, and `String(format:)` cost more than the rest of the line.
    public var description: String {
        guard (0...9999).contains(year), (1...12).contains(month), (1...31).contains(day) else {
            return String(format: "%04d-%02d-%02d", year, month, day)
        }
        let zero = UInt8(ascii: "0"), dash = UInt8(ascii: "-")
        let bytes: [UInt8] = [zero + UInt8(year / 1000), zero + UInt8(year / 100 % 10), zero + UInt8(year / 10 % 10), zero + UInt8(year % 10), dash,
                              zero + UInt8(month / 10), zero + UInt8(month % 10), dash, zero + UInt8(day / 10), zero + UInt8(day % 10)]
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// Days since 1970-01-01 (proleptic Gregorian); the unit the analytics engine counts in.
    /// Howard Hinnant's days_from_civil.
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// Inverse of `daysSinceEpoch` (Hinnant's civil_from_days).
    public init(daysSinceEpoch z0: Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.year = yoe + era * 400 + (m <= 2 ? 1 : 0)
        self.month = m
        self.day = d
    }

    public func adding(days: Int) -> CalendarDate { CalendarDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// The UTC calendar date of an instant.
    public init(utc instant: Date) {
        self.init(daysSinceEpoch: Int((instant.timeIntervalSince1970 / 86_400).rounded(.down)))
    }

    /// The calendar date of an instant in a time zone (today in Shanghai starts at 16:00 UTC).
    public init(_ instant: Date, in zone: TimeZone) {
        self.init(utc: instant.addingTimeInterval(Double(zone.secondsFromGMT(for: instant))))
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// Instants are UTC and travel as ISO 8601 with milliseconds, `2026-11-27T09:58:24.123Z`,
/// which also sorts as text.
///
/// That one shape is written and read here digit by digit: through `Date.ISO8601FormatStyle`
/// it was a tenth of reading a customer (three instants, and a lock inside Foundation that
/// the event loops queued on). Anything else (an offset such as `+08:00`, no fraction, a
/// year before 1601 or after 9999) goes to the format style, so what is accepted is unchanged.
///
/// Written instants are rounded to the nearest millisecond. The format style truncated, and
/// as a parsed `.331` is a hair below it in binary, reading and writing an instant again
/// could take a millisecond off it; `parse(format(d))` now gives `d` to the millisecond and
/// `format(parse(s))` gives `s` back.
public enum Instant {
    /// Seconds from 1970 to 2001, Foundation's reference date.
    private static let since1970 = 978_307_200.0
    /// 1601-01-01 and 10000-01-01 in milliseconds since 1970: the range written here.
    private static let fastRange: Range<Double> = -11_644_473_600_000 ..< 253_402_300_800_000

    public static func format(_ date: Date) -> String {
        formatUTCWithMilliseconds(date) ?? date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, rounded to the nearest millisecond (milliseconds since
    /// 1970 plus a half, rounded down: as Foundation hands instants to ICU); nil outside
    /// 1601–9999, which callers leave to a formatter that knows those calendars.
    public static func formatUTCWithMilliseconds(_ date: Date) -> String? {
        let milliseconds = ((date.timeIntervalSinceReferenceDate + since1970) * 1000 + 0.5).rounded(.down)
        guard milliseconds.isFinite, fastRange.contains(milliseconds) else { return nil }
        let total = Int64(milliseconds)
        let (days, inDay) = floorDivide(total, 86_400_000)
        let date = CalendarDate(daysSinceEpoch: Int(days))
        return String(unsafeUninitializedCapacity: 24) { bytes in
            func put(_ value: Int64, _ width: Int, at offset: Int) {
                var v = value
                for i in stride(from: offset + width - 1, through: offset, by: -1) {
                    bytes[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
                    v /= 10
                }
            }
            put(Int64(date.year), 4, at: 0); bytes[4] = UInt8(ascii: "-")
            put(Int64(date.month), 2, at: 5); bytes[7] = UInt8(ascii: "-")
            put(Int64(date.day), 2, at: 8); bytes[10] = UInt8(ascii: "T")
            put(inDay / 3_600_000, 2, at: 11); bytes[13] = UInt8(ascii: ":")
            put(inDay / 60_000 % 60, 2, at: 14); bytes[16] = UInt8(ascii: ":")
            put(inDay / 1000 % 60, 2, at: 17); bytes[19] = UInt8(ascii: ".")
            put(inDay % 1000, 3, at: 20); bytes[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    public static func parse(_ text: String) -> Date? {
        if let date = parseUTCWithMilliseconds(text) { return date }
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return d }
        return try? Date.ISO8601FormatStyle().parse(text)
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` as the format style reads it: whole seconds from 2001,
    /// plus the milliseconds (the same `Date`, but for one in about 100,000 a bit apart).
    public static func parseUTCWithMilliseconds(_ text: String) -> Date? {
        guard let milliseconds = millisecondsSince1970(utc: text) else { return nil }
        let (seconds, fraction) = floorDivide(milliseconds, 1000)
        return Date(timeIntervalSinceReferenceDate: Double(seconds - 978_307_200) + Double(fraction) / 1000)
    }

    /// The milliseconds since 1970 that `YYYY-MM-DDTHH:MM:SS.mmmZ` names, from 1601 on,
    /// with a real calendar date and time, or nil.
    public static func millisecondsSince1970(utc text: String) -> Int64? {
        var text = text
        return text.withUTF8 { b -> Int64? in
            guard b.count == 24, b[4] == 45, b[7] == 45, b[10] == 84, b[13] == 58, b[16] == 58, b[19] == 46, b[23] == 90 else { return nil }
            func number(_ from: Int, _ width: Int) -> Int64? {
                var n: Int64 = 0
                for i in from..<(from + width) {
                    let d = b[i] &- 48
                    guard d < 10 else { return nil }
                    n = n * 10 + Int64(d)
                }
                return n
            }
            guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
                  let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
                  let millisecond = number(20, 3), year >= 1601,
                  let date = CalendarDate(year: Int(year), month: Int(month), day: Int(day)),
                  hour < 24, minute < 60, second < 60 else { return nil }
            let days = Int64(date.daysSinceEpoch)
            return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millisecond
        }
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }
}
