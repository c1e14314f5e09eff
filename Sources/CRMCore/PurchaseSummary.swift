/// A customer's purchase history in one currency, folded to the numbers the analytics
/// need (RFM, BG/NBD's x, t_x, T, Gamma-Gamma's mean repeat spend), kept in step with
/// every order write so analytics never rescans all orders.
///
/// Purchases on the same day count as one purchase, as in the CDNOW studies; a repeat
/// purchase is any purchase day after the first.
public struct PurchaseSummary: Sendable, Codable, Equatable {
    public var customerID: Customer.ID
    public var currency: Currency
    public var firstPurchase: CalendarDate
    public var lastPurchase: CalendarDate
    public var orderCount: Int64
    public var purchaseDays: Int64
    public var revenue: Int64
    public var profit: Int64
    public var promotionRevenue: Int64
    public var repeatRevenue: Int64
    public var repeatCount: Int64 { purchaseDays - 1 }

    public init(customerID: Customer.ID, currency: Currency, firstPurchase: CalendarDate, lastPurchase: CalendarDate, orderCount: Int64, purchaseDays: Int64, revenue: Int64, profit: Int64, promotionRevenue: Int64, repeatRevenue: Int64) {
        self.customerID = customerID; self.currency = currency; self.firstPurchase = firstPurchase; self.lastPurchase = lastPurchase
        self.orderCount = orderCount; self.purchaseDays = purchaseDays; self.revenue = revenue; self.profit = profit
        self.promotionRevenue = promotionRevenue; self.repeatRevenue = repeatRevenue
    }

    /// The reference computation, from a customer's orders: what the stored summary must equal.
    public static func compute(customerID: Customer.ID, orders: [(date: CalendarDate, currency: Currency, totals: OrderTotals)]) -> [PurchaseSummary] {
        Dictionary(grouping: orders, by: \.currency).map { currency, list in
            let first = list.map(\.date).min()!
            let days = Set(list.map(\.date)).count
            return PurchaseSummary(
                customerID: customerID, currency: currency,
                firstPurchase: first, lastPurchase: list.map(\.date).max()!,
                orderCount: Int64(list.count), purchaseDays: Int64(days),
                revenue: list.reduce(0) { $0 + $1.totals.revenue },
                profit: list.reduce(0) { $0 + $1.totals.profit },
                promotionRevenue: list.reduce(0) { $0 + $1.totals.promotionRevenue },
                repeatRevenue: list.filter { $0.date != first }.reduce(0) { $0 + $1.totals.revenue })
        }.sorted { $0.currency.code < $1.currency.code }
    }
}

extension PurchaseSummary {
    private enum EncodingKeys: String, CodingKey {
        case customerID, currency, firstPurchase, lastPurchase, orderCount, purchaseDays, revenue, profit, promotionRevenue, repeatRevenue, repeatCount
    }

    /// Encodes the derived repeat count too: it is part of what a summary tells.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: EncodingKeys.self)
        try c.encode(customerID, forKey: .customerID)
        try c.encode(currency, forKey: .currency)
        try c.encode(firstPurchase, forKey: .firstPurchase)
        try c.encode(lastPurchase, forKey: .lastPurchase)
        try c.encode(orderCount, forKey: .orderCount)
        try c.encode(purchaseDays, forKey: .purchaseDays)
        try c.encode(revenue, forKey: .revenue)
        try c.encode(profit, forKey: .profit)
        try c.encode(promotionRevenue, forKey: .promotionRevenue)
        try c.encode(repeatRevenue, forKey: .repeatRevenue)
        try c.encode(repeatCount, forKey: .repeatCount)
    }
}
