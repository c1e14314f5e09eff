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
        var s = Substring(text.trimmingCharacters(in: .whitespaces))
        var negative = false
        if s.first == "-" { negative = true; s = s.dropFirst() } else if s.first == "+" { s = s.dropFirst() }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let wholePart = parts.first, !wholePart.isEmpty || parts.count == 2 else { return nil }
        guard wholePart.allSatisfy(\.isASCIIDigit) else { return nil }
        var fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.allSatisfy(\.isASCIIDigit), fraction.count <= digits else { return nil }
        fraction += String(repeating: "0", count: digits - fraction.count)
        guard let whole = Int64(wholePart.isEmpty ? "0" : String(wholePart)),
              let frac = Int64(fraction.isEmpty ? "0" : fraction) else { return nil }
        let (scaled, o1) = whole.multipliedReportingOverflow(by: pow10(digits))
        let (value, o2) = scaled.addingReportingOverflow(frac)
        guard !o1, !o2 else { return nil }
        return negative ? -value : value
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
