import CRMAPI
import CRMCore
import CRMStore
import CRMTestSupport
@testable import CRMServer
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import OpenAPIRuntime
import HummingbirdTesting
import Testing

/// The express answer to GET a customer must be, byte for byte and header for header, what
/// the generated handler answers.
@Suite("Express operations")
struct ExpressOperationsTests {
    typealias Schemas = Components.Schemas

    /// The encoder as the OpenAPI runtime sets it up for the contract.
    static func contractEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let dates = InternetDateTranscoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(try dates.encode(date))
        }
        return encoder
    }

    @Test
    func writesWhatTheEncoderWrites() throws {
        var random = SeededRandom(seed: 20261127)
        // Text that needs every kind of escape, and text that needs none.
        let pieces = ["张伟", "O'Brien", "a\"b", "back\\slash", "a/b", "tab\there", "line\nbreak", "\r\u{08}\u{0C}", "\u{01}\u{1F}\u{7F}",
                      "emoji 👩‍👩‍👧", "é", "e\u{301}", "\u{2028}", "", " ", "Zürich", "ＡＢＣ"]
        func text() -> String { (0..<Int.random(in: 1...3, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined() }
        func maybe<T>(_ value: @autoclosure () -> T) -> T? { Bool.random(using: &random) ? value() : nil }
        func pick<E: CaseIterable>(_: E.Type) -> E { Array(E.allCases).randomElement(using: &random)! }
        let numbers: [Double] = [0, -0.0, 1, -1, 0.5, 120_000.5, 1e15, 1e16, 1e-5, 0.1, 2.9321866417837694, 1.7976931348623157e308, 5e-324, -3.25, 123456789]
        func date() -> Date { Date(timeIntervalSince1970: Double(Int64.random(in: 0...4_102_444_800_000, using: &random)) / 1000) }
        for _ in 0..<3_000 {
            var fields: [String: Schemas.CustomFieldValue] = [:]
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                fields[text()] = Bool.random(using: &random) ? .CustomFieldText(text()) : .CustomFieldNumber(numbers.randomElement(using: &random)!)
            }
            let profile = Schemas.CustomerProfile(
                gender: maybe(pick(Schemas.Gender.self)), birthday: maybe("1990-05-0\(Int.random(in: 1...9, using: &random))"),
                hobbies: (0..<Int.random(in: 0...3, using: &random)).map { _ in text() }, familyNotes: maybe(text()),
                preferredChannel: maybe(pick(Schemas.ContactChannel.self)), timeZone: "Asia/Shanghai",
                contactWindows: (0..<Int.random(in: 0...2, using: &random)).map { _ in .init(weekday: Int.random(in: 1...7, using: &random), start: "09:00", end: "12:30") },
                doNotContact: (0..<Int.random(in: 0...2, using: &random)).map { _ in .init(from: "2026-02-01", to: "2026-02-10", reason: maybe(text())) },
                personalityStyle: maybe(pick(Schemas.PersonalityStyle.self)), personalityEvidence: maybe(text()), industry: maybe(text()))
            let analytics = maybe(Schemas.CustomerAnalytics(
                runID: Int64.random(in: 1...99, using: &random), currency: "CNY", tier: pick(Schemas.CustomerTier.self),
                valueLevel: pick(Schemas.ValueLevel.self), loyaltyStage: pick(Schemas.LoyaltyStage.self), buyingType: maybe(pick(Schemas.BuyingType.self)),
                trajectory: pick(Schemas.ValueTrajectory.self), recencyScore: maybe(Int.random(in: 1...5, using: &random)),
                frequencyScore: maybe(Int.random(in: 1...5, using: &random)), monetaryScore: maybe(Int.random(in: 1...5, using: &random)),
                rfmSegment: maybe(pick(Schemas.RFMSegment.self)), expectedPurchases: maybe(Double.random(in: 0...40, using: &random)),
                probabilityAlive: maybe(numbers.randomElement(using: &random)!), clvMinor: maybe(Int64.random(in: -1_000_000...Int64.max, using: &random)),
                churnRisk: maybe(pick(Schemas.ChurnRisk.self)), silentChurn: Bool.random(using: &random),
                windowRevenueMinor: Int64.random(in: Int64.min...Int64.max, using: &random), windowProfitMinor: Int64.random(in: -5...5, using: &random)))
            let customer = Schemas.Customer(
                id: Int64.random(in: 1...Int64.max, using: &random), kind: pick(Schemas.CustomerKind.self), name: text(),
                roles: (0..<Int.random(in: 0...3, using: &random)).map { _ in pick(Schemas.CustomerRole.self) }, email: maybe(text()), phone: maybe("+8613800000000"),
                profile: profile, tags: (0..<Int.random(in: 0...3, using: &random)).map { _ in text() }, source: maybe(text()),
                ownerID: maybe(Int64.random(in: 1...9, using: &random)), customFields: .init(additionalProperties: fields), externalID: maybe(text()),
                archivedAt: maybe(date()), createdAt: date(), updatedAt: date(), version: Int64.random(in: 1...1_000, using: &random), analytics: analytics)
            let expected = try Self.contractEncoder().encode(customer)
            let written = try customer.json(dates: InternetDateTranscoder())
            #expect(Data(written) == expected, "\(String(decoding: expected, as: UTF8.self))\n\(String(decoding: written, as: UTF8.self))")
        }
    }

    @Test
    func refusesWhatTheEncoderRefuses() throws {
        var customer = Schemas.Customer(id: 1, kind: .person, name: "x", roles: [], profile: .init(hobbies: [], timeZone: "UTC", contactWindows: [], doNotContact: []),
                                        tags: [], customFields: .init(additionalProperties: ["score": .CustomFieldNumber(.nan)]),
                                        createdAt: Date(), updatedAt: Date(), version: 1)
        #expect(throws: (any Error).self) { try Self.contractEncoder().encode(customer) }
        #expect(throws: JSONText.Failure.self) { try customer.json(dates: InternetDateTranscoder()) }
        customer.customFields = .init(additionalProperties: ["score": .CustomFieldNumber(3)])
        #expect(try customer.json(dates: InternetDateTranscoder()) == Array(try Self.contractEncoder().encode(customer)))
    }

    struct Answer: Equatable, CustomStringConvertible {
        var status: Int
        var headers: HTTPFields
        var body: String
        var description: String { "\(status) \(headers) \(body)" }
    }

    @Test(arguments: TestBackend.available)
    func answersAsTheGeneratedHandlerDoes(backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database in
            let store = Store(database: database)
            let logger = Logger(label: "test")
            // A company with every kind of profile, analysed, and a few changes since.
            _ = try await DemoCompany(customers: 200, orderLines: 2_000, seed: 7).load(into: store, passwordHash: "x", logger: logger)
            _ = try await CustomerBaseRefresh(store: store, logger: logger).run(by: nil)
            let admin = try #require(try await store.users.list().first { $0.role == .admin })
            let actor = Actor(userID: admin.id, name: admin.displayName, role: admin.role)
            let first = try await store.customers.get(Customer.ID(1))
            var input = CustomerInput(first)
            input.profile.familyNotes = "Tab\there \"quoted\" / slash \\ 张伟\nnext line"
            let edited = try await store.customers.update(first.id, with: input, ifVersion: first.version, by: actor)
            #expect(edited.profile.familyNotes?.contains("\t") == true)
            _ = try await store.customers.archive(Customer.ID(2), ifVersion: nil, by: actor)
            let secret = Authenticator.newTokenSecret()
            _ = try await store.users.createToken(for: admin.id, name: "test", scope: .readWrite, hash: Authenticator.tokenHash(secret), by: nil)

            let configuration = ServerConfiguration(bcryptCost: 4, logLevel: .warning)
            let express = Application(router: try buildRouter(configuration: configuration, dependencies: .init(store: store), logger: logger), logger: logger)
            let generated = Application(router: try buildRouter(configuration: configuration, dependencies: .init(store: store), logger: logger,
                                                                expressOperations: false), logger: logger)
            let ids = try await store.customers.list(.init(includeArchived: true, limit: 500)).items.map(\.id.rawValue)
            #expect(ids.count >= 200)
            try await express.test(.router) { fast in
                try await generated.test(.router) { plain in
                    func get(_ client: any TestClientProtocol, _ path: String, accept: String?, token: String? = secret) async throws -> Answer {
                        var headers = HTTPFields()
                        if let token { headers[.authorization] = "Bearer \(token)" }
                        if let accept { headers[.accept] = accept }
                        return try await client.execute(uri: "/api/v1/customers/" + path, method: .get, headers: headers) { r in
                            var headers = r.headers
                            headers[.date] = nil
                            return Answer(status: Int(r.status.code), headers: headers, body: String(buffer: r.body))
                        }
                    }
                    for id in ids {
                        let expected = try await get(plain, "\(id)", accept: nil)
                        #expect(expected.status == 200)
                        let got = try await get(fast, "\(id)", accept: nil)
                        #expect(got == expected, "customer \(id)\n\(got)\n\(expected)")
                        #expect(try await get(fast, "\(id)", accept: "application/json") == expected, "customer \(id)")
                    }
                    // Everything else is the generated handler's answer.
                    for (id, accept, token) in [("999999", nil, secret), ("abc", nil, secret), ("-1", nil, secret), ("1", "text/html", secret),
                                                ("1", "application/json;q=0", secret), ("1", nil, nil), ("1", "*/*", secret),
                                                ("1", "text, application/json", secret), ("1", "application/json, text/html;q=2", secret),
                                                ("1", "application/json, ,text/html", secret), ("1", "*/json, application/json", secret)] as [(String, String?, String?)] {
                        let expected = try await get(plain, id, accept: accept, token: token)
                        #expect(try await get(fast, id, accept: accept, token: token) == expected, "\(id) \(accept ?? "-")")
                    }
                }
            }

            // That the express code answered the found customers, and only for a caller.
            let customerByID = CustomerByIDExpress(store: store)
            var withCaller = 0, withoutCaller = 0
            for id in ids {
                if await customerByID.body(id: "\(id)", accept: nil) != nil { withoutCaller += 1 }
                if await RequestActor.$current.withValue(actor, operation: { await customerByID.body(id: "\(id)", accept: nil) }) != nil { withCaller += 1 }
            }
            #expect(withCaller == ids.count)
            #expect(withoutCaller == 0)
            await RequestActor.$current.withValue(actor) {
                #expect(await customerByID.body(id: "999999", accept: nil) == nil)
                #expect(await customerByID.body(id: "1", accept: "text/html") == nil)
                #expect(await customerByID.body(id: "1", accept: "text/html, application/json") != nil)
                #expect(await customerByID.body(id: "1", accept: "application/json; charset=utf-8") != nil)
                for malformed in ["text, application/json", "application/json, ,text/html", "*/json, application/json", "application/json;q=1"] {
                    #expect(await customerByID.body(id: "1", accept: malformed) == nil, "\(malformed)")
                }
            }
        }
    }
}
