import CRMAPI
import CRMCore
@testable import CRMServer
import Foundation
import Testing

@Suite("Order mapping")
struct OrderMappingTests {
    /// The direct mapping must say exactly what the JSON round trip says.
    @Test func directMappingEqualsTheRoundTrip() throws {
        let now = Date(timeIntervalSince1970: 1_790_000_000) // whole seconds: the round trip keeps milliseconds only
        for (channel, external) in [(String?.none, String?.none), ("门店", "SO-1")] {
            let order = Order(id: Order.ID(5), customerID: Customer.ID(7), orderDate: CalendarDate("2026-03-01")!, channel: channel, currency: .cny,
                              lines: [OrderLine(productID: Product.ID(1), quantity: 2, unitPrice: 12_345, discount: 45, unitCost: 8_000, onPromotion: true),
                                      OrderLine(productID: Product.ID(9), quantity: -1, unitPrice: 99, unitCost: 0)],
                              externalID: external, createdAt: now, updatedAt: now, version: 3)
            let viaJSON: Components.Schemas.Order = try Transcode.convert(order)
            #expect(APIImplementation.orderJSON(order) == viaJSON)

            let input = OrderInput(customerID: order.customerID, orderDate: order.orderDate, channel: channel, currency: .usd, lines: order.lines,
                                   externalID: external)
            let body: Components.Schemas.OrderInput = try Transcode.convert(input)
            #expect(try APIImplementation.orderInput(body) == input)
        }
        let bad = Components.Schemas.OrderInput(customerID: 1, orderDate: "2026-02-30", currency: "yuan", lines: [])
        #expect(throws: DomainError.invalid([.init(pointer: "/orderDate", reason: "must be a date YYYY-MM-DD"),
                                             .init(pointer: "/currency", reason: "must be a three-letter ISO 4217 code such as CNY")])) {
            try APIImplementation.orderInput(bad)
        }
    }
}
