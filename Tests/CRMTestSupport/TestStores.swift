import CRMCore
import CRMStore
import Foundation
import Logging

/// The backends store tests run on: SQLite always, PostgreSQL when
/// `CRM_TEST_POSTGRES_URL` is set (CI sets it).
public enum TestBackend: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    public static var available: [TestBackend] {
        ProcessInfo.processInfo.environment["CRM_TEST_POSTGRES_URL"].map { $0.isEmpty ? [.sqlite] : [.sqlite, .postgres] } ?? [.sqlite]
    }

    public var description: String { rawValue }
}

public let testLogger: Logger = {
    var l = Logger(label: "crm.test")
    l.logLevel = .warning
    return l
}()

/// Runs `body` on a new, migrated, empty database of `backend`: a temporary SQLite file,
/// or a schema of its own in the test PostgreSQL database, removed afterwards. With
/// `migrated` false the database is left empty, for tests of the migrations themselves.
/// `sqliteBulkCheckpointBytes` is SQLite's step between background checkpoints in a bulk write.
public func withTestDatabase<T: Sendable>(_ backend: TestBackend, migrated: Bool = true,
                                          sqliteBulkCheckpointBytes: Int = SQLiteStoreDatabase.bulkCheckpointBytes,
                                          _ body: @Sendable (any StoreDatabase) async throws -> T) async throws -> T {
    switch backend {
    case .sqlite:
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("crm-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try await SQLiteStoreDatabase(path: dir.appendingPathComponent("crm.sqlite").path, readers: 2,
                                                bulkCheckpointBytes: sqliteBulkCheckpointBytes, logger: testLogger)
        do {
            if migrated { try await Migrator(database: db, logger: testLogger).migrate() }
            let result = try await body(db)
            await db.close()
            return result
        } catch {
            await db.close()
            throw error
        }
    case .postgres:
        let url = ProcessInfo.processInfo.environment["CRM_TEST_POSTGRES_URL"]!
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let admin = try PostgresStoreDatabase(url: url, maxConnections: 2, logger: testLogger)
        let scoped = try PostgresStoreDatabase(url: url + (url.contains("?") ? "&" : "?") + "search_path=\(schema)",
                                               maxConnections: 8, logger: testLogger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await admin.run() }
            group.addTask { await scoped.run() }
            defer { group.cancelAll() }
            try await admin.write { db in try await db.raw("CREATE SCHEMA \(unsafeRaw: String(schema))").run() }
            do {
                if migrated { try await Migrator(database: scoped, logger: testLogger).migrate() }
                let result = try await body(scoped)
                try await admin.write { db in try await db.raw("DROP SCHEMA \(unsafeRaw: String(schema)) CASCADE").run() }
                return result
            } catch {
                try? await admin.write { db in try await db.raw("DROP SCHEMA \(unsafeRaw: String(schema)) CASCADE").run() }
                throw error
            }
        }
    }
}

/// A store over a fresh database, with one user per role already in it.
public func withTestStore<T: Sendable>(_ backend: TestBackend, _ body: @Sendable (Store, TestUsers) async throws -> T) async throws -> T {
    try await withTestDatabase(backend) { db in
        let store = Store(database: db)
        let users = try await TestUsers.make(in: store)
        return try await body(store, users)
    }
}

/// One actor per role, plus a second salesperson to test ownership.
public struct TestUsers: Sendable {
    public var admin: Actor
    public var manager: Actor
    public var sales: Actor
    public var otherSales: Actor
    public var marketing: Actor
    public var service: Actor

    public var all: [Actor] { [admin, manager, sales, otherSales, marketing, service] }

    public static func make(in store: Store, passwordHash: String = "not-a-real-hash") async throws -> TestUsers {
        func make(_ name: String, _ role: UserRole) async throws -> Actor {
            let u = try await store.users.create(username: name, displayName: name.capitalized, role: role, passwordHash: passwordHash, by: nil)
            return Actor(userID: u.id, name: u.displayName, role: role)
        }
        return TestUsers(admin: try await make("admin", .admin), manager: try await make("manager", .manager),
                         sales: try await make("sales", .sales), otherSales: try await make("sales2", .sales),
                         marketing: try await make("marketing", .marketing), service: try await make("service", .service))
    }
}

/// Small fixture builders, so tests say only what matters to them.
public func makeCustomerInput(_ name: String = "张伟", kind: Customer.Kind = .person, email: String? = nil, phone: String? = nil,
                              owner: User.ID? = nil, tags: [String] = [], roles: [CustomerRole] = [.customer]) -> CustomerInput {
    CustomerInput(kind: kind, name: name, roles: roles, email: email, phone: phone, tags: tags, ownerID: owner)
}

public func makeProductInput(_ sku: String = "SKU-1", price: Int64 = 10_000, cost: Int64 = 6_000) -> ProductInput {
    ProductInput(sku: sku, name: "Product \(sku)", category: "general", listPrice: Money(minorUnits: price, currency: .cny),
                 unitCost: Money(minorUnits: cost, currency: .cny))
}

public func makeOrderInput(customer: Customer.ID, product: Product.ID, date: String = "2026-01-15", quantity: Int64 = 1,
                           price: Int64 = 10_000, cost: Int64 = 6_000, discount: Int64 = 0, promotion: Bool = false) -> OrderInput {
    OrderInput(customerID: customer, orderDate: CalendarDate(date)!, channel: "store", currency: .cny,
               lines: [OrderLine(productID: product, quantity: quantity, unitPrice: price, discount: discount, unitCost: cost, onPromotion: promotion)])
}

/// The JSON pointers of a validation error, or nil if `error` is not one.
public func pointers(_ error: DomainError?) -> [String]? {
    if case .invalid(let issues) = error { return issues.map(\.pointer) }
    return nil
}
