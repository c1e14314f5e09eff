import CRMAPI
import Foundation

/// JSON text written straight into bytes, exactly as the API's `JSONEncoder` (options
/// `.sortedKeys` and `.withoutEscapingSlashes`) writes it: the same escapes, the same
/// numbers, keys in the same (UTF-8 byte) order. Callers write an object's keys in that
/// order themselves; `CustomerJSONTests` compares the bytes with the encoder's.
///
/// Why it exists: Foundation's encoder builds a tree of boxed values through generic
/// containers before writing it, which was a fifth of the server's time answering GET a
/// customer, the API's most frequent call.
struct JSONText {
    enum Failure: Error { case notFinite(Double) }

    private(set) var bytes: [UInt8] = []
    /// Whether the next value in the open object or array needs a comma before it.
    private var needsComma = false

    init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    mutating func object(_ body: (inout JSONText) throws -> Void) rethrows {
        separate(); bytes.append(UInt8(ascii: "{")); needsComma = false
        try body(&self)
        bytes.append(UInt8(ascii: "}")); needsComma = true
    }

    mutating func array(_ body: (inout JSONText) throws -> Void) rethrows {
        separate(); bytes.append(UInt8(ascii: "[")); needsComma = false
        try body(&self)
        bytes.append(UInt8(ascii: "]")); needsComma = true
    }

    /// A key of the open object; its value follows.
    mutating func key(_ key: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        needsComma = false
    }

    /// A key that is data (a custom field's), escaped like any string. (Named apart from
    /// `key(_:)`: with one name, a literal would pick this overload, String being the
    /// default literal type.)
    mutating func dataKey(_ key: String) {
        string(key)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func string(_ value: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var start = 0
            for (i, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<i]))
                escape(byte)
                start = i + 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    private mutating func escape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        default:
            func hex(_ nibble: UInt8) -> UInt8 { nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10 }
            bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex(byte >> 4), hex(byte & 0xF)])
        }
    }

    mutating func integer<I: FixedWidthInteger>(_ value: I) {
        separate()
        if value == 0 { bytes.append(UInt8(ascii: "0")); needsComma = true; return }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var rest = UInt64(value.magnitude)
        let start = bytes.count
        while rest > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        }
        bytes[start...].reverse()
        needsComma = true
    }

    /// As Foundation writes a Double: its shortest round-trip spelling, without a trailing ".0".
    mutating func number(_ value: Double) throws {
        guard value.isFinite else { throw Failure.notFinite(value) }
        separate()
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
        needsComma = true
    }

    mutating func bool(_ value: Bool) {
        separate()
        let text: StaticString = value ? "true" : "false"
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }
}

extension Components.Schemas.Customer {
    /// This customer as the API's `JSONEncoder` would write it, byte for byte. Keys are
    /// written in sorted order and absent optionals are left out, as the encoder does.
    func json(dates: InternetDateTranscoder) throws -> [UInt8] {
        var out = JSONText()
        try out.object { o in
            if let analytics { o.key("analytics"); try analytics.write(to: &o) }
            if let archivedAt { o.key("archivedAt"); o.string(try dates.encode(archivedAt)) }
            o.key("createdAt"); o.string(try dates.encode(createdAt))
            o.key("customFields")
            try o.object { f in
                for (key, value) in customFields.additionalProperties.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }) {
                    f.dataKey(key)
                    switch value {
                    case .CustomFieldText(let text): f.string(text)
                    case .CustomFieldNumber(let number): try f.number(number)
                    }
                }
            }
            if let email { o.key("email"); o.string(email) }
            if let externalID { o.key("externalID"); o.string(externalID) }
            o.key("id"); o.integer(id)
            o.key("kind"); o.string(kind.rawValue)
            o.key("name"); o.string(name)
            if let ownerID { o.key("ownerID"); o.integer(ownerID) }
            if let phone { o.key("phone"); o.string(phone) }
            o.key("profile"); profile.write(to: &o)
            o.key("roles"); o.array { a in for role in roles { a.string(role.rawValue) } }
            if let source { o.key("source"); o.string(source) }
            o.key("tags"); o.array { a in for tag in tags { a.string(tag) } }
            o.key("updatedAt"); o.string(try dates.encode(updatedAt))
            o.key("version"); o.integer(version)
        }
        return out.bytes
    }
}

extension Components.Schemas.CustomerProfile {
    func write(to o: inout JSONText) {
        o.object { o in
            if let birthday { o.key("birthday"); o.string(birthday) }
            o.key("contactWindows")
            o.array { a in
                for w in contactWindows {
                    a.object { o in
                        o.key("end"); o.string(w.end)
                        o.key("start"); o.string(w.start)
                        o.key("weekday"); o.integer(w.weekday)
                    }
                }
            }
            o.key("doNotContact")
            o.array { a in
                for period in doNotContact {
                    a.object { o in
                        o.key("from"); o.string(period.from)
                        if let reason = period.reason { o.key("reason"); o.string(reason) }
                        o.key("to"); o.string(period.to)
                    }
                }
            }
            if let familyNotes { o.key("familyNotes"); o.string(familyNotes) }
            if let gender { o.key("gender"); o.string(gender.rawValue) }
            o.key("hobbies"); o.array { a in for hobby in hobbies { a.string(hobby) } }
            if let industry { o.key("industry"); o.string(industry) }
            if let personalityEvidence { o.key("personalityEvidence"); o.string(personalityEvidence) }
            if let personalityStyle { o.key("personalityStyle"); o.string(personalityStyle.rawValue) }
            if let preferredChannel { o.key("preferredChannel"); o.string(preferredChannel.rawValue) }
            o.key("timeZone"); o.string(timeZone)
        }
    }
}

extension Components.Schemas.CustomerAnalytics {
    func write(to o: inout JSONText) throws {
        try o.object { o in
            if let buyingType { o.key("buyingType"); o.string(buyingType.rawValue) }
            if let churnRisk { o.key("churnRisk"); o.string(churnRisk.rawValue) }
            if let clvMinor { o.key("clvMinor"); o.integer(clvMinor) }
            o.key("currency"); o.string(currency)
            if let expectedPurchases { o.key("expectedPurchases"); try o.number(expectedPurchases) }
            if let frequencyScore { o.key("frequencyScore"); o.integer(frequencyScore) }
            o.key("loyaltyStage"); o.string(loyaltyStage.rawValue)
            if let monetaryScore { o.key("monetaryScore"); o.integer(monetaryScore) }
            if let probabilityAlive { o.key("probabilityAlive"); try o.number(probabilityAlive) }
            if let recencyScore { o.key("recencyScore"); o.integer(recencyScore) }
            if let rfmSegment { o.key("rfmSegment"); o.string(rfmSegment.rawValue) }
            o.key("runID"); o.integer(runID)
            o.key("silentChurn"); o.bool(silentChurn)
            o.key("tier"); o.string(tier.rawValue)
            o.key("trajectory"); o.string(trajectory.rawValue)
            o.key("valueLevel"); o.string(valueLevel.rawValue)
            o.key("windowProfitMinor"); o.integer(windowProfitMinor)
            o.key("windowRevenueMinor"); o.integer(windowRevenueMinor)
        }
    }
}
