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
import Synchronization
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

    /// Collects the handlers the generated code registers, by method and path.
    final class Recorder: ServerTransport, Sendable {
        let handlers = Mutex<[String: OperationHandler]>([:])
        func register(_ handler: @escaping OperationHandler, method: HTTPRequest.Method, path: String) throws {
            handlers.withLock { $0["\(method.rawValue) \(path)"] = handler }
        }
        func handler(_ route: String) throws -> OperationHandler { try #require(handlers.withLock { $0[route] }) }
    }

    struct Answer: Equatable, CustomStringConvertible {
        var status: Int
        var headers: HTTPFields
        var body: [UInt8]
        var description: String { "\(status) \(headers) \(String(decoding: body, as: UTF8.self))" }
    }

    static func answer(_ handler: OperationHandler, id: String, accept: String?, as actor: Actor?) async throws -> Answer {
        var request = HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/customers/\(id)")
        if let accept { request.headerFields[.accept] = accept }
        let (response, body) = try await RequestActor.$current.withValue(actor) {
            try await handler(request, nil, ServerRequestMetadata(pathParameters: ["customerID": Substring(id)]))
        }
        let bytes = if let body { try await [UInt8](collecting: body, upTo: .max) } else { [UInt8]() }
        // As the answer leaves the server.
        var headers = response.headerFields
        AuthenticationMiddleware<BasicRequestContext>.decodeURIStyle(&headers)
        return Answer(status: response.status.code, headers: headers, body: bytes)
    }

    @Test(arguments: TestBackend.available)
    func answersAsTheGeneratedHandlerDoes(backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database in
            let store = Store(database: database)
            let logger = Logger(label: "test")
            // A company with every kind of profile, analysed, and a few more customers since.
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

            let configuration = ServerConfiguration(bcryptCost: 4, logLevel: .warning)
            let authenticator = Authenticator(store: store, persist: MemoryPersistDriver(), configuration: configuration)
            let implementation = APIImplementation(store: store, authenticator: authenticator, analytics: CustomerBaseRefresh(store: store, logger: logger),
                                                   imports: ImportJobs(store: store, logger: logger), configuration: configuration, logger: logger)
            let generated = Recorder(), express = Recorder()
            try implementation.register(on: generated, express: false)
            try implementation.register(on: express)
            let route = CustomerByIDExpress.route
            let (plain, fast) = (try generated.handler(route), try express.handler(route))

            let ids = try await store.customers.list(.init(includeArchived: true, limit: 500)).items.map(\.id.rawValue)
            #expect(ids.count >= 200)
            var answeredWithActor = 0, answeredWithout = 0
            for id in ids {
                let expected = try await Self.answer(plain, id: "\(id)", accept: nil, as: actor)
                #expect(expected.status == 200)
                let got = try await Self.answer(fast, id: "\(id)", accept: nil, as: actor)
                #expect(got == expected, "customer \(id)\n\(got)\n\(expected)")
                #expect(try await Self.answer(fast, id: "\(id)", accept: "application/json", as: actor) == expected, "customer \(id)")
                // That the express code answered, not the generated handler behind it.
                let request = HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/customers/\(id)")
                let metadata = ServerRequestMetadata(pathParameters: ["customerID": Substring("\(id)")])
                let express = CustomerByIDExpress(store: store)
                if await express.answer(request, metadata) != nil { answeredWithout += 1 }
                if await RequestActor.$current.withValue(actor, operation: { await express.answer(request, metadata) }) != nil { answeredWithActor += 1 }
            }
            #expect(answeredWithActor == ids.count)
            #expect(answeredWithout == 0)

            // Everything else is the generated handler's answer.
            for (id, accept, who) in [("999999", nil, actor), ("abc", nil, actor), ("-1", nil, actor), ("1", "text/html", actor),
                                      ("1", "application/json;q=0", actor), ("1", nil, nil), ("1", "*/*", actor)] as [(String, String?, Actor?)] {
                let expected = try await Self.answer(plain, id: id, accept: accept, as: who)
                #expect(try await Self.answer(fast, id: id, accept: accept, as: who) == expected, "\(id) \(accept ?? "-")")
            }
        }
    }
}
