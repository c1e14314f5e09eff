import CRMCore
import Foundation
import SQLKit

/// Loads many rows fast (demo data, and later imports): multi-row inserts in large
/// transactions, search grams and purchase summaries computed in bulk at the end. Meant
/// for loading into a database whose ids it assigns itself (an empty one, or ids above
/// the current maximum).
public struct BulkLoader: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    public typealias Value = any Encodable & Sendable

    /// Inserts `rows` into `table`, `batch` rows per statement, all in one transaction.
    public func insert(into table: String, columns: [String], rows: [[Value]], batch: Int? = nil) async throws {
        guard !rows.isEmpty else { return }
        // Keep each statement under both backends' bind limits (SQLite 32766, PostgreSQL 65535).
        let perStatement = max(1, min(batch ?? 1000, 30_000 / max(columns.count, 1)))
        try await database.write { db in
            for start in stride(from: 0, to: rows.count, by: perStatement) {
                let slice = rows[start..<min(start + perStatement, rows.count)]
                try await db.insert(into: table).columns(columns).rows(slice.map { $0.map { SQLBind($0) as any SQLExpression } }).run()
            }
        }
    }

    /// The highest id in `table` (0 when empty), so a loader can number new rows itself.
    public func maxID(_ table: String) async throws -> Int64 {
        try await database.read { db in
            try await db.raw("SELECT COALESCE(MAX(id), 0) AS m FROM \(unsafeRaw: table)").first()
                .map { try $0.decode(column: "m", as: Int64.self) } ?? 0
        }
    }

    /// Search grams for customers given by id range, computed in Swift and inserted in bulk.
    public func indexCustomers(ids: ClosedRange<Int64>) async throws {
        let chunk: Int64 = 5_000
        var start = ids.lowerBound
        while start <= ids.upperBound {
            let end = min(start + chunk - 1, ids.upperBound)
            let from = start
            let rows = try await database.read { db in
                try await db.rows("""
                    SELECT c.id, c.name, c.email, c.phone, (SELECT MIN(o.name) FROM contacts k JOIN customers o ON o.id = k.organisation_id
                                                            WHERE k.person_id = c.id) AS organisation
                    FROM customers c WHERE c.id BETWEEN \(bind: from) AND \(bind: end)
                    """) { r -> (Int64, [String]) in
                    (try r.int64("id"), SearchIndex.values(name: try r.string("name"), email: try r.optionalString("email"),
                                                          phone: try r.optionalString("phone"),
                                                          organisations: try r.optionalString("organisation").map { [$0] } ?? []))
                }
            }
            var grams: [(id: Int64, grams: [String])] = []
            var texts: [(Int64, String)] = []
            for (id, values) in rows {
                grams.append((id, Array(SearchGrams.grams(of: values))))
                texts.append((id, values.map(Normalise.searchKey).joined(separator: "\n")))
            }
            let updates = texts
            let postings = grams
            try await database.write { db in
                for (id, text) in updates {
                    try await db.raw("UPDATE customers SET search_text = \(bind: text) WHERE id = \(bind: id)").run()
                }
                try await SearchIndex.post(db, postings)
            }
            start = end + 1
        }
    }

    /// Rebuilds every purchase summary from the orders in one statement.
    public func rebuildSummaries() async throws {
        try await database.write { db in
            try await db.raw("DELETE FROM purchase_summaries").run()
            try await db.raw("INSERT INTO purchase_summaries (\(unsafeRaw: PurchaseSummaries.columns)) " + PurchaseSummaries.aggregate(customer: nil)).run()
            try await db.raw("DELETE FROM purchase_months").run()
            try await db.raw("INSERT INTO purchase_months (\(unsafeRaw: PurchaseSummaries.monthColumns)) " + PurchaseSummaries.monthly(customer: nil)).run()
        }
    }

    /// After explicit ids were inserted, PostgreSQL's identity sequences must move past them.
    public func resetSequences(_ tables: [String]) async throws {
        guard database.dialect == .postgres else { return }
        try await database.write { db in
            for t in tables {
                try await db.raw("SELECT setval(pg_get_serial_sequence('\(unsafeRaw: t)', 'id'), COALESCE((SELECT MAX(id) FROM \(unsafeRaw: t)), 0) + 1, false)").run()
            }
        }
    }

    public func appendAudit(actorName: String, entity: String, note: String) async throws {
        try await database.write { db in
            try await AuditLog.append(db, actor: nil, action: .create, entity: entity, entityID: nil,
                                      changes: [FieldChange(field: "bulk", before: nil, after: note)])
        }
    }
}
