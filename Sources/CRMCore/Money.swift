/// An ISO 4217 currency code with its number of minor units (分 for CNY, cents for USD).
public struct Currency: Hashable, Sendable, Codable, CustomStringConvertible {
    public let code: String

    /// Accepts three ASCII letters, upper-cased; anything else is not a currency.
    public init?(_ code: String) {
        let upper = code.uppercased()
        guard upper.count == 3, upper.allSatisfy({ $0.isASCII && $0.isLetter }) else { return nil }
        self.code = upper
    }

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        guard let currency = Currency(raw) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 4217 code: \(raw)"))
        }
        self = currency
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }

    public static let cny = Currency("CNY")!
    public static let usd = Currency("USD")!
    public static let eur = Currency("EUR")!

    /// Digits after the decimal point; the few zero-decimal currencies are listed, the rest use two.
    public var minorUnitDigits: Int {
        switch code {
        case "JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF": return 0
        case "BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD": return 3
        default: return 2
        }
    }

    public var description: String { code }
}

/// An amount of money in integer minor units. Floating point never touches money:
/// sums are exact, and adding two currencies is an error rather than a silent mix.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    public var minorUnits: Int64
    public var currency: Currency

    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func zero(_ currency: Currency) -> Money { Money(minorUnits: 0, currency: currency) }

    public func adding(_ other: Money) throws(MoneyError) -> Money {
        guard other.currency == currency else { throw .currencyMismatch(currency, other.currency) }
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw .overflow }
        return Money(minorUnits: sum, currency: currency)
    }

    /// "1234.50 CNY": the amount in major units, exact, for display and CSV.
    public var description: String { "\(Money.decimalString(minorUnits, digits: currency.minorUnitDigits)) \(currency.code)" }

    public static func decimalString(_ minor: Int64, digits: Int) -> String {
        guard digits > 0 else { return String(minor) }
        let scale = Int64(pow10(digits))
        let sign = minor < 0 ? "-" : ""
        let magnitude = minor.magnitude
        let whole = magnitude / UInt64(scale)
        let fraction = String(magnitude % UInt64(scale))
        return "\(sign)\(whole).\(String(repeating: "0", count: digits - fraction.count))\(fraction)"
    }

    /// Parses "12.5" or "-3" into minor units without floating point; nil if not a number
    /// or if it has more decimals than the currency allows.
    public static func parseMinorUnits(_ text: String, digits: Int) -> Int64? {
        // Byte by byte over ASCII: an order import parses three amounts per line.
        var bytes = Substring(text).utf8[...]
        while let f = bytes.first, f == 0x20 || f == 0x09 { bytes = bytes.dropFirst() }
        while let l = bytes.last, l == 0x20 || l == 0x09 { bytes = bytes.dropLast() }
        var negative = false
        if bytes.first == UInt8(ascii: "-") { negative = true; bytes = bytes.dropFirst() } else if bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        var value: Int64 = 0
        var wholeDigits = 0, fractionDigits = 0
        var inFraction = false
        for b in bytes {
            if b == UInt8(ascii: ".") {
                guard !inFraction else { return nil }
                inFraction = true
                continue
            }
            guard b >= 0x30 && b <= 0x39 else { return nil }
            if inFraction { fractionDigits += 1; guard fractionDigits <= digits else { return nil } } else { wholeDigits += 1 }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (v, o2) = m.addingReportingOverflow(Int64(b - 0x30))
            guard !o1, !o2 else { return nil }
            value = v
        }
        guard wholeDigits > 0 || (inFraction && fractionDigits > 0) else { return nil }
        let (scaled, o) = value.multipliedReportingOverflow(by: pow10(digits - fractionDigits))
        guard !o else { return nil }
        return negative ? -scaled : scaled
    }

    private static func pow10(_ n: Int) -> Int64 { (0..<n).reduce(Int64(1)) { acc, _ in acc * 10 } }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

public enum MoneyError: Error, Equatable, Sendable {
    case currencyMismatch(Currency, Currency)
    case overflow
}

import Foundation
