import CRMCore
import Foundation
import SQLKit

/// Finds customer records that look like one party, across the whole database: the same
/// e-mail, the same phone (both stored normalised), persons of the same organisation with
/// similar names, and organisations with the same name. Grouping is done by the database
/// on indexed columns, so only the groups that have more than one member are read.
public struct DuplicateFinder: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    /// Members of one shared value beyond this are paired with the first member only (a
    /// shared office address or switchboard would otherwise give thousands of pairs).
    static let groupCap = 50

    /// Candidate pairs with a score of at least `minScore`, most likely first.
    public func scan(minScore: Double = 0.5, by actor: Actor) async throws -> [DuplicateCandidate] {
        try AccessPolicy.require(actor, .readCustomers)
        // Comparing the names of a million customers takes seconds: on CPU-work threads.
        return try await CPUWork.run { try await candidates(minScore: minScore) }
    }

    private func candidates(minScore: Double) async throws -> [DuplicateCandidate] {
        var evidence: [Pair: (reasons: Set<DuplicateCandidate.Reason>, similarity: Double?)] = [:]
        func add(_ a: Int64, _ b: Int64, _ reason: DuplicateCandidate.Reason, _ similarity: Double? = nil) {
            let pair = Pair(a, b)
            var e = evidence[pair] ?? ([], nil)
            e.reasons.insert(reason)
            if let similarity { e.similarity = max(e.similarity ?? 0, similarity) }
            evidence[pair] = e
        }
        for (column, reason) in [("email", DuplicateCandidate.Reason.sameEmail), ("phone", .samePhone)] {
            let rows = try await database.read { db in
                try await db.rows("""
                    SELECT \(unsafeRaw: column) AS v, id FROM customers
                    WHERE archived_at IS NULL AND \(unsafeRaw: column) IN (
                        SELECT \(unsafeRaw: column) FROM customers WHERE archived_at IS NULL AND \(unsafeRaw: column) IS NOT NULL
                        GROUP BY \(unsafeRaw: column) HAVING COUNT(*) > 1)
                    ORDER BY \(unsafeRaw: column), id
                    """) { (try $0.string("v"), try $0.int64("id")) }
            }
            for group in Self.groups(rows) { Self.pairs(group) { add($0, $1, reason) } }
        }
        // Persons of the same organisation with similar names.
        let colleagues = try await database.read { db in
            try await db.rows("""
                SELECT k.organisation_id AS o, c.id, c.name FROM contacts k JOIN customers c ON c.id = k.person_id
                WHERE c.archived_at IS NULL ORDER BY k.organisation_id, c.id
                """) { (try $0.int64("o"), try $0.int64("id"), try $0.string("name")) }
        }
        var start = 0
        while start < colleagues.count {
            var end = start
            while end < colleagues.count && colleagues[end].0 == colleagues[start].0 { end += 1 }
            let members = colleagues[start..<min(end, start + 200)]
            for i in members.indices {
                for j in members.indices where j > i && members[i].1 != members[j].1 {
                    if let s = DuplicateRules.nameSimilarity(members[i].2, members[j].2) { add(members[i].1, members[j].1, .similarName, s) }
                }
            }
            start = end
        }
        // Organisations with the same name after normalisation (华为技术 and 华为 技术).
        let organisations = try await database.read { db in
            try await db.rows("SELECT id, name FROM customers WHERE kind = 'organisation' AND archived_at IS NULL ORDER BY id") {
                (Normalise.searchKey(try $0.string("name")), try $0.int64("id"))
            }
        }
        let byName = Dictionary(grouping: organisations, by: \.0).values.filter { $0.count > 1 }.map { $0.map(\.1).sorted() }
        for ids in byName { Self.pairs(ids) { add($0, $1, .similarName, 1) } }

        return evidence.compactMap { pair, e -> DuplicateCandidate? in
            let reasons = DuplicateCandidate.Reason.allCases.filter { e.reasons.contains($0) }
            let score = DuplicateRules.score(reasons, nameSimilarity: e.similarity)
            guard score >= minScore else { return nil }
            return DuplicateCandidate(first: Customer.ID(pair.a), second: Customer.ID(pair.b), reasons: reasons, score: score,
                                      nameSimilarity: e.similarity)
        }.sorted { ($0.score, $1.first.rawValue, $1.second.rawValue) > ($1.score, $0.first.rawValue, $0.second.rawValue) }
    }

    /// Names of the given customers, for showing candidate pairs.
    public func names(_ ids: [Customer.ID]) async throws -> [Customer.ID: String] {
        let unique = Array(Set(ids))
        var result: [Customer.ID: String] = [:]
        for start in stride(from: 0, to: unique.count, by: 500) {
            let chunk = Array(unique[start..<min(start + 500, unique.count)])
            let rows = try await database.read { db in
                try await db.rows("SELECT id, name FROM customers " + PurchaseSummaries.customerFilter("id", chunk)) {
                    (Customer.ID(try $0.int64("id")), try $0.string("name"))
                }
            }
            for (id, name) in rows { result[id] = name }
        }
        return result
    }

    struct Pair: Hashable {
        let a: Int64, b: Int64
        init(_ x: Int64, _ y: Int64) { a = min(x, y); b = max(x, y) }
    }

    /// Consecutive rows sharing a value, as id lists.
    static func groups(_ rows: [(String, Int64)]) -> [[Int64]] {
        var result: [[Int64]] = []
        var start = 0
        while start < rows.count {
            var end = start
            while end < rows.count && rows[end].0 == rows[start].0 { end += 1 }
            result.append(rows[start..<end].map(\.1))
            start = end
        }
        return result
    }

    /// Every pair of a small group; in a large one, each member with the first.
    static func pairs(_ ids: [Int64], _ body: (Int64, Int64) -> Void) {
        if ids.count > groupCap {
            for id in ids.dropFirst() { body(ids[0], id) }
            return
        }
        for i in ids.indices { for j in ids.indices where j > i { body(ids[i], ids[j]) } }
    }
}
