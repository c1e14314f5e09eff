import CRMCore
import Foundation
import SQLKit

/// The catalogue. Written by managers and admins; read by everyone.
public struct ProductRepository: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    static let entity = "product"

    public func create(_ input: ProductInput, by actor: Actor, now: Date = Date()) async throws -> Product {
        try AccessPolicy.require(actor, .writeProducts)
        let p = try input.normalised()
        return try await database.write { db in
            try await Self.checkSKU(db, p.sku, excluding: nil)
            let stamp = Instant.format(now)
            guard let row = try await db.raw("""
                INSERT INTO products (sku, name, category, currency, list_price, unit_cost, archived_at, created_at, updated_at, version)
                VALUES (\(bind: p.sku), \(bind: p.name), \(bind: p.category), \(bind: p.listPrice.currency.code),
                        \(bind: p.listPrice.minorUnits), \(bind: p.unitCost.minorUnits), NULL, \(bind: stamp), \(bind: stamp), 1)
                RETURNING id
                """).first() else { throw StoreError.corrupt("insert returned no id") }
            let product = try await Self.fetch(db, Product.ID(try row.decode(column: "id", as: Int64.self)))!
            try await AuditLog.append(db, actor: actor, action: .create, entity: Self.entity, entityID: "\(product.id)",
                                      changes: FieldChange.diff(nil as Product?, product), at: now)
            return product
        }
    }

    public func update(_ id: Product.ID, with input: ProductInput, ifVersion version: Int64, by actor: Actor, now: Date = Date()) async throws -> Product {
        try AccessPolicy.require(actor, .writeProducts)
        let p = try input.normalised()
        return try await database.write { db in
            guard let current = try await Self.fetch(db, id) else { throw DomainError.notFound(entity: Self.entity, id: "\(id)") }
            guard current.version == version else { throw DomainError.staleVersion(entity: Self.entity, id: "\(id)", current: current.version) }
            try await Self.checkSKU(db, p.sku, excluding: id)
            try await db.raw("""
                UPDATE products SET sku = \(bind: p.sku), name = \(bind: p.name), category = \(bind: p.category),
                    currency = \(bind: p.listPrice.currency.code), list_price = \(bind: p.listPrice.minorUnits),
                    unit_cost = \(bind: p.unitCost.minorUnits), updated_at = \(bind: Instant.format(now)), version = version + 1
                WHERE id = \(bind: id.rawValue)
                """).run()
            let updated = try await Self.fetch(db, id)!
            try await AuditLog.append(db, actor: actor, action: .update, entity: Self.entity, entityID: "\(id)",
                                      changes: FieldChange.diff(current, updated), at: now)
            return updated
        }
    }

    public func get(_ id: Product.ID) async throws -> Product {
        guard let p = try await database.read({ db in try await Self.fetch(db, id) }) else {
            throw DomainError.notFound(entity: Self.entity, id: "\(id)")
        }
        return p
    }

    public func list(category: String? = nil, cursor: String? = nil, limit: Int = 50) async throws -> Page<Product> {
        let limit = min(max(limit, 1), 500)
        let after = try cursor.map { text throws(DomainError) in try Cursor(decoding: text).id }
        return try await database.read { db in
            var sql = SQLQueryString("SELECT * FROM products WHERE 1=1")
            if let category { sql = sql + " AND category = \(bind: category)" }
            if let after { sql = sql + " AND id > \(bind: after)" }
            sql = sql + " ORDER BY id LIMIT \(bind: limit + 1)"
            let rows = try await db.rows(sql, Self.decode)
            let items = Array(rows.prefix(limit))
            return Page(items: items, nextCursor: rows.count > limit ? items.last.map { Cursor(value: nil, id: $0.id.rawValue).encoded } : nil)
        }
    }

    static func checkSKU(_ db: any SQLDatabase, _ sku: String, excluding id: Product.ID?) async throws {
        if let row = try await db.raw("SELECT id FROM products WHERE sku = \(bind: sku)").first(),
           try row.decode(column: "id", as: Int64.self) != id?.rawValue {
            throw DomainError.invalid("/sku", "is already used by product \(try row.decode(column: "id", as: Int64.self))")
        }
    }

    static func fetch(_ db: any SQLDatabase, _ id: Product.ID) async throws -> Product? {
        try await db.rows("SELECT * FROM products WHERE id = \(bind: id.rawValue)", decode).first
    }

    static func decode(_ r: Row) throws -> Product {
        let currency = try r.currency("currency")
        return Product(id: try r.id("id"), sku: try r.string("sku"), name: try r.string("name"), category: try r.optionalString("category"),
                       listPrice: Money(minorUnits: try r.int64("list_price"), currency: currency),
                       unitCost: Money(minorUnits: try r.int64("unit_cost"), currency: currency),
                       archivedAt: try r.optionalInstant("archived_at"), createdAt: try r.instant("created_at"),
                       updatedAt: try r.instant("updated_at"), version: try r.int64("version"))
    }
}
