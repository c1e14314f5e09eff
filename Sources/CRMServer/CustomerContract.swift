import CRMAPI
import CRMAnalytics
import CRMCore
import CRMStore
import Foundation

/// The customer as the contract spells it, built field by field. The generic way, a JSON
/// round trip through `Transcode`, cost a third of the CPU of reading a customer; the
/// customer is the most read record, so it is mapped directly. A test holds the two equal.
extension Components.Schemas.Customer {
    init(_ c: Customer, analysis: StoredCustomerAnalysis?) throws {
        let p = c.profile
        self.init(
            id: c.id.rawValue, kind: try contract(c.kind), name: c.name, roles: try c.roles.map(contract), email: c.email, phone: c.phone,
            profile: .init(
                gender: try p.gender.map(contract), birthday: p.birthday?.description, hobbies: p.hobbies, familyNotes: p.familyNotes,
                preferredChannel: try p.preferredChannel.map(contract), timeZone: p.timeZone,
                contactWindows: p.contactWindows.map { .init(weekday: $0.weekday, start: $0.start, end: $0.end) },
                doNotContact: p.doNotContact.map { .init(from: $0.from.description, to: $0.to.description, reason: $0.reason) },
                personalityStyle: try p.personalityStyle.map(contract), personalityEvidence: p.personalityEvidence, industry: p.industry),
            tags: c.tags, source: c.source, ownerID: c.ownerID?.rawValue,
            customFields: .init(additionalProperties: c.customFields.mapValues {
                switch $0 {
                case .text(let text): return .CustomFieldText(text)
                case .number(let number): return .CustomFieldNumber(number)
                }
            }),
            externalID: c.externalID, archivedAt: c.archivedAt, createdAt: c.createdAt, updatedAt: c.updatedAt, version: c.version,
            analytics: try analysis.map(Components.Schemas.CustomerAnalytics.init))
    }
}

extension Components.Schemas.CustomerAnalytics {
    init(_ stored: StoredCustomerAnalysis) throws {
        let a = stored.analysis
        self.init(
            runID: stored.runID, currency: stored.currency, tier: try contract(a.tier), valueLevel: try contract(a.valueLevel),
            loyaltyStage: try contract(a.loyaltyStage), buyingType: try a.buyingType.map(contract), trajectory: try contract(a.trajectory),
            recencyScore: a.recencyScore, frequencyScore: a.frequencyScore, monetaryScore: a.monetaryScore,
            rfmSegment: try a.rfmSegment.map(contract), expectedPurchases: a.expectedPurchases, probabilityAlive: a.probabilityAlive,
            clvMinor: a.clvMinor, churnRisk: try a.churnRisk.map(contract), silentChurn: a.silentChurn,
            windowRevenueMinor: a.windowRevenueMinor, windowProfitMinor: a.windowProfitMinor)
    }
}

/// The contract's case of one of our enums, by its raw value (the spec lists the same names).
private func contract<Ours: RawRepresentable<String>, Theirs: RawRepresentable<String>>(_ value: Ours) throws -> Theirs {
    guard let mapped = Theirs(rawValue: value.rawValue) else {
        throw StoreError.corrupt("\(value.rawValue) is not a \(Theirs.self) of the API contract")
    }
    return mapped
}
