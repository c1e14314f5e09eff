import CRMCore
@testable import CRMServer
import Foundation
import OpenAPIRuntime
import Testing

/// The API's own date transcoder must write and read exactly what the OpenAPI runtime's
/// ICU-based one did, so no client sees a changed instant.
@Suite("API instants")
struct InternetDateTranscoderTests {
    let fast = InternetDateTranscoder()
    let icu = ISO8601DateTranscoder.iso8601WithFractionalSeconds

    @Test
    func writesEveryInstantAsICUDoes() throws {
        // Seeded, so a failure can be repeated.
        var random = SeededRandom(seed: 20261127)
        var instants: [Date] = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -0.001), Date(timeIntervalSince1970: -86_400.5),
            Date(timeIntervalSince1970: 951_782_400), // 2000-02-29
            Date(timeIntervalSince1970: 4_107_542_399.999), // 2100-02-28T23:59:59.999
            Date(timeIntervalSince1970: 1_798_675_200.0005), Date(timeIntervalSinceReferenceDate: 0),
        ]
        for _ in 0..<20_000 {
            // 1900–2100, whole milliseconds (as stored) and arbitrary fractions (Date() now).
            let seconds = Double(Int64.random(in: -2_208_988_800_000...4_102_444_800_000, using: &random)) / 1000
            instants.append(Date(timeIntervalSince1970: seconds))
            instants.append(Date(timeIntervalSince1970: seconds + Double.random(in: 0..<0.001, using: &random)))
            // And anywhere from year 1 to 9999, through ICU's own path outside 1601–9999.
            instants.append(Date(timeIntervalSince1970: Double(Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &random)) / 1000))
        }
        for instant in instants {
            let expected = try icu.encode(instant)
            let written = try fast.encode(instant)
            #expect(written == expected, "\(instant.timeIntervalSince1970)")
            #expect(try fast.decode(written) == icu.decode(expected), "\(expected)")
        }
    }

    @Test
    func readsWhatICUReadsAndRefusesWhatItRefuses() throws {
        // The fast path takes the first; the others go to ICU, as before.
        for text in ["2026-11-27T09:58:24.123Z", "2026-11-27T17:58:24.123+08:00", "2026-11-27T09:58:24.1234Z",
                     "2024-02-29T23:59:59.999Z", "0001-01-01T00:00:00.000Z"] {
            #expect(try fast.decode(text) == icu.decode(text), "\(text)")
        }
        #expect(try fast.decode("2026-11-27T17:58:24.123+08:00") == fast.decode("2026-11-27T09:58:24.123Z"))
        for text in ["2026-13-01T00:00:00.000Z", "2026-11-27 09:58:24.123Z", "2026-11-27T09:58:24.12xZ", "yesterday", ""] {
            let fastRefused = (try? fast.decode(text)) == nil
            let icuRefused = (try? icu.decode(text)) == nil
            #expect(fastRefused == icuRefused, "\(text)")
            #expect(fastRefused, "\(text)")
        }
        // A day that does not exist is never taken by the fast path; ICU decides, as before.
        #expect(Instant.millisecondsSince1970(utc: "2026-02-29T00:00:00.000Z") == nil)
        #expect((try? fast.decode("2026-02-29T00:00:00.000Z")) == (try? icu.decode("2026-02-29T00:00:00.000Z")))
    }
}
