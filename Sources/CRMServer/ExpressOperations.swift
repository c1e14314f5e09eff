import CRMAPI
import CRMCore
import CRMStore
import Foundation
import HTTPTypes
import Hummingbird
import OpenAPIHummingbird
import OpenAPIRuntime

/// A handler of one operation as the generated server code registers it.
typealias OperationHandler = @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)

/// Registers the generated operations on the router's API group, except that an operation
/// with an express answer first tries that: hand-written code for the common case of a
/// hot operation, which returns nil for anything else (an error, an unusual Accept header).
/// Then the generated handler answers as if the express one were not there, so the
/// contract's validation, negotiation and problem+json stay the only ones.
///
/// An express answer is a Hummingbird response holding its body, which Hummingbird writes
/// with its head in one go; through the OpenAPI transport every body is a stream, written
/// in three steps (head, body, end), each a trip through the channel's writer.
final class ExpressOperations<Context: RequestContext>: ServerTransport {
    typealias Express = @Sendable (Request, Context) async -> Response?

    let router: RouterGroup<Context>
    /// By method and path as the generated code spells them ("GET /customers/{customerID}").
    let express: [String: Express]
    /// The express routes the generated code registered: a route spelled otherwise would
    /// silently never be used.
    private(set) var registered: Set<String> = []

    init(router: RouterGroup<Context>, express: [String: Express]) {
        self.router = router
        self.express = express
    }

    func register(_ handler: @escaping OperationHandler, method: HTTPRequest.Method, path: String) throws {
        let route = "\(method.rawValue) \(path)"
        guard let express = express[route] else {
            return router.register(handler, method: method, path: path)
        }
        registered.insert(route)
        router.on(RouterPath(path), method: method) { request, context -> Response in
            if let answer = await express(request, context) { return answer }
            return try await Self.generated(handler, request, context)
        }
    }

    /// `handler`'s answer to `request`, converted both ways as the OpenAPI transport for
    /// Hummingbird converts them.
    private static func generated(_ handler: OperationHandler, _ request: Request, _ context: Context) async throws -> Response {
        let length = request.headers[.contentLength].flatMap { Int64($0) }.map { HTTPBody.Length.known($0) } ?? .unknown
        let body = HTTPBody(request.body.map { [UInt8](buffer: $0) }, length: length, iterationBehavior: .single)
        let parameters = [String: Substring](context.parameters.map { (String($0.0), $0.1) }) { first, _ in first }
        let (head, responseBody) = try await handler(request.head, body, ServerRequestMetadata(pathParameters: parameters))
        guard let responseBody else { return Response(status: head.status, headers: head.headerFields, body: ResponseBody(byteBuffer: ByteBuffer())) }
        let buffers = responseBody.map { ByteBuffer(bytes: $0) }
        if case .known(let length) = responseBody.length {
            return Response(status: head.status, headers: head.headerFields, body: ResponseBody(contentLength: Int(length)) { writer in
                for try await buffer in buffers { try await writer.write(buffer) }
                try await writer.finish(nil)
            })
        }
        return Response(status: head.status, headers: head.headerFields, body: ResponseBody(asyncSequence: buffers))
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

    /// Registers every operation of the contract on `api` (the router's /api/v1 group), the
    /// hot ones with their express answers unless `express` is false (tests compare the two).
    func register<Context: RequestContext>(on api: RouterGroup<Context>, express: Bool = true) throws {
        let customerByID = CustomerByIDExpress(store: store)
        let operations = ExpressOperations(router: api, express: express ? [CustomerByIDExpress.route: { request, context in
            await customerByID.answer(request, context)
        }] : [:])
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

    func answer(_ request: Request, _ context: some RequestContext) async -> Response? {
        guard let (etag, json) = await body(id: context.parameters.get("customerID"), accept: request.headers[.accept]) else { return nil }
        var headers = HTTPFields()
        headers[.eTag] = etag
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.contentLength] = String(json.count)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
    }

    /// The ETag and JSON of the customer `id` names, for a signed-in caller who takes JSON;
    /// nil in every other case.
    func body(id text: String?, accept: String?) async -> (etag: String, json: [UInt8])? {
        guard RequestActor.current != nil, Self.acceptsJSON(accept),
              let text, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let id = Int64(text),
              let (customer, analysis) = try? await store.customerWithAnalysis(Customer.ID(id)),
              let json = try? Components.Schemas.Customer(customer, analysis: analysis).json(dates: dates)
        else { return nil }
        return (APIImplementation.etag(customer.version), json)
    }

    /// No Accept header, or one whose every media range is plainly `type/subtype` (a
    /// wildcard subtype allowed, no quality value) and one of which takes JSON. Anything else
    /// (a malformed range the generated code refuses with 400, quality values) is left to
    /// the generated code.
    static func acceptsJSON(_ accept: String?) -> Bool {
        guard let accept else { return true }
        var json = false
        for range in accept.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = range.split(separator: ";", omittingEmptySubsequences: false)
            let type = parts[0].trimmingCharacters(in: .whitespaces).lowercased()
            let halves = type.split(separator: "/", omittingEmptySubsequences: false)
            guard halves.count == 2, !halves[0].isEmpty, !halves[1].isEmpty, halves[0] != "*" || halves[1] == "*",
                  !parts.dropFirst().contains(where: { $0.trimmingCharacters(in: .whitespaces).lowercased().hasPrefix("q=") })
            else { return false }
            json = json || type == "application/json" || type == "application/*" || type == "*/*"
        }
        return json
    }
}
