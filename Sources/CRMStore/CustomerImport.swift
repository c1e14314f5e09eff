import CRMCore
import Foundation
import SQLKit
import SQLiteNIO

/// How an import treats its file.
public struct CustomerImportOptions: Sendable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Any bad row and nothing is written.
        case allOrNothing
        /// The good rows are committed (a batch at a time), the bad ones reported.
        case validRows
    }

    /// Which fields find the stored customer a row updates. An external id, when a row has
    /// one, is always tried first: it is unique, and re-running an import must find its own rows.
    public enum MatchKey: String, Sendable, Codable, CaseIterable {
        case externalID, email, phone
    }

    /// A follow-up for each new customer (the business cards of a trade show).
    public struct FollowUp: Sendable, Equatable {
        public var title: String
        public var dueInDays: Int
        public init(title: String, dueInDays: Int) { self.title = title; self.dueInDays = dueInDays }
    }

    public var mode: Mode
    public var dryRun: Bool
    public var matchOn: [MatchKey]
    /// Header → field name, over the automatic recognition (`"手机": "phone"`, `"备注": ""` to ignore).
    public var mapping: [String: String]
    public var defaults: CustomerImportDefaults
    /// Owner of new customers whose row names none; a salesperson's own import is theirs.
    public var ownerID: User.ID?
    public var followUp: FollowUp?
    /// Rows committed together in valid-rows mode; they are read and prepared at most
    /// `ImportRun.preparedRowsLimit` at a time.
    public var batchSize: Int

    public init(mode: Mode = .validRows, dryRun: Bool = false, matchOn: [MatchKey] = [.externalID], mapping: [String: String] = [:],
                defaults: CustomerImportDefaults = CustomerImportDefaults(), ownerID: User.ID? = nil, followUp: FollowUp? = nil,
                batchSize: Int = 2_000) {
        self.mode = mode; self.dryRun = dryRun; self.matchOn = matchOn; self.mapping = mapping; self.defaults = defaults
        self.ownerID = ownerID; self.followUp = followUp; self.batchSize = max(1, batchSize)
    }
}

