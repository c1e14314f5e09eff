import CRMAPI
import CRMCore
import CRMStore
import Foundation
import HTTPTypes
import OpenAPIRuntime

/// A handler of one operation as the generated server code registers it.
typealias OperationHandler = @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)

/// Registers the generated operations on `transport`, except that an operation with an
/// express answer first tries that: hand-written code for the common case of a hot
/// operation, which returns nil for anything else (an error, an unusual Accept header).
/// Then the generated handler answers as if the express one were not there, so the
/// contract's validation, negotiation and problem+json stay the only ones.
final class ExpressOperations: ServerTransport {
    typealias Express = @Sendable (HTTPRequest, ServerRequestMetadata) async -> (HTTPResponse, HTTPBody)?

    let transport: any ServerTransport
    /// By method and path as the generated code spells them ("GET /customers/{customerID}").
    let express: [String: Express]
    /// The express routes the generated code registered: a route spelled otherwise would
    /// silently never be used.
    private(set) var registered: Set<String> = []

    init(transport: any ServerTransport, express: [String: Express]) {
        self.transport = transport
        self.express = express
    }

    func register(_ handler: @escaping OperationHandler, method: HTTPRequest.Method, path: String) throws {
        let route = "\(method.rawValue) \(path)"
        guard let express = express[route] else {
            return try transport.register(handler, method: method, path: path)
        }
        registered.insert(route)
        try transport.register({ request, body, metadata in
            if let answer = await express(request, metadata) { return answer }
            return try await handler(request, body, metadata)
        }, method: method, path: path)
    }
}

/// Express answers were given for operations the contract does not have (or spells otherwise).
struct UnknownOperations: Error, CustomStringConvertible {
    let routes: [String]
    var description: String { "express answers for operations the contract does not have: \(routes.joined(separator: ", "))" }
}

extension APIImplementation {
    /// The OpenAPI runtime's settings for the contract: instants as `InternetDateTranscoder`
    /// writes them, keys sorted (stable output to compare and diff).
    static let runtimeConfiguration = Configuration(dateTranscoder: InternetDateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])

    /// Registers every operation of the contract on `transport` (the router's /api/v1
    /// group), the hot ones with their express answers unless `express` is false (tests
    /// compare the two).
    func register(on transport: any ServerTransport, express: Bool = true) throws {
        let customerByID = CustomerByIDExpress(store: store)
        let operations = ExpressOperations(transport: transport, express: express ? [CustomerByIDExpress.route: { await customerByID.answer($0, $1) }] : [:])
        try registerHandlers(on: operations, serverURL: URL(string: "/")!, configuration: Self.runtimeConfiguration,
                             middlewares: [ProblemMiddleware(logger: logger)])
        let missing = Set(operations.express.keys).subtracting(operations.registered)
        guard missing.isEmpty else { throw UnknownOperations(routes: missing.sorted()) }
    }
}

/// GET /customers/{customerID}: the API's most frequent call. Foundation's `JSONEncoder`
/// took a fifth of the server's time per call, so a found customer is written by
/// `JSONText`, byte for byte what the encoder writes (`ExpressOperationsTests`).
struct CustomerByIDExpress: Sendable {
    static let route = "GET /customers/{customerID}"
    let store: Store
    let dates = InternetDateTranscoder()

    func answer(_ request: HTTPRequest, _ metadata: ServerRequestMetadata) async -> (HTTPResponse, HTTPBody)? {
        guard RequestActor.current != nil, Self.acceptsJSON(request.headerFields[.accept]),
              let text = metadata.pathParameters["customerID"], text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let id = Int64(text),
              let (customer, analysis) = try? await store.customerWithAnalysis(Customer.ID(id)),
              let body = try? Components.Schemas.Customer(customer, analysis: analysis).json(dates: dates)
        else { return nil }
        var response = HTTPResponse(status: .ok)
        response.headerFields[.eTag] = APIImplementation.etag(customer.version)
        response.headerFields[.contentType] = "application/json; charset=utf-8"
        response.headerFields[.contentLength] = String(body.count)
        return (response, HTTPBody(body))
    }

    /// No Accept header, or one that names JSON or any type among its media ranges.
    /// Anything subtler (quality zero, say) is left to the generated code.
    static func acceptsJSON(_ accept: String?) -> Bool {
        guard let accept else { return true }
        return accept.split(separator: ",").contains { range in
            let parts = range.split(separator: ";")
            guard let type = parts.first?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
            let weighted = parts.dropFirst().contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("q=") }
            return !weighted && (type == "application/json" || type == "application/*" || type == "*/*")
        }
    }
}
