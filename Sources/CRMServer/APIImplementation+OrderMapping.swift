import CRMAPI
import CRMCore
import Foundation

/// Orders are the API's busiest write: they map to and from the generated types directly,
/// not by a JSON round trip (`Transcode`), which cost about a tenth of the server's time
/// per created order. A value the domain cannot take is reported at the same pointer as
/// the round trip reported it.
extension APIImplementation {
    static func orderInput(_ body: Schemas.OrderInput) throws -> OrderInput {
        var issues: [ValidationIssue] = []
        let date = CalendarDate(body.orderDate)
        if date == nil { issues.append(.init(pointer: "/orderDate", reason: "must be a date YYYY-MM-DD")) }
        let currency = Currency(body.currency)
        if currency == nil { issues.append(.init(pointer: "/currency", reason: "must be a three-letter ISO 4217 code such as CNY")) }
        guard issues.isEmpty, let date, let currency else { throw DomainError.invalid(issues) }
        return OrderInput(customerID: Customer.ID(body.customerID), orderDate: date, channel: body.channel, currency: currency,
                          lines: body.lines.map { OrderLine(productID: Product.ID($0.productID), quantity: $0.quantity, unitPrice: $0.unitPrice,
                                                            discount: $0.discount, unitCost: $0.unitCost, onPromotion: $0.onPromotion) },
                          externalID: body.externalID)
    }

    static func orderJSON(_ order: Order) -> Schemas.Order {
        let totals = order.totals
        return Schemas.Order(
            id: order.id.rawValue, customerID: order.customerID.rawValue, orderDate: order.orderDate.description, channel: order.channel,
            currency: order.currency.code,
            lines: order.lines.map { .init(productID: $0.productID.rawValue, quantity: $0.quantity, unitPrice: $0.unitPrice,
                                           discount: $0.discount, unitCost: $0.unitCost, onPromotion: $0.onPromotion) },
            totals: .init(revenue: totals.revenue, cost: totals.cost, promotionRevenue: totals.promotionRevenue, profit: totals.profit),
            externalID: order.externalID, createdAt: order.createdAt, updatedAt: order.updatedAt, version: order.version)
    }
}
