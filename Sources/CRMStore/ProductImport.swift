import CRMCore
import Foundation
import SQLKit

/// Imports a price list: products matched by SKU are updated (name, category, prices),
/// the rest created, so the same file imported twice changes nothing.
public struct ProductImporter: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    public func run(_ source: CSVRowSource, mode: CustomerImportOptions.Mode = .validRows, dryRun: Bool = false, mapping explicit: [String: String] = [:],
                    defaultCurrency: Currency = .cny, by actor: Actor, now: Date = Date(),
                    problems sink: (@Sendable ([ImportProblem]) throws -> Void)? = nil,
                    progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> ProductImportReport {
        try AccessPolicy.require(actor, .writeProducts)
        let mapping = try ProductImportMapping(headers: source.header, explicit: explicit)
        let initial = State(report: ProductImportReport(source, mode: mode, dryRun: dryRun, ignoredColumns: mapping.ignoredHeaders))
        let dialect = database.dialect
        return try await ImportRun.run(
            database, source, mode: mode, dryRun: dryRun, state: initial, next: { try source.next(2_000) }, progress: progress,
            process: { db, batch, state, write in
                try await Self.process(db, batch, mapping, defaultCurrency, actor, now, dialect, &state, write: write, sink: sink)
            })
    }

    struct State: ImportState {
        var report: ProductImportReport
        let seenSKUs = KeyMemory<String, Int>()
    }

    static func process(_ db: any SQLDatabase, _ batch: [(row: Int, values: [String])], _ mapping: ProductImportMapping, _ currency: Currency,
                        _ actor: Actor, _ now: Date, _ dialect: Dialect, _ state: inout State, write: Bool,
                        sink: (@Sendable ([ImportProblem]) throws -> Void)?) async throws {
        state.report.rows += batch.count
        var problems: [ImportProblem] = []
        var inputs: [(row: Int, input: ProductInput)] = []
        for row in batch {
            switch ProductInput.parse(row.values, row: row.row, mapping: mapping, defaultCurrency: currency) {
            case .failure(let bad): problems += bad.problems
            case .success(let input):
                if let first = state.seenSKUs.remember(input.sku, row.row) {
                    problems.append(ImportProblem(row: row.row, column: mapping.header(of: .sku), value: input.sku,
                                                  reason: "is the same as in row \(first): one product per SKU"))
                } else {
                    inputs.append((row.row, input))
                }
            }
        }
        try state.report.record(problems, sink: sink)
        var stored: [String: Product] = [:]
        for p in try await ImportRun.lookup(db, "SELECT * FROM products", "sku", inputs.map(\.input.sku), ProductRepository.decode) {
            stored[p.sku] = p
        }
        var creates: [ProductInput] = []
        var updates: [(Product, ProductInput)] = []
        for (_, input) in inputs {
            guard let old = stored[input.sku] else { creates.append(input); continue }
            if old.name == input.name && old.category == input.category && old.listPrice == input.listPrice && old.unitCost == input.unitCost {
                state.report.unchanged += 1
            } else {
                updates.append((old, input))
            }
        }
        state.report.created += creates.count
        state.report.updated += updates.count
        guard write else { return }
        let stamp = Instant.format(now)
        let storedAt = Instant.parse(stamp) ?? now
        let ids = try await RowIDs.next(db, table: "products", count: creates.count, dialect: dialect)
        var rows: [[any Encodable & Sendable]] = []
        var audit: [ImportRun.InsertRow] = []
        for (id, p) in zip(ids, creates) {
            rows.append([bound(id), bound(p.sku), bound(p.name), bound(p.category), bound(p.listPrice.currency.code), bound(p.listPrice.minorUnits),
                         bound(p.unitCost.minorUnits), bound(stamp), bound(stamp), bound(Int64(1))])
            let product = Product(id: Product.ID(id), sku: p.sku, name: p.name, category: p.category, listPrice: p.listPrice, unitCost: p.unitCost,
                                  createdAt: storedAt, updatedAt: storedAt, version: 1)
            audit.append(ImportRun.auditRow(actor, .create, ProductRepository.entity, "\(id)", FieldChange.diff(nil as Product?, product), stamp,
                                            dialect))
        }
        try await ImportRun.insertRows(db, "products", ["id", "sku", "name", "category", "currency", "list_price", "unit_cost", "created_at",
                                                        "updated_at", "version"], rows)
        for (old, p) in updates {
            try await db.raw("""
                UPDATE products SET name = \(bind: p.name), category = \(bind: p.category), currency = \(bind: p.listPrice.currency.code),
                    list_price = \(bind: p.listPrice.minorUnits), unit_cost = \(bind: p.unitCost.minorUnits), updated_at = \(bind: stamp),
                    version = version + 1
                WHERE id = \(bind: old.id.rawValue)
                """).run()
            var new = old
            new.name = p.name; new.category = p.category; new.listPrice = p.listPrice; new.unitCost = p.unitCost
            audit.append(ImportRun.auditRow(actor, .update, ProductRepository.entity, "\(old.id)", FieldChange.diff(old, new), stamp, dialect))
        }
        try await ImportRun.insertRows(db, "audit_log", ImportRun.auditColumns, audit)
    }
}
