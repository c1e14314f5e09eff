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

    /// `Instant` rounds as Foundation hands instants to ICU, so each lands on the same
    /// millisecond as with ICU. Outside 1601–9999 ICU's calendar is Julian (before 1582) or
    /// its spelling differs; such instants, never stored, go to ICU.
    func encode(_ date: Date) throws -> String {
        try Instant.formatUTCWithMilliseconds(date) ?? general.encode(date)
    }

    func decode(_ text: String) throws -> Date {
        // As ICU reads it: milliseconds since 1970, in seconds, moved to 2001.
        if let milliseconds = Instant.millisecondsSince1970(utc: text) {
            return Date(timeIntervalSinceReferenceDate: Double(milliseconds) / 1000 - 978_307_200)
        }
        return try general.decode(text)
    }
}
