import CRMCore
import Foundation
import OpenAPIRuntime

/// The API's instants: RFC 3339 in UTC with milliseconds, `2026-11-27T09:58:24.123Z`,
/// exactly as `ISO8601DateTranscoder.iso8601WithFractionalSeconds` writes and reads them.
///
/// That transcoder goes through ICU for every instant, behind one lock: 4.5% of the
/// server's time answering GET a customer, which carries several. This one writes the
/// digits itself, and reads that one shape itself; any other text (an offset such as
/// `+08:00`) goes to the ICU transcoder, so what is accepted and refused is unchanged.
struct InternetDateTranscoder: DateTranscoder {
    private let general = ISO8601DateTranscoder.iso8601WithFractionalSeconds
    /// Seconds from 1970 to 2001, Foundation's reference date. Instants are converted the
    /// way Foundation hands them to ICU (milliseconds since 1970, plus half a millisecond,
    /// which ICU then rounds down), so each lands on the same millisecond as before.
    private static let since1970 = 978_307_200.0
    /// 1601-01-01 and 10000-01-01 in milliseconds since 1970. Outside them, ICU's calendar
    /// is Julian (before 1582) or its spelling differs; such instants, never stored, go to ICU.
    private static let fastRange: Range<Double> = -11_644_473_600_000 ..< 253_402_300_800_000

    func encode(_ date: Date) throws -> String {
        let milliseconds = ((date.timeIntervalSinceReferenceDate + Self.since1970) * 1000 + 0.5).rounded(.down)
        guard milliseconds.isFinite, Self.fastRange.contains(milliseconds) else {
            return try general.encode(date)
        }
        let total = Int64(milliseconds)
        let (days, inDay) = Self.floorDivide(total, 86_400_000)
        let date = CalendarDate(daysSinceEpoch: Int(days))
        var bytes = [UInt8](repeating: 0, count: 24)
        func put(_ value: Int64, _ width: Int, at offset: Int) {
            var v = value
            for i in stride(from: offset + width - 1, through: offset, by: -1) {
                bytes[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
                v /= 10
            }
        }
        put(Int64(date.year), 4, at: 0); bytes[4] = 45 // -
        put(Int64(date.month), 2, at: 5); bytes[7] = 45
        put(Int64(date.day), 2, at: 8); bytes[10] = 84 // T
        put(inDay / 3_600_000, 2, at: 11); bytes[13] = 58 // :
        put(inDay / 60_000 % 60, 2, at: 14); bytes[16] = 58
        put(inDay / 1000 % 60, 2, at: 17); bytes[19] = 46 // .
        put(inDay % 1000, 3, at: 20); bytes[23] = 90 // Z
        return String(decoding: bytes, as: UTF8.self)
    }

    func decode(_ text: String) throws -> Date {
        if let date = Self.parseUTCWithMilliseconds(text) { return date }
        return try general.decode(text)
    }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ` from 1601 on, with a real calendar date and time, or nil.
    static func parseUTCWithMilliseconds(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { b -> Date? in
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
            let total = ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millisecond
            return Date(timeIntervalSinceReferenceDate: Double(total) / 1000 - since1970)
        }
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }
}
