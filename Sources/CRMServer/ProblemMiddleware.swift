import CRMCore
import Foundation
import HTTPTypes
import Logging
import OpenAPIRuntime

/// Turns every error of an API operation into `application/problem+json`: domain errors
/// keep their meaning (400 with field pointers, 404, 412 …), a body that is not JSON or
/// misses a field becomes a 400 that names the field, and anything else a 500 that is logged.
struct ProblemMiddleware: ServerMiddleware {
    let logger: Logger

    func intercept(_ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
                   next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)) async throws -> (HTTPResponse, HTTPBody?) {
        do {
            return try await next(request, body, metadata)
        } catch {
            let problem = Self.problem(for: error, operationID: operationID, logger: logger)
            var response = HTTPResponse(status: .init(code: problem.status))
            response.headerFields[.contentType] = "application/problem+json"
            if problem.status == 401 { response.headerFields[.wwwAuthenticate] = "Bearer realm=\"crm\"" }
            return (response, HTTPBody(problem.json))
        }
    }

    static func problem(for error: any Error, operationID: String, logger: Logger) -> ProblemDetails {
        var underlying: any Error = error
        var decodingContext: String?
        if let serverError = error as? ServerError {
            underlying = serverError.underlyingError
            decodingContext = serverError.causeDescription
        }
        switch underlying {
        case let domain as DomainError:
            return ProblemDetails(domain)
        case let problem as ProblemDetails:
            return problem
        case let decoding as DecodingError:
            return decodingProblem(decoding)
        default:
            // The generator reports a bad parameter or body as its own error type; its
            // description says which. Anything we did not anticipate is our fault.
            let text = "\(underlying)"
            if decodingContext?.localizedCaseInsensitiveContains("decod") == true || text.contains("parameter") || text.contains("header")
                || text.contains("content type") || text.contains("Content-Type") || text.contains("body") {
                return ProblemDetails.malformed(Self.clean(text), pointer: "")
            }
            logger.error("unexpected error", metadata: ["operation": "\(operationID)", "error": "\(String(reflecting: error))"])
            return ProblemDetails.internalError
        }
    }

    static func decodingProblem(_ error: DecodingError) -> ProblemDetails {
        func pointer(_ path: [any CodingKey]) -> String {
            "/" + path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "/")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let p = pointer(context.codingPath + [key])
            return .validation([ValidationIssue(pointer: p, reason: "is required")])
        case .typeMismatch(let type, let context):
            return .validation([ValidationIssue(pointer: pointer(context.codingPath), reason: "must be \(describe(type))")])
        case .valueNotFound(let type, let context):
            return .validation([ValidationIssue(pointer: pointer(context.codingPath), reason: "must be \(describe(type)), not null")])
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return .malformed("the body is not valid JSON: \(context.underlyingError.map { "\($0)" } ?? context.debugDescription)")
            }
            return .validation([ValidationIssue(pointer: pointer(context.codingPath), reason: context.debugDescription)])
        @unknown default:
            return .malformed("\(error)")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        default: return "of type \(type)"
        }
    }

    static func clean(_ text: String) -> String {
        String(text.prefix(500))
    }
}
