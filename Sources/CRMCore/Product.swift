import Foundation

/// Something the firm sells; its unit cost lets every order line carry its profit.
public struct Product: Sendable, Codable, Equatable {
    public typealias ID = Identifier<Product>
    public var id: ID
    public var sku: String
    public var name: String
    public var category: String?
    public var listPrice: Money
    public var unitCost: Money
    public var archivedAt: Date?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int64

    public init(id: ID, sku: String, name: String, category: String?, listPrice: Money, unitCost: Money, archivedAt: Date? = nil, createdAt: Date, updatedAt: Date, version: Int64) {
        self.id = id; self.sku = sku; self.name = name; self.category = category; self.listPrice = listPrice
        self.unitCost = unitCost; self.archivedAt = archivedAt; self.createdAt = createdAt; self.updatedAt = updatedAt; self.version = version
    }
}

public struct ProductInput: Sendable, Codable, Equatable {
    public var sku: String
    public var name: String
    public var category: String?
    public var listPrice: Money
    public var unitCost: Money

    public init(sku: String, name: String, category: String? = nil, listPrice: Money, unitCost: Money) {
        self.sku = sku; self.name = name; self.category = category; self.listPrice = listPrice; self.unitCost = unitCost
    }

    public func normalised() throws(DomainError) -> ProductInput {
        var v = Validator()
        var out = self
        out.sku = Normalise.name(sku)
        out.name = Normalise.name(name)
        out.category = category.map(Normalise.name).flatMap { $0.isEmpty ? nil : $0 }
        v.require(!out.sku.isEmpty && out.sku.count <= 64, "/sku", "must be 1 to 64 characters")
        v.require(!out.name.isEmpty, "/name", "must not be empty")
        v.require(listPrice.minorUnits >= 0, "/listPrice/minorUnits", "must not be negative")
        v.require(unitCost.minorUnits >= 0, "/unitCost/minorUnits", "must not be negative")
        v.require(listPrice.currency == unitCost.currency, "/unitCost/currency", "must be the list price's currency")
        try v.check()
        return out
    }
}
