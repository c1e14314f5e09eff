import CRMCore
import Foundation
import HTTPTypes
import Hummingbird

/// An RFC 9457 problem: how every error leaves the server. `type` is stable per kind of
/// problem so clients can branch on it; `errors` names each failing field.
public struct ProblemDetails: Codable, Sendable, Equatable, Error {
    public struct FieldError: Codable, Sendable, Equatable {
        public var pointer: String
        public var reason: String
    }

    public var type: String
    public var title: String
    public var status: Int
    public var detail: String?
    public var errors: [FieldError]?

    public init(type: String, title: String, status: Int, detail: String? = nil, errors: [FieldError]? = nil) {
        self.type = type; self.title = title; self.status = status; self.detail = detail; self.errors = errors
    }

    public static func validation(_ issues: [ValidationIssue], detail: String? = nil) -> ProblemDetails {
        ProblemDetails(type: "/problems/validation", title: "The request has invalid fields", status: 400,
                       detail: detail ?? issues.map { "\($0.pointer): \($0.reason)" }.joined(separator: "; "),
                       errors: issues.map { FieldError(pointer: $0.pointer, reason: $0.reason) })
    }

    public static func malformed(_ detail: String, pointer: String = "") -> ProblemDetails {
        ProblemDetails(type: "/problems/malformed-request", title: "The request could not be read", status: 400,
                       detail: detail, errors: [FieldError(pointer: pointer, reason: detail)])
    }

    public static let preconditionRequired = ProblemDetails(
        type: "/problems/precondition-required", title: "If-Match is required", status: 428,
        detail: "Send the ETag you read in If-Match, so a concurrent change is not overwritten.",
        errors: [FieldError(pointer: "/header/If-Match", reason: "is required")])

    public static let unauthenticated = ProblemDetails(
        type: "/problems/unauthenticated", title: "Sign in first", status: 401,
        detail: "Send a bearer API token or a session cookie.")

    public static let internalError = ProblemDetails(
        type: "/problems/internal", title: "Something went wrong on our side", status: 500,
        detail: "The error was logged; try again, and tell the administrator if it persists.")

    public init(_ error: DomainError) {
        switch error {
        case .invalid(let issues):
            self = .validation(issues)
        case .notFound(let entity, let id):
            self.init(type: "/problems/not-found", title: "No such \(entity)", status: 404, detail: "There is no \(entity) with id \(id).")
        case .staleVersion(let entity, let id, let current):
            self.init(type: "/problems/stale-version", title: "The \(entity) changed since you read it", status: 412,
                      detail: "\(entity) \(id) is now at version \(current); read it again and re-apply your change.",
                      errors: [FieldError(pointer: "/header/If-Match", reason: "does not match the current version \(current)")])
        case .forbidden(let reason):
            self.init(type: "/problems/forbidden", title: "Not allowed", status: 403, detail: reason)
        case .conflict(let reason):
            self.init(type: "/problems/conflict", title: "Conflict", status: 409, detail: reason)
        case .unauthenticated(let reason):
            self.init(type: "/problems/unauthenticated", title: "Sign in first", status: 401, detail: reason)
        }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    public var json: Data { (try? Self.encoder.encode(self)) ?? Data("{}".utf8) }

    public var response: Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        if status == 401 { headers[.wwwAuthenticate] = "Bearer realm=\"crm\"" }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: json)))
    }
}
