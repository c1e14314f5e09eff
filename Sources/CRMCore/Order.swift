import Foundation

/// A purchase by a customer on a calendar date. Lines carry price, discount and unit cost,
/// so revenue, profit and the part bought on promotion are known exactly.
public struct Order: Sendable, Codable, Equatable {
    public typealias ID = Identifier<Order>
    public var id: ID
    public var customerID: Customer.ID
    public var orderDate: CalendarDate
    public var channel: String?
    public var currency: Currency
    public var lines: [OrderLine]
    public var externalID: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int64

    public init(id: ID, customerID: Customer.ID, orderDate: CalendarDate, channel: String?, currency: Currency, lines: [OrderLine], externalID: String?, createdAt: Date, updatedAt: Date, version: Int64) {
        self.id = id; self.customerID = customerID; self.orderDate = orderDate; self.channel = channel; self.currency = currency
        self.lines = lines; self.externalID = externalID; self.createdAt = createdAt; self.updatedAt = updatedAt; self.version = version
    }

    public var totals: OrderTotals { OrderTotals(lines: lines) }
}

/// One product on an order. Amounts are minor units of the order's currency; `discount`
/// is the money taken off the whole line. A negative quantity is a return.
public struct OrderLine: Sendable, Codable, Equatable {
    public var productID: Product.ID
    public var quantity: Int64
    public var unitPrice: Int64
    public var discount: Int64
    public var unitCost: Int64
    /// Bought on promotion: the signal that separates transaction-type from relationship-type buyers.
    public var onPromotion: Bool

    public init(productID: Product.ID, quantity: Int64, unitPrice: Int64, discount: Int64 = 0, unitCost: Int64, onPromotion: Bool = false) {
        self.productID = productID; self.quantity = quantity; self.unitPrice = unitPrice
        self.discount = discount; self.unitCost = unitCost; self.onPromotion = onPromotion
    }

    public var revenue: Int64 { quantity * unitPrice - discount }
    public var cost: Int64 { quantity * unitCost }
}

/// What an order adds up to; the purchase summary is built from these.
public struct OrderTotals: Sendable, Codable, Equatable {
    public var revenue: Int64
    public var cost: Int64
    /// Revenue from lines on promotion or with a discount (交易型 signal).
    public var promotionRevenue: Int64
    public var profit: Int64 { revenue - cost }

    public init(revenue: Int64, cost: Int64, promotionRevenue: Int64) {
        self.revenue = revenue; self.cost = cost; self.promotionRevenue = promotionRevenue
    }

    public init(lines: [OrderLine]) {
        revenue = lines.reduce(0) { $0 + $1.revenue }
        cost = lines.reduce(0) { $0 + $1.cost }
        promotionRevenue = lines.reduce(0) { $0 + (($1.onPromotion || $1.discount > 0) ? $1.revenue : 0) }
    }
}

public struct OrderInput: Sendable, Codable, Equatable {
    public var customerID: Customer.ID
    public var orderDate: CalendarDate
    public var channel: String?
    public var currency: Currency
    public var lines: [OrderLine]
    public var externalID: String?

    public init(customerID: Customer.ID, orderDate: CalendarDate, channel: String? = nil, currency: Currency, lines: [OrderLine], externalID: String? = nil) {
        self.customerID = customerID; self.orderDate = orderDate; self.channel = channel; self.currency = currency
        self.lines = lines; self.externalID = externalID
    }

    /// Line limits keep every product of minor units far inside Int64.
    public func validated() throws(DomainError) -> OrderInput {
        var v = Validator()
        v.require(!lines.isEmpty, "/lines", "an order needs at least one line")
        v.require(lines.count <= 1000, "/lines", "an order has at most 1000 lines")
        let limit: Int64 = 1_000_000_000_000 // 10 billion in major units of a 2-digit currency
        for (i, line) in lines.enumerated() {
            v.require(line.quantity != 0 && abs(line.quantity) <= 1_000_000, "/lines/\(i)/quantity", "must be non-zero and at most 1,000,000 in size")
            v.require((0...limit).contains(line.unitPrice), "/lines/\(i)/unitPrice", "must be between 0 and \(limit)")
            v.require((0...limit).contains(line.unitCost), "/lines/\(i)/unitCost", "must be between 0 and \(limit)")
            v.require(line.discount >= 0 && line.discount <= limit, "/lines/\(i)/discount", "must be between 0 and \(limit)")
            if abs(line.quantity) <= 1_000_000, line.unitPrice <= limit {
                v.require(line.discount <= abs(line.quantity) * line.unitPrice, "/lines/\(i)/discount", "must not exceed the line's amount")
            }
        }
        if let channel { v.require(channel.count <= 50, "/channel", "must be at most 50 characters") }
        try v.check()
        var out = self
        out.channel = channel.map(Normalise.name).flatMap { $0.isEmpty ? nil : $0 }
        return out
    }
}

extension Order {
    private enum EncodingKeys: String, CodingKey {
        case id, customerID, orderDate, channel, currency, lines, totals, externalID, createdAt, updatedAt, version
    }

    /// Encodes the totals too, so every reader of an order sees revenue and profit without
    /// adding up lines themselves.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: EncodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(customerID, forKey: .customerID)
        try c.encode(orderDate, forKey: .orderDate)
        try c.encodeIfPresent(channel, forKey: .channel)
        try c.encode(currency, forKey: .currency)
        try c.encode(lines, forKey: .lines)
        try c.encode(totals, forKey: .totals)
        try c.encodeIfPresent(externalID, forKey: .externalID)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encode(version, forKey: .version)
    }
}

extension OrderTotals {
    private enum EncodingKeys: String, CodingKey { case revenue, cost, promotionRevenue, profit }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: EncodingKeys.self)
        try c.encode(revenue, forKey: .revenue)
        try c.encode(cost, forKey: .cost)
        try c.encode(promotionRevenue, forKey: .promotionRevenue)
        try c.encode(profit, forKey: .profit)
    }
}