/// Imports customers from a CSV file: each row validated and normalised, matched to a
/// stored customer by external id (and e-mail or phone, if asked) to update it, or created;
/// persons linked as contacts to their organisation by name, created if need be. Written a
/// batch at a time with multi-row statements; re-running the same file creates nothing twice.
public struct CustomerImporter: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    /// - Parameters:
    ///   - problems: receives every bad row's problems as they are found (the error report file).
    ///   - progress: rows read so far and the estimated total.
    public func run(_ source: CSVRowSource, options: CustomerImportOptions, by actor: Actor, now: Date = Date(),
                    problems sink: (@Sendable ([ImportProblem]) throws -> Void)? = nil,
                    progress: (@Sendable (Int, Int) -> Void)? = nil) async throws -> CustomerImportReport {
        try AccessPolicy.require(actor, .createCustomer)
        let definitions = try await database.read { db in try await CustomFieldRepository.definitions(db) }
        let mapping = try CustomerImportMapping(headers: source.header, explicit: options.mapping, customFields: definitions)
        let users = try await database.read { db in
            try await db.rows("SELECT id, username FROM users") { (try $0.string("username"), User.ID(try $0.int64("id"))) }
        }
        if let owner = options.ownerID, !users.contains(where: { $0.1 == owner }) {
            throw DomainError.invalid("/ownerID", "no user has id \(owner)")
        }
        if let owner = options.ownerID, owner != actor.userID { try AccessPolicy.require(actor, .editCustomer(ownerID: owner)) }
        // A dry run reads on a reader, where the writer's mark cannot be checked.
        let storedKeys = options.dryRun ? nil : try await StoredKeys.read(database, rows: source.estimatedRows)
        let context = Context(options: options, mapping: mapping, definitions: definitions, actor: actor, now: now, stamp: Instant.format(now),
                              usernames: Dictionary(users, uniquingKeysWith: { a, _ in a }), dialect: database.dialect,
                              storedKeys: storedKeys)
        let initial = ImportState(report: CustomerImportReport(source, mode: options.mode, dryRun: options.dryRun,
                                                               ignoredColumns: mapping.ignoredHeaders))
        // A batch (the rows committed together) is read and prepared a part at a time.
        let rows = ImportRun.batchRows(committing: options.batchSize)
        return try await ImportRun.run(
            database, source, mode: options.mode, dryRun: options.dryRun, state: initial, next: { try source.next(rows) },
            prepare: { Self.prepare($0, context) }, progress: progress, rowsPerCommit: options.batchSize,
            process: { db, batch, state, write in try await Self.process(db, batch, context, &state, write: write, sink: sink) })
    }

    struct Context: Sendable {
        var options: CustomerImportOptions
        var mapping: CustomerImportMapping
        var definitions: [CustomFieldDefinition]
        var actor: Actor
        var now: Date
        /// `now` as stored.
        var stamp: String
        var usernames: [String: User.ID]
        var dialect: Dialect
        /// The keys stored customers have, while no other writer has written (SQLite only).
        var storedKeys: StoredKeys?
    }

    /// What carries from batch to batch: the keys seen so far in the file (a key twice in
    /// one file is an error, not two customers), the organisations created, the report.
    struct ImportState: CRMStore.ImportState {
        var report: CustomerImportReport
        let seenKeys = KeyMemory<FileKey, Int>()
        /// Organisations created by this import, by name (ids are 0 in a dry run).
        var organisations: [String: Int64] = [:]
        /// Stored customers already matched by a row of this file, and by which row.
        let matchedCustomers = KeyMemory<Customer.ID, Int>()
    }

    /// One row on its way in: parsed, with its owner and its draft as a new customer.
    /// A reference: the writer passes rows from list to list, and a copy of a row's many
    /// strings was a tenth of the writer's time.
    final class Pending: Sendable {
        let row: CustomerImportRow
        let ownerID: User.ID?
        let draft: Result<Draft, any Error>
        /// The keys it may not share with an earlier row, digested where rows are prepared.
        let keys: [(CustomerImportField, String, FileKey)]

        init(row: CustomerImportRow, ownerID: User.ID?, draft: Result<Draft, any Error>, keys: [(CustomerImportField, String, FileKey)]) {
            self.row = row; self.ownerID = ownerID; self.draft = draft; self.keys = keys
        }
    }

    /// A new customer as the writer stores it, all made where rows are prepared: its row (every
    /// column but the id, which the writer numbers), roles, tags, search postings and audit.
    final class Draft: Sendable {
        let customer: ImportRun.InsertRow
        let roles: [String]
        let tags: [String]
        let ownerID: Int64?
        let postings: SearchIndex.Postings
        /// Where the customer came from (its row of the file), its creation's audited change:
        /// the values are the record's own, and every later change is audited as a diff. (The
        /// whole record in the audit doubled an import's writes: 530 bytes a row.)
        let changes: String

        init(customer: ImportRun.InsertRow, roles: [String], tags: [String], ownerID: Int64?, postings: SearchIndex.Postings, changes: String) {
            self.customer = customer; self.roles = roles; self.tags = tags; self.ownerID = ownerID; self.postings = postings
            self.changes = changes
        }
    }

    /// A row taken as far as it goes without the database.
    enum PreparedRow: Sendable {
        case refused([ImportProblem])
        case ready(Pending)
    }

    /// Parses the rows, resolves their owners and drafts each as a new customer (most rows of
    /// a large file are): pure work, done on both cores for the next batch while the writer
    /// stores the last one. A row that updates a stored customer wastes its draft, on a core
    /// that would otherwise wait.
    static func prepare(_ batch: [(row: Int, values: [String])], _ context: Context) -> [PreparedRow] {
        let options = context.options
        return batch.concurrentMap(yielding: true) { cells -> PreparedRow in
            let parsed = CustomerImportRow.parse(cells.values, row: cells.row, mapping: context.mapping, defaults: options.defaults,
                                                 customFields: context.definitions)
            switch parsed {
            case .failure(let bad):
                return .refused(bad.problems)
            case .success(let row):
                var ownerID = options.ownerID ?? (context.actor.role == .sales ? context.actor.userID : nil)
                if let username = row.ownerUsername {
                    guard let id = context.usernames[username] else {
                        return .refused([problem(row, context, .owner, username, "no user is called \(username)")])
                    }
                    ownerID = id
                }
                // Giving a customer to someone else is editing a customer of theirs.
                if let ownerID, ownerID != context.actor.userID, !AccessPolicy.allows(context.actor, .editCustomer(ownerID: ownerID)) {
                    return .refused([problem(row, context, .owner, row.ownerUsername ?? "", "you may not make another user the owner")])
                }
                var input = row.input
                input.ownerID = ownerID
                return .ready(Pending(row: row, ownerID: ownerID, draft: Result { try draft(input, organisation: row.organisation, row: row.row, context) },
                                      keys: keys(of: row.input, options).map { ($0.0, $0.1, FileKey($0.1)) }))
            }
        }
    }

    /// - Parameter row: the file's row: the customer's, or for an organisation the row of a
    ///   person naming it.
    static func draft(_ c: CustomerInput, organisation: String?, row: Int, _ context: Context) throws -> Draft {
        let searchKeys = SearchIndex.values(name: c.name, email: c.email, phone: c.phone, organisations: organisation.map { [$0] } ?? [])
            .map(Normalise.searchKey)
        let stamp = context.stamp
        // `customerColumns` after the id, as the dialect binds them.
        let customer = ImportRun.InsertRow([
            .text(c.kind.rawValue), .text(c.name), .text(CustomerRepository.rolesText(c.roles)), .text(c.email),
            .text(c.phone), .text(c.profile.gender?.rawValue), .text(c.profile.birthday?.description),
            .text(try JSONColumn.text(c.profile.hobbies)), .text(c.profile.familyNotes), .text(c.profile.preferredChannel?.rawValue),
            .text(c.profile.timeZone), .text(try JSONColumn.text(c.profile.contactWindows)), .text(try JSONColumn.text(c.profile.doNotContact)),
            .text(c.profile.personalityStyle?.rawValue), .text(c.profile.personalityEvidence), .text(c.profile.industry),
            .text(try JSONColumn.text(c.tags)), .text(c.source), .integer(c.ownerID?.rawValue), .text(try JSONColumn.text(c.customFields)),
            .text(c.externalID), .text(searchKeys.joined(separator: "\n")), .text(stamp), .text(stamp),
            .integer(1),
        ], context.dialect)
        return Draft(customer: customer, roles: c.roles.map(\.rawValue), tags: c.tags, ownerID: c.ownerID?.rawValue,
                     postings: SearchIndex.Postings(keys: searchKeys, dialect: context.dialect),
                     changes: JSONColumn.changesText([FieldChange(field: "import.row", before: nil, after: String(row))]))
    }

    static let customerColumns = ["id", "kind", "name", "roles", "email", "phone", "gender", "birthday", "hobbies", "family_notes",
                                  "preferred_channel", "time_zone", "contact_windows", "do_not_contact", "personality_style",
                                  "personality_evidence", "industry", "tags", "source", "owner_id", "custom_fields", "external_id",
                                  "search_text", "created_at", "updated_at", "version"]

    static func process(_ db: any SQLDatabase, _ batch: [PreparedRow], _ context: Context, _ state: inout ImportState,
                        write: Bool, sink: (@Sendable ([ImportProblem]) throws -> Void)?) async throws {
        let options = context.options
        var problems: [ImportProblem] = []
        var pending: [Pending] = []
        pending.reserveCapacity(batch.count)
        state.report.rows += batch.count

        // Refuse keys the file has already used.
        for prepared in batch {
            switch prepared {
            case .refused(let refused):
                problems += refused
            case .ready(let p):
                var duplicate: ImportProblem?
                for (field, key, digest) in p.keys {
                    if let first = state.seenKeys[digest] {
                        duplicate = problem(p.row, context, field, String(key.dropFirst(2)), "is the same as in row \(first): one customer per key")
                        break
                    }
                }
                if let duplicate { problems.append(duplicate); continue }
                for (_, _, digest) in p.keys { state.seenKeys[digest] = p.row.row }
                pending.append(p)
            }
        }

        // The stored customers these rows update, looked up by the keys some stored customer
        // may have.
        let stored = try await context.storedKeys?.holds(db) == true ? context.storedKeys : nil
        func mayBeStored(_ key: String, _ kind: StoredKeys.Kind) -> Bool { stored?.mayHave(key, kind) ?? true }
        let externalIDs = pending.compactMap(\.row.input.externalID).filter { mayBeStored($0, .externalID) }
        let emails = options.matchOn.contains(.email) ? pending.compactMap(\.row.input.email).filter { mayBeStored($0, .email) } : []
        let phones = options.matchOn.contains(.phone) ? pending.compactMap(\.row.input.phone).filter { mayBeStored($0, .phone) } : []
        let byExternalID = try await customers(db, "external_id", externalIDs)
        let byEmail = try await customers(db, "email", emails)
        let byPhone = try await customers(db, "phone", phones)
        var accepted: [(pending: Pending, existing: Customer?)] = []
        accepted.reserveCapacity(pending.count)
        var matchedRows: [Customer.ID: Int] = [:]
        for p in pending {
            var match = p.row.input.externalID.flatMap { byExternalID[$0] }
            var matchedBy = CustomerImportField.externalID
            for key in options.matchOn where match == nil {
                switch key {
                case .externalID: break
                case .email: match = p.row.input.email.flatMap { byEmail[$0] }; matchedBy = .email
                case .phone: match = p.row.input.phone.flatMap { byPhone[$0] }; matchedBy = .phone
                }
            }
            if let existing = match {
                if let ext = p.row.input.externalID, let theirs = existing.externalID, ext != theirs {
                    problems.append(problem(p.row, context, matchedBy, "", "matches customer \(existing.id), whose external id is \(theirs), not \(ext)"))
                    continue
                }
                if existing.kind != p.row.input.kind && context.mapping.column(of: .kind) != nil {
                    problems.append(problem(p.row, context, .kind, p.row.input.kind.rawValue, "customer \(existing.id) is a \(existing.kind.rawValue)"))
                    continue
                }
                if existing.kind == .organisation && p.row.organisation != nil {
                    problems.append(problem(p.row, context, .organisation, p.row.organisation ?? "",
                                            "customer \(existing.id) is an organisation; an organisation does not work for another"))
                    continue
                }
                if !AccessPolicy.allows(context.actor, .editCustomer(ownerID: existing.ownerID)) {
                    problems.append(problem(p.row, context, matchedBy, "", "matches customer \(existing.id), which you may not edit"))
                    continue
                }
                // Two rows matching one customer by different keys (e-mail on one, phone on the other).
                if let first = matchedRows[existing.id] ?? state.matchedCustomers[existing.id] {
                    problems.append(problem(p.row, context, matchedBy, "", "matches customer \(existing.id), as row \(first) does: one row per customer"))
                    continue
                }
                matchedRows[existing.id] = p.row.row
            }
            accepted.append((p, match))
        }
        for (id, row) in matchedRows { _ = state.matchedCustomers.remember(id, row) }

        try state.report.record(problems, sink: sink)
        try await apply(db, accepted, context, &state, write: write)
        try await context.storedKeys?.noteWritten(db)
    }

    /// The keys a row may not share with an earlier row of the same file.
    static func keys(of input: CustomerInput, _ options: CustomerImportOptions) -> [(CustomerImportField, String)] {
        var keys: [(CustomerImportField, String)] = []
        if let ext = input.externalID { keys.append((.externalID, "x:" + ext)) }
        if options.matchOn.contains(.email), let email = input.email { keys.append((.email, "e:" + email)) }
        if options.matchOn.contains(.phone), let phone = input.phone { keys.append((.phone, "p:" + phone)) }
        return keys
    }

    static func problem(_ row: CustomerImportRow, _ context: Context, _ field: CustomerImportField, _ value: String, _ reason: String) -> ImportProblem {
        let column = context.mapping.column(of: field).map { context.mapping.headers[$0] } ?? field.description
        return ImportProblem(row: row.row, column: column, value: value, reason: reason)
    }

    /// Stored customers whose `column` is one of `values` (the lowest id where several share one).
    static func customers(_ db: any SQLDatabase, _ column: String, _ values: [String]) async throws -> [String: Customer] {
        // An archived record (a merged duplicate keeps its e-mail and phone) is not matched by them.
        let live = column == "external_id" ? nil : "archived_at IS NULL"
        var result: [String: Customer] = [:]
        for c in try await ImportRun.lookup(db, "SELECT * FROM customers", column, values, where: live, CustomerRepository.decode) {
            let key = column == "email" ? c.email : column == "phone" ? c.phone : c.externalID
            if let key, result[key].map({ c.id < $0.id }) ?? true { result[key] = c }
        }
        return result
    }

    // MARK: writing

    static func apply(_ db: any SQLDatabase, _ accepted: [(pending: Pending, existing: Customer?)], _ context: Context, _ state: inout ImportState,
                      write: Bool) async throws {
        let now = context.now
        let stamp = context.stamp

        // Organisations named by persons: stored ones by exact name, the rest created.
        let names = Set(accepted.compactMap(\.pending.row.organisation)).filter { state.organisations[$0] == nil }
        var organisations = state.organisations
        var storedIDs: [String: Int64] = [:]
        for (id, name) in try await ImportRun.lookup(db, "SELECT id, name FROM customers", "name", names,
                                                     where: "kind = 'organisation' AND archived_at IS NULL",
                                                     { (try $0.int64("id"), try $0.string("name")) })
        where storedIDs[name].map({ id < $0 }) ?? true {
            storedIDs[name] = id
        }
        organisations.merge(storedIDs, uniquingKeysWith: { _, stored in stored })
        let newOrganisations = names.filter { organisations[$0] == nil }.sorted()
        var namedFirstIn: [String: Int] = [:]
        for (p, _) in accepted { if let name = p.row.organisation, namedFirstIn[name] == nil { namedFirstIn[name] = p.row.row } }

        // New customers (organisations first, so persons can name them), each with the row it
        // came from, if any.
        var inserts: [(draft: Result<Draft, any Error>, pending: Pending?)] = []
        inserts.reserveCapacity(newOrganisations.count + accepted.count)
        for name in newOrganisations {
            let input = CustomerInput(kind: .organisation, name: name, roles: context.options.defaults.roles,
                                      profile: CustomerProfile(timeZone: context.options.defaults.timeZone),
                                      source: context.options.defaults.source,
                                      ownerID: context.options.ownerID ?? (context.actor.role == .sales ? context.actor.userID : nil))
            inserts.append((Result { try draft(input, organisation: nil, row: namedFirstIn[name] ?? 0, context) }, nil))
        }
        var updates: [(Customer, CustomerInput, CustomerImportRow)] = []
        var links: [(Customer.ID, Pending)] = []
        for (p, existing) in accepted {
            if let existing {
                let merged = Self.merged(existing, p.row, ownerID: p.row.ownerUsername == nil ? nil : p.ownerID, context.mapping)
                if merged == CustomerInput(existing) { state.report.unchanged += 1 } else { updates.append((existing, merged, p.row)) }
                if p.row.organisation != nil { links.append((existing.id, p)) }
            } else {
                inserts.append((p.draft, p))
            }
        }
        state.report.created += inserts.count - newOrganisations.count
        state.report.organisationsCreated += newOrganisations.count
        state.report.updated += updates.count
        guard write else {
            for name in newOrganisations { organisations[name] = 0 }
            state.organisations = organisations
            state.report.contactsCreated += inserts.filter { $0.pending?.row.organisation != nil }.count
            if context.options.followUp != nil { state.report.tasksCreated += inserts.count - newOrganisations.count }
            return
        }

        // New customers, organisations first so persons can name them.
        // A draft that failed fails only a write, as it always has: a dry run reports the row.
        let drafts = try inserts.map { try $0.draft.get() }
        let ids = try await RowIDs.next(db, table: "customers", count: inserts.count, dialect: context.dialect)
        for (n, name) in newOrganisations.enumerated() { organisations[name] = ids[n] }
        state.organisations.merge(newOrganisations.map { ($0, organisations[$0]!) }, uniquingKeysWith: { _, b in b })
        var pairRows: (roles: [ImportRun.InsertRow], tags: [ImportRun.InsertRow]) = ([], [])
        var gramRows: [(id: Int64, postings: SearchIndex.Postings)] = []
        var auditRows: [ImportRun.InsertRow] = []
        var contactRows: [ImportRun.InsertRow] = []
        let dialect = context.dialect
        var taskRows: [[any Encodable & Sendable]] = []
        gramRows.reserveCapacity(inserts.count)
        auditRows.reserveCapacity(inserts.count)
        for (n, (draft, (_, pending))) in zip(drafts, inserts).enumerated() {
            let id = ids[n]
            gramRows.append((id, draft.postings))
            auditRows.append(ImportRun.auditRow(context.actor, .create, "customer", "\(id)", changes: draft.changes, stamp, dialect))
            for role in draft.roles { pairRows.roles.append(ImportRun.InsertRow([.integer(id), .text(role)], dialect)) }
            for tag in draft.tags { pairRows.tags.append(ImportRun.InsertRow([.integer(id), .text(tag)], dialect)) }
            if let row = pending?.row {
                if let name = row.organisation, let organisation = organisations[name] {
                    contactRows.append(ImportRun.InsertRow([.integer(organisation), .integer(id), .text(row.jobTitle.map(Normalise.name)),
                                                            .text(row.buyingRole?.rawValue), .integer(50), .text(stamp), .text(stamp), .integer(1)],
                                                           dialect))
                }
                if let followUp = context.options.followUp {
                    let due = CalendarDate(daysSinceEpoch: CalendarDate(utc: now).daysSinceEpoch + followUp.dueInDays)
                    taskRows.append([bound(id), bound(followUp.title), bound(due.description), bound(draft.ownerID ?? context.actor.userID.rawValue),
                                     bound(FollowUpTask.Status.open.rawValue), bound(stamp), bound(stamp), bound(Int64(1))])
                }
            }
        }
        try await ImportRun.insertRows(db, "customers", customerColumns, ids: ids, drafts.map(\.customer))
        try await ImportRun.insertRows(db, "customer_roles", ["customer_id", "role"], pairRows.roles)
        try await ImportRun.insertRows(db, "customer_tags", ["customer_id", "tag"], pairRows.tags)
        try await SearchIndex.post(db, gramRows)
        try await ImportRun.insertRows(db, "contacts", ["organisation_id", "person_id", "job_title", "buying_role", "influence", "created_at",
                                              "updated_at", "version"], contactRows)
        try await ImportRun.insertRows(db, "tasks", ["customer_id", "title", "due_date", "assignee_id", "status", "created_at", "updated_at", "version"],
                             taskRows)
        state.report.contactsCreated += contactRows.count
        state.report.tasksCreated += taskRows.count

        // Updates one by one: rarer, and each compared with what is stored.
        // Stored persons linked to the organisation their row names, if not linked yet (the
        // links they have are read in one query: a re-run of a file has one per such row).
        var existingLinks = Set<[Int64]>()
        if !links.isEmpty {
            let persons = Array(Set(links.map(\.0)))
            for start in stride(from: 0, to: persons.count, by: 500) {
                let chunk = Array(persons[start..<min(start + 500, persons.count)])
                for pair in try await db.rows("SELECT organisation_id, person_id FROM contacts " + PurchaseSummaries.customerFilter("person_id", chunk),
                                              { [try $0.int64("organisation_id"), try $0.int64("person_id")] }) {
                    existingLinks.insert(pair)
                }
            }
        }
        var linked = Set<Customer.ID>()
        var linkRows: [[any Encodable & Sendable]] = []
        for (id, p) in links {
            let row = p.row
            guard let name = row.organisation, let organisation = organisations[name],
                  existingLinks.insert([organisation, id.rawValue]).inserted else { continue }
            linkRows.append([bound(organisation), bound(id.rawValue), bound(row.jobTitle.map(Normalise.name)), bound(row.buyingRole?.rawValue),
                             bound(Int64(50)), bound(stamp), bound(stamp), bound(Int64(1))])
            linked.insert(id)
        }
        try await ImportRun.insertRows(db, "contacts", ["organisation_id", "person_id", "job_title", "buying_role", "influence", "created_at", "updated_at",
                                              "version"], linkRows)
        state.report.contactsCreated += linkRows.count
        // Persons newly linked are found by their organisation's name from now on.
        var reindexed = linked
        for (existing, merged, _) in updates {
            try await CustomerRepository.overwrite(db, existing.id, merged, version: existing.version, now: now)
            try await CustomerRepository.replaceRolesAndTags(db, existing.id, merged)
            reindexed.insert(existing.id)
            if merged.kind == .organisation && merged.name != existing.name {
                // And every person of a renamed organisation by its new name.
                reindexed.formUnion(try await SearchIndex.persons(of: existing.id, db))
            }
            if let updated = try await CustomerRepository.fetch(db, existing.id) {
                auditRows.append(ImportRun.auditRow(context.actor, .update, "customer", "\(existing.id)", FieldChange.diff(existing, updated),
                                                    stamp, dialect))
            }
        }
        // In id order: SQLite's FTS5 starts a new segment whenever a write's rowid is below the last.
        for id in reindexed.sorted() { try await SearchIndex.reindex(db, id) }
        try await ImportRun.insertRows(db, "audit_log", ImportRun.auditColumns, auditRows)
    }

    /// The stored customer with the row's values over it: a cell left empty keeps what is
    /// stored; roles, tags and custom fields are added to, not replaced; the first source stays.
    static func merged(_ existing: Customer, _ row: CustomerImportRow, ownerID: User.ID?, _ mapping: CustomerImportMapping) -> CustomerInput {
        var m = CustomerInput(existing)
        let new = row.input
        m.name = new.name
        if mapping.column(of: .roles) != nil { m.roles = Array(Set(m.roles + new.roles)).sorted { $0.rawValue < $1.rawValue } }
        if let e = new.email { m.email = e }
        if let p = new.phone { m.phone = p }
        for tag in new.tags where !m.tags.contains(tag) { m.tags.append(tag) }
        if m.source == nil { m.source = new.source }
        if let ownerID { m.ownerID = ownerID }
        if let x = new.externalID { m.externalID = x }
        m.customFields.merge(new.customFields, uniquingKeysWith: { _, b in b })
        let p = new.profile
        if let v = p.gender { m.profile.gender = v }
        if let v = p.birthday { m.profile.birthday = v }
        if !p.hobbies.isEmpty { m.profile.hobbies = p.hobbies }
        if let v = p.familyNotes { m.profile.familyNotes = v }
        if let v = p.preferredChannel { m.profile.preferredChannel = v }
        if row.timeZoneGiven { m.profile.timeZone = p.timeZone }
        if let v = p.personalityStyle { m.profile.personalityStyle = v }
        if let v = p.industry { m.profile.industry = v }
        return m
    }
}

