import CRMAnalytics
import CRMCore
import Foundation

/// The languages the pages speak. A signed-in user's choice is kept on their account; before
/// sign-in (and for a user who never chose) the browser's Accept-Language decides.
public enum UILanguage: String, Sendable, CaseIterable {
    case zhHans = "zh-Hans"
    case en

    /// The language a stored locale names ("en", "en-GB" → English; anything else Chinese).
    public init(locale: String) {
        self = locale.lowercased().hasPrefix("en") ? .en : .zhHans
    }

    /// The first of our languages the header asks for, by its q-values; Chinese when none.
    public static func preferred(acceptLanguage header: String?) -> UILanguage {
        guard let header else { return .zhHans }
        var best: (language: UILanguage, q: Double)?
        for part in header.split(separator: ",") {
            let fields = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = fields.first?.lowercased(), !tag.isEmpty else { continue }
            let q = fields.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            let language: UILanguage? = tag.hasPrefix("zh") ? .zhHans : tag.hasPrefix("en") ? .en : nil
            // Earlier entries win ties: browsers list them in order of preference.
            if let language, q > 0, q > (best?.q ?? 0) {
                best = (language, q)
            }
        }
        return best?.language ?? .zhHans
    }

    /// The other language, for the switch in the header.
    public var other: UILanguage { self == .en ? .zhHans : .en }
    /// The switch's label, written in the language it switches to.
    public var nativeName: String { self == .en ? "English" : "简体中文" }
}

/// Every piece of text a page shows, looked up in the page's language.
public struct Strings: Sendable {
    public let language: UILanguage

    public init(_ language: UILanguage) { self.language = language }

    public subscript(_ key: UIText) -> String {
        let table = language == .en ? Translations.en : Translations.zh
        return table[key] ?? key.rawValue
    }

    /// A domain value in the domain's words (白金客户, 忠诚客户, 分析型 …).
    public func term<T: DomainTerm>(_ value: T) -> String {
        let key = T.termGroup + "." + value.rawValue
        let table = language == .en ? Translations.termsEn : Translations.termsZh
        return table[key] ?? value.rawValue
    }

    public func term<T: DomainTerm>(_ value: T?) -> String {
        value.map { term($0) } ?? "—"
    }

    /// Whole numbers with grouping (12,345), the same in both languages.
    public func count(_ n: Int) -> String {
        Self.grouped(String(n.magnitude), negative: n < 0)
    }

    /// An amount in minor units with its currency, exactly (no floating point): ¥1,234.50.
    public func money(_ minor: Int64, currency: String) -> String {
        let symbol = currency == "CNY" ? "¥" : currency == "USD" ? "$" : currency == "EUR" ? "€" : currency + " "
        let major = minor.magnitude / 100, cents = minor.magnitude % 100
        let text = Self.grouped(String(major), negative: false) + "." + (cents < 10 ? "0" : "") + String(cents)
        return (minor < 0 ? "−" : "") + symbol + text
    }

    /// An amount shown to the nearest major unit, for charts and summaries.
    public func moneyRounded(_ minor: Int64, currency: String) -> String {
        let symbol = currency == "CNY" ? "¥" : currency == "USD" ? "$" : currency == "EUR" ? "€" : currency + " "
        let major = (minor.magnitude + 50) / 100
        return (minor < 0 ? "−" : "") + symbol + Self.grouped(String(major), negative: false)
    }

    public func percent(_ share: Double?, digits: Int = 1) -> String {
        guard let share, share.isFinite else { return "—" }
        return String(format: "%.\(digits)f%%", share * 100)
    }

    public func date(_ date: CalendarDate) -> String { date.description }

    /// An instant as the viewer's local date and minute (Asia/Shanghai unless told otherwise).
    public func dateTime(_ instant: Date, timeZone: TimeZone = TimeZone(identifier: "Asia/Shanghai")!) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: instant)
        return String(format: "%04d-%02d-%02d %02d:%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0)
    }

    static func grouped(_ digits: String, negative: Bool) -> String {
        var out = ""
        for (i, ch) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(ch)
        }
        return (negative ? "−" : "") + out
    }
}

/// A domain enumeration shown to people by its term in `Translations`, keyed `group.rawValue`.
public protocol DomainTerm: RawRepresentable<String>, CaseIterable, Sendable {
    static var termGroup: String { get }
}

extension CustomerTier: DomainTerm { public static var termGroup: String { "tier" } }
extension ThreeLevelTier: DomainTerm { public static var termGroup: String { "valueLevel" } }
extension LoyaltyStage: DomainTerm { public static var termGroup: String { "loyalty" } }
extension RFMSegment: DomainTerm { public static var termGroup: String { "rfm" } }
extension ChurnRiskLevel: DomainTerm { public static var termGroup: String { "churn" } }
extension BuyingType: DomainTerm { public static var termGroup: String { "buyingType" } }
extension ValueTrajectory: DomainTerm { public static var termGroup: String { "trajectory" } }
extension PersonalityStyle: DomainTerm { public static var termGroup: String { "style" } }
extension BuyingRole: DomainTerm { public static var termGroup: String { "buyingRole" } }
extension CustomerRole: DomainTerm { public static var termGroup: String { "role" } }
extension Customer.Kind: DomainTerm { public static var termGroup: String { "kind" } }
extension Interaction.Kind: DomainTerm { public static var termGroup: String { "interaction" } }
extension Interaction.Direction: DomainTerm { public static var termGroup: String { "direction" } }
extension ContactChannel: DomainTerm { public static var termGroup: String { "channel" } }
extension FollowUpTask.Status: DomainTerm { public static var termGroup: String { "taskStatus" } }
extension Consent.Status: DomainTerm { public static var termGroup: String { "consent" } }
extension UserRole: DomainTerm { public static var termGroup: String { "userRole" } }
extension Gender: DomainTerm { public static var termGroup: String { "gender" } }
extension AuditEntry.Action: DomainTerm { public static var termGroup: String { "audit" } }

/// Every domain enumeration the pages name, for the test that each has both translations.
public let allDomainTermKeys: [String] = {
    func keys<T: DomainTerm>(_: T.Type) -> [String] { T.allCases.map { T.termGroup + "." + $0.rawValue } }
    return keys(CustomerTier.self) + keys(ThreeLevelTier.self) + keys(LoyaltyStage.self) + keys(RFMSegment.self)
        + keys(ChurnRiskLevel.self) + keys(BuyingType.self) + keys(ValueTrajectory.self) + keys(PersonalityStyle.self)
        + keys(BuyingRole.self) + keys(CustomerRole.self) + keys(Customer.Kind.self) + keys(Interaction.Kind.self)
        + keys(Interaction.Direction.self) + keys(ContactChannel.self) + keys(FollowUpTask.Status.self) + keys(Consent.Status.self)
        + keys(UserRole.self) + keys(Gender.self) + keys(AuditEntry.Action.self)
}()
