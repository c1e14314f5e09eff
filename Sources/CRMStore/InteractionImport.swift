import CRMCore
import Foundation
import SQLKit

/// Imports the contact history (跟进记录) from another system. An interaction is identified
/// by its customer, kind, time and subject: one already stored is skipped, so re-running a
/// file creates nothing twice; the same one twice in a file is an error.
public struct InteractionImporter: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    public func run(_ source: CSVRowSource, mode: CustomerImportOptions.Mode = .validRows, dryRun: Bool = false, mapping explicit: [String: String] = [:],
                    timeZone: TimeZone = TimeZone(identifier: "Asia/Shanghai")!, by actor: Actor, now: Date = Date(),
                    problems sink: (@Sendable ([ImportProblem]) throws -> Void)? = nil,
                    progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> InteractionImportReport {
        let mapping = try InteractionImportMapping(headers: source.header, explicit: explicit)
        if mapping.column(of: .customer) == nil && mapping.column(of: .customerEmail) == nil {
            throw DomainError.invalid("/columns/customer", "is required: a column with the customer's external id or e-mail "
                                      + "(its columns: \(source.header.joined(separator: ", ")))")
        }
        let users = try await database.read { db in
            try await db.rows("SELECT id, username FROM users") { (try $0.string("username"), User.ID(try $0.int64("id"))) }
        }
        let context = Context(mapping: mapping, timeZone: timeZone, actor: actor, now: now,
                              usernames: Dictionary(users, uniquingKeysWith: { a, _ in a }), dialect: database.dialect)
        let initial = State(report: InteractionImportReport(source, mode: mode, dryRun: dryRun, ignoredColumns: mapping.ignoredHeaders))
        return try await ImportRun.run(
            database, source, mode: mode, dryRun: dryRun, state: initial, next: { try source.next(5_000) }, progress: progress,
            process: { db, batch, state, write in try await Self.process(db, batch, context, &state, write: write, sink: sink) })
    }

    struct Context: Sendable {
        var mapping: InteractionImportMapping
        var timeZone: TimeZone
        var actor: Actor
        var now: Date
        var usernames: [String: User.ID]
        var dialect: Dialect
    }

    struct State: ImportState {
        var report: InteractionImportReport
        let seen = KeyMemory<FileKey, Int>()
    }

    static func process(_ db: any SQLDatabase, _ batch: [(row: Int, values: [String])], _ context: Context, _ state: inout State,
                        write: Bool, sink: (@Sendable ([ImportProblem]) throws -> Void)?) async throws {
        state.report.rows += batch.count
        let mapping = context.mapping
        let parsed = batch.concurrentMap { row in
            InteractionImportRow.parse(row.values, row: row.row, mapping: mapping, timeZone: context.timeZone, now: context.now)
        }
        var problems: [ImportProblem] = []
        var rows: [InteractionImportRow] = []
        for result in parsed {
            switch result {
            case .failure(let bad): problems += bad.problems
            case .success(let row):
                if let name = row.username, context.usernames[name] == nil {
                    problems.append(ImportProblem(row: row.row, column: mapping.header(of: .user), value: name, reason: "no user is called \(name)"))
                } else {
                    rows.append(row)
                }
            }
        }
        let customers = try await CustomerReferences.resolve(db, rows.map(\.customer))
        var accepted: [(row: InteractionImportRow, customer: Int64, key: String)] = []
        for row in rows {
            guard let customer = customers[row.customer] else {
                problems.append(CustomerReferences.unknown(row.customer, row: row.row, customerHeader: mapping.header(of: .customer),
                                                           emailHeader: mapping.header(of: .customerEmail)))
                continue
            }
            guard AccessPolicy.allows(context.actor, .writeRecord(.interaction, customerOwnerID: customer.owner)) else {
                problems.append(ImportProblem(row: row.row, column: mapping.header(of: row.customer.isEmail ? .customerEmail : .customer),
                                              value: customer.key, reason: "you may not add interactions for customer \(customer.id), who is not yours"))
                continue
            }
            let key = Self.key(customer.id, row.kind, Instant.format(row.occurredAt), row.subject)
            if let first = state.seen.remember(key, row.row) {
                problems.append(ImportProblem(row: row.row, column: mapping.header(of: .occurredAt), value: Instant.format(row.occurredAt),
                                              reason: "is the same interaction as row \(first) (customer, kind, time and subject)"))
                continue
            }
            accepted.append((row, customer.id, key))
        }
        try state.report.record(problems, sink: sink)

        // Already stored: the same customer, kind, time and subject.
        var stored = Set<String>()
        let ids = Array(Set(accepted.map(\.customer)))
        for start in stride(from: 0, to: ids.count, by: 500) {
            let sql = "SELECT customer_id, kind, occurred_at, subject FROM interactions " + whereIn("customer_id", ids[start..<min(start + 500, ids.count)])
            // Also a millisecond later: instants stored before they were rounded to the
            // nearest millisecond were truncated, often a millisecond low, and the same file
            // imported again must still match them.
            for keys in try await db.rows(sql, { row -> [String] in
                let (customer, kind, subject): (Int64, Interaction.Kind, String?) = (try row.int64("customer_id"), try row.enumValue("kind"), try row.optionalString("subject"))
                let at = try row.string("occurred_at")
                let later = Instant.parse(at).map { Instant.format($0.addingTimeInterval(0.001)) }
                return [Self.key(customer, kind, at, subject)] + (later.map { [Self.key(customer, kind, $0, subject)] } ?? [])
            }) { stored.formUnion(keys) }
        }
        let new = accepted.filter { !stored.contains($0.key) }
        state.report.unchanged += accepted.count - new.count
        state.report.created += new.count
        guard write, !new.isEmpty else { return }
        let stamp = Instant.format(context.now)
        let storedAt = Instant.parse(stamp) ?? context.now
        let numbered = try await RowIDs.next(db, table: "interactions", count: new.count, dialect: context.dialect)
        var rowsOut: [[any Encodable & Sendable]] = []
        var audit: [ImportRun.InsertRow] = []
        for (id, item) in zip(numbered, new) {
            let r = item.row
            let by = r.username.flatMap { context.usernames[$0] } ?? context.actor.userID
            let occurred = Instant.format(r.occurredAt)
            rowsOut.append([bound(id), bound(item.customer), bound(r.kind.rawValue), bound(r.direction.rawValue), bound(r.subject), bound(r.notes),
                            bound(r.outcome), bound(by.rawValue), bound(occurred), bound(stamp)])
            let interaction = Interaction(id: Interaction.ID(id), customerID: Customer.ID(item.customer), kind: r.kind, direction: r.direction,
                                          subject: r.subject, notes: r.notes, outcome: r.outcome, userID: by,
                                          occurredAt: Instant.parse(occurred) ?? r.occurredAt, createdAt: storedAt)
            audit.append(ImportRun.auditRow(context.actor, .create, InteractionRepository.entity, "\(id)",
                                            FieldChange.diff(nil as Interaction?, interaction), stamp, context.dialect))
        }
        try await ImportRun.insertRows(db, "interactions", ["id", "customer_id", "kind", "direction", "subject", "notes", "outcome", "user_id",
                                                            "occurred_at", "created_at"], rowsOut)
        try await ImportRun.insertRows(db, "audit_log", ImportRun.auditColumns, audit)
    }

    static func key(_ customer: Int64, _ kind: Interaction.Kind, _ occurredAt: String, _ subject: String?) -> String {
        "\(customer)\u{1F}\(kind.rawValue)\u{1F}\(occurredAt)\u{1F}\(subject ?? "")"
    }
}