/// The error report: every problem as a CSV row (UTF-8 with a byte-order mark, so Excel
/// shows Chinese correctly), written as the import goes.
public final class ImportProblemFile: Sendable {
    private let handle: FileHandle

    private static let header: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("row,column,value,reason\r\n".utf8)

    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(Self.header)),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw ImportFileError.unreadable("cannot write the error report \(path)")
        }
        handle.seekToEndOfFile()
        self.handle = handle
    }

    public func write(_ problems: [ImportProblem]) {
        var text = ""
        for p in problems {
            text += "\(p.row),\(Self.quoted(p.column)),\(Self.quoted(p.value)),\(Self.quoted(p.reason))\r\n"
        }
        handle.write(Data(text.utf8))
    }

    public func close() { try? handle.close() }

    /// Whether no problem has been written yet.
    public var isEmpty: Bool { ((try? handle.offset()) ?? 0) <= UInt64(Self.header.count) }

    /// A CSV field: as it is when it can be, else in quotes with its quotes doubled. A
    /// leading = + - @ would be run as a formula by a spreadsheet: quoted, and prefixed '.
    /// Scanned as bytes (every field of an export passes through here).
    public static func quoted(_ text: String) -> String {
        let utf8 = text.utf8
        let formula = utf8.first.map { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "@") } ?? false
        var hasQuote = false, special = formula
        for b in utf8 {
            switch b {
            case UInt8(ascii: "\""): hasQuote = true; special = true
            case UInt8(ascii: ","), UInt8(ascii: "\n"), UInt8(ascii: "\r"): special = true
            default: break
            }
        }
        guard special else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + 4)
        out.append(UInt8(ascii: "\""))
        if formula { out.append(UInt8(ascii: "'")) }
        if hasQuote {
            for b in utf8 {
                out.append(b)
                if b == UInt8(ascii: "\"") { out.append(b) }
            }
        } else {
            out.append(contentsOf: utf8)
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }
}



