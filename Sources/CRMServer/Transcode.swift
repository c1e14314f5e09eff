import CRMCore
import Foundation

/// Converts between domain values and the generated API types. The contract's property
/// names are the domain's, so one JSON round trip maps them, and a field the contract and
/// the domain disagree on fails loudly (a decoding error naming the field) instead of
/// being dropped silently.
enum Transcode {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Instant.format(date))
        }
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = Instant.parse(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "must be an ISO 8601 date-time")
            }
            return date
        }
        return d
    }()

    static func convert<Output: Decodable>(_ value: some Encodable, to: Output.Type = Output.self) throws -> Output {
        try decoder.decode(Output.self, from: encoder.encode(value))
    }
}