/// Customers named by rows of an import: by external id or e-mail; a merged duplicate's
/// records go to the customer it was merged into.
enum CustomerReferences {
    struct Found: Sendable {
        var id: Int64
        var owner: User.ID?
        /// The external id or e-mail it was found by.
        var key: String
    }

    static func resolve(_ db: any SQLDatabase, _ references: [CustomerReference]) async throws -> [CustomerReference: Found] {
        var externalIDs: [String] = [], emails: [String] = []
        for r in references {
            switch r {
            case .externalID(let x): externalIDs.append(x)
            case .email(let e): emails.append(e)
            }
        }
        let select = "SELECT COALESCE(c.merged_into, c.id) AS id, "
            // The survivor's owner is looked up only for a merged customer (a probe per key).
            + "CASE WHEN c.merged_into IS NULL THEN c.owner_id ELSE (SELECT owner_id FROM customers s WHERE s.id = c.merged_into) END AS owner_id, "
        let decode: @Sendable (Row) throws -> Found = {
            Found(id: try $0.int64("id"), owner: try $0.optionalID("owner_id"), key: try $0.string("k"))
        }
        var found: [CustomerReference: Found] = [:]
        for f in try await ImportRun.lookup(db, select + "c.external_id AS k FROM customers c", "c.external_id", externalIDs, decode) {
            found[.externalID(f.key)] = f
        }
        // Several live customers may share an e-mail: the oldest is meant.
        for f in try await ImportRun.lookup(db, select + "c.email AS k FROM customers c", "c.email", emails, where: "c.archived_at IS NULL", decode)
        where found[.email(f.key)].map({ f.id < $0.id }) ?? true {
            found[.email(f.key)] = f
        }
        return found
    }

    static func unknown(_ reference: CustomerReference, row: Int, customerHeader: String, emailHeader: String) -> ImportProblem {
        switch reference {
        case .externalID(let x): ImportProblem(row: row, column: customerHeader, value: x, reason: "no customer has external id \(x)")
        case .email(let e): ImportProblem(row: row, column: emailHeader, value: e, reason: "no customer has e-mail \(e)")
        }
    }
}
