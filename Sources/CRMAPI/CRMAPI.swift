import Foundation

/// The OpenAPI document: the API's contract, compiled into the server by the generator
/// and shipped in the bundle so the server can serve the very file it was built from.
public enum OpenAPIDocument {
    public static var url: URL? { Bundle.module.url(forResource: "openapi", withExtension: "yaml") }

    public static func contents() throws -> Data {
        guard let url else { throw CocoaError(.fileNoSuchFile) }
        return try Data(contentsOf: url)
    }
}
