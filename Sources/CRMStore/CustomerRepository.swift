import CRMAnalytics
import CRMCore
import Foundation
import SQLKit

/// The shared customer database: persons and organisations, their roles, tags and rich
/// profile. Every write checks the actor's permission and appends to the audit log in the
/// same transaction.
public struct CustomerRepository: Sendable {
    let database: any StoreDatabase
    /// Country code given to phone numbers written without one.
    let defaultCountryCode: String
    /// Below this many matches a list filters on the analysis by a list of ids, from it on by
    /// a check per customer (see `AnalyticsFilterForm`).
    let analyticsListLimit: Int

    public init(database: any StoreDatabase, defaultCountryCode: String = "86", analyticsListLimit: Int = 5_000) {
        self.database = database
        self.defaultCountryCode = defaultCountryCode
        self.analyticsListLimit = max(1, analyticsListLimit)
    }

    static let entity = "customer"

    public func create(_ input: CustomerInput, by actor: Actor, now: Date = Date()) async throws -> Customer {
        try AccessPolicy.require(actor, .createCustomer)
        var input = input
        if actor.role == .sales && input.ownerID == nil { input.ownerID = actor.userID }
        if input.ownerID != actor.userID { try AccessPolicy.require(actor, .editCustomer(ownerID: input.ownerID)) }
        let submitted = input
        let countryCode = defaultCountryCode
        return try await database.write { db in
            let clean = try submitted.normalised(customFieldDefinitions: try await CustomFieldRepository.definitions(db),
                                                 defaultCountryCode: countryCode)
            try await Self.checkReferences(db, clean)
            let id = try await Self.insert(db, clean, now: now)
            let customer = try await Self.fetch(db, id)!
            try await AuditLog.append(db, actor: actor, action: .create, entity: Self.entity, entityID: "\(id)",
                                      changes: FieldChange.diff(nil as Customer?, customer), at: now)
            return customer
        }
    }

    /// Replaces the customer's data if `version` is still current; otherwise nothing is
    /// written and `.staleVersion` tells the client to re-read.
    public func update(_ id: Customer.ID, with input: CustomerInput, ifVersion version: Int64, by actor: Actor, now: Date = Date()) async throws -> Customer {
        let countryCode = defaultCountryCode
        return try await database.write { db in
            guard let current = try await Self.fetch(db, id) else { throw DomainError.notFound(entity: Self.entity, id: "\(id)") }
            try AccessPolicy.require(actor, .editCustomer(ownerID: current.ownerID))
            guard current.version == version else { throw DomainError.staleVersion(entity: Self.entity, id: "\(id)", current: current.version) }
            let clean = try input.normalised(customFieldDefinitions: try await CustomFieldRepository.definitions(db), defaultCountryCode: countryCode)
            if clean.kind != current.kind { throw DomainError.invalid("/kind", "cannot change a \(current.kind.rawValue) into a \(clean.kind.rawValue)") }
            try await Self.checkReferences(db, clean, excluding: id)
            try await Self.overwrite(db, id, clean, version: version, now: now)
            try await Self.replaceRolesAndTags(db, id, clean)
            try await SearchIndex.reindex(db, id)
            if clean.kind == .organisation && clean.name != current.name {
                // Persons are found by their organisation's name too.
                for person in try await SearchIndex.persons(of: id, db) { try await SearchIndex.reindex(db, person) }
            }
            let updated = try await Self.fetch(db, id)!
            try await AuditLog.append(db, actor: actor, action: .update, entity: Self.entity, entityID: "\(id)",
                                      changes: FieldChange.diff(current, updated), at: now)
            return updated
        }
    }

    /// Customers are archived, never deleted: their orders and history stay provable.
    public func archive(_ id: Customer.ID, ifVersion version: Int64?, by actor: Actor, now: Date = Date()) async throws -> Customer {
        try await database.write { db in
            guard let current = try await Self.fetch(db, id) else { throw DomainError.notFound(entity: Self.entity, id: "\(id)") }
            try AccessPolicy.require(actor, .editCustomer(ownerID: current.ownerID))
            if let version, current.version != version {
                throw DomainError.staleVersion(entity: Self.entity, id: "\(id)", current: current.version)
            }
            if current.archivedAt != nil { return current }
            try await db.raw("""
                UPDATE customers SET archived_at = \(bind: Instant.format(now)), updated_at = \(bind: Instant.format(now)),
                    version = version + 1 WHERE id = \(bind: id.rawValue)
                """).run()
            let archived = try await Self.fetch(db, id)!
            try await AuditLog.append(db, actor: actor, action: .archive, entity: Self.entity, entityID: "\(id)",
                                      changes: FieldChange.diff(current, archived), at: now)
            return archived
        }
    }

    public func get(_ id: Customer.ID) async throws -> Customer {
        guard let customer = try await database.lookup({ db in try await Self.fetch(db, id) }) else {
            throw DomainError.notFound(entity: Self.entity, id: "\(id)")
        }
        return customer
    }

    /// Several customers in one read (the names and owners of search hits, of tasks' customers);
    /// ids not found are left out.
    public func get(_ ids: [Customer.ID]) async throws -> [Customer.ID: Customer] {
        guard !ids.isEmpty else { return [:] }
        let unique = Array(Set(ids.map(\.rawValue)))
        // A few by key on the calling thread; a page's worth through the pool.
        let found = try await (unique.count <= 20 ? database.lookup : database.read) { db in
            var found: [Customer] = []
            // A slice at a time: a statement takes a bounded number of binds.
            for start in stride(from: 0, to: unique.count, by: 500) {
                found += try await db.rows("SELECT * FROM customers " + whereIn("id", unique[start..<min(start + 500, unique.count)]), Self.decode)
            }
            return found
        }
        return Dictionary(uniqueKeysWithValues: found.map { ($0.id, $0) })
    }

    public struct Query: Sendable {
        public var role: CustomerRole?
        public var tag: String?
        public var ownerID: User.ID?
        public var kind: Customer.Kind?
        public var updatedSince: Date?
        public var includeArchived: Bool
        /// Filters on the latest analysis (customers not yet analysed match none of them).
        public var tier: CustomerTier?
        public var loyaltyStage: LoyaltyStage?
        public var rfmSegment: RFMSegment?
        public var churnRisk: ChurnRiskLevel?
        public var silentChurn: Bool?
        public var sort: ListSort
        public var cursor: String?
        public var limit: Int

        public init(role: CustomerRole? = nil, tag: String? = nil, ownerID: User.ID? = nil, kind: Customer.Kind? = nil,
                    updatedSince: Date? = nil, includeArchived: Bool = false, tier: CustomerTier? = nil, loyaltyStage: LoyaltyStage? = nil,
                    rfmSegment: RFMSegment? = nil, churnRisk: ChurnRiskLevel? = nil, silentChurn: Bool? = nil,
                    sort: ListSort = .id, cursor: String? = nil, limit: Int = 50) {
            self.role = role; self.tag = tag; self.ownerID = ownerID; self.kind = kind; self.updatedSince = updatedSince
            self.includeArchived = includeArchived; self.tier = tier; self.loyaltyStage = loyaltyStage; self.rfmSegment = rfmSegment
            self.churnRisk = churnRisk; self.silentChurn = silentChurn; self.sort = sort; self.cursor = cursor; self.limit = limit
        }
    }

    public func list(_ q: Query) async throws -> Page<Customer> {
        try await page(q, maxLimit: 500)
    }

    /// A page of up to `maxLimit` (exports read larger pages than clients may ask for).
    func page(_ q: Query, maxLimit: Int) async throws -> Page<Customer> {
        let limit = min(max(q.limit, 1), maxLimit)
        let cursor = try q.cursor.map { cursorText throws(DomainError) in try Cursor(decoding: cursorText) }
        return try await database.read { db in
            var sql = SQLQueryString("SELECT c.* FROM customers c WHERE 1=1") + Self.filters(q, analytics: try await Self.analyticsFilterForm(db, q, listLimit: analyticsListLimit))
            let op = q.sort.descending ? "<" : ">"
            let dir = q.sort.descending ? "DESC" : "ASC"
            if let column = q.sort.column {
                if let cursor {
                    sql = sql + " AND (c.\(unsafeRaw: column), c.id) \(unsafeRaw: op) (\(bind: cursor.value ?? ""), \(bind: cursor.id))"
                }
                sql = sql + " ORDER BY c.\(unsafeRaw: column) \(unsafeRaw: dir), c.id \(unsafeRaw: dir)"
            } else {
                if let cursor { sql = sql + " AND c.id \(unsafeRaw: op) \(bind: cursor.id)" }
                sql = sql + " ORDER BY c.id \(unsafeRaw: dir)"
            }
            sql = sql + " LIMIT \(bind: limit + 1)"
            let rows = try await db.rows(sql, Self.decode)
            let items = Array(rows.prefix(limit))
            var next: String?
            if rows.count > limit, let last = items.last {
                let value: String? = switch q.sort.column {
                case "name": last.name
                case "updated_at": Instant.format(last.updatedAt)
                default: nil
                }
                next = Cursor(value: value, id: last.id.rawValue).encoded
            }
            return Page(items: items, nextCursor: next)
        }
    }

    /// How a page applies the analysis filters. A list of the matching customers (`IN`) is
    /// quick when few match; when many do, walking the sort order and checking each
    /// customer (`EXISTS`) stops after one page, where the list would sort them all first.
    /// (1M customers, SQLite: tier = lead 280 ms by list, 1 ms by check; churn = high and
    /// stage = loyal, which none match, 0 ms by list, 5.9 s by check.)
    enum AnalyticsFilterForm { case list, check }

    /// Counts up to `listLimit` matches on the analysis' indexes to choose the form.
    static func analyticsFilterForm(_ db: any SQLDatabase, _ q: Query, listLimit: Int) async throws -> AnalyticsFilterForm {
        let conditions = analyticsConditions(q)
        guard !conditions.isEmpty else { return .list }
        let probe = SQLQueryString("SELECT COUNT(*) AS n FROM (SELECT 1 FROM customer_analytics WHERE ")
            + conditions.joined(separator: " AND ") + " LIMIT \(bind: listLimit)) m"
        let matches = try await db.rows(probe) { try $0.int64("n") }.first ?? 0
        return matches < listLimit ? .list : .check
    }

    static func analyticsConditions(_ q: Query) -> [SQLQueryString] {
        var analytics: [SQLQueryString] = []
        if let v = q.tier { analytics.append("tier = \(bind: v.rawValue)") }
        if let v = q.loyaltyStage { analytics.append("loyalty_stage = \(bind: v.rawValue)") }
        if let v = q.rfmSegment { analytics.append("rfm_segment = \(bind: v.rawValue)") }
        if let v = q.churnRisk { analytics.append("churn_risk = \(bind: v.rawValue)") }
        if let v = q.silentChurn { analytics.append("silent_churn = \(bind: v)") }
        return analytics
    }

    /// The list filters as `AND …` conditions on `customers c`.
    static func filters(_ q: Query, analytics form: AnalyticsFilterForm = .list) -> SQLQueryString {
        var sql = SQLQueryString("")
        if let role = q.role {
            sql = sql + " AND c.id IN (SELECT customer_id FROM customer_roles WHERE role = \(bind: role.rawValue))"
        }
        if let tag = q.tag {
            sql = sql + " AND c.id IN (SELECT customer_id FROM customer_tags WHERE tag = \(bind: Normalise.name(tag)))"
        }
        if let owner = q.ownerID { sql = sql + " AND c.owner_id = \(bind: owner.rawValue)" }
        if let kind = q.kind { sql = sql + " AND c.kind = \(bind: kind.rawValue)" }
        if let since = q.updatedSince { sql = sql + " AND c.updated_at >= \(bind: Instant.format(since))" }
        if !q.includeArchived { sql = sql + " AND c.archived_at IS NULL" }
        let analytics = analyticsConditions(q)
        if !analytics.isEmpty {
            switch form {
            case .list:
                sql = sql + " AND c.id IN (SELECT customer_id FROM customer_analytics WHERE " + analytics.joined(separator: " AND ") + ")"
            case .check:
                sql = sql + " AND EXISTS (SELECT 1 FROM customer_analytics a WHERE a.customer_id = c.id AND "
                    + analytics.joined(separator: " AND ") + ")"
            }
        }
        return sql
    }

    /// A page of the customers `q` selects after `afterID`, in id order, as the database
    /// returned the rows: an export reads only the columns it writes, without building each
    /// `Customer`, and formats the page on every core.
    func rows(_ q: Query, columns: String, afterID: Int64, limit: Int) async throws -> [Row] {
        try await database.read { db in
            try await db.raw("SELECT \(unsafeRaw: columns) FROM customers c WHERE c.id > \(bind: afterID)" + Self.filters(q)
                             + " ORDER BY c.id LIMIT \(bind: limit)").all().map(Row.init)
        }
    }

    /// What a search result shows: enough to pick the right 张伟 among several.
    public struct SearchHit: Sendable, Equatable {
        public var id: Customer.ID
        public var kind: Customer.Kind
        public var name: String
        public var email: String?
        public var phone: String?
        public var organisation: String?
    }

    /// Finds customers whose name, organisation, e-mail or phone contains `text`: Chinese by
    /// any substring of one or more characters, Latin case-insensitively. Exact and prefix
    /// matches of the name come first.
    /// `ownerID` and `tag` narrow the matches before the limit, so "my customers called Wang"
    /// are all found even when others' rank first.
    public func search(_ text: String, limit: Int = 20, ownerID: User.ID? = nil, tag: String? = nil) async throws -> [SearchHit] {
        let key = Normalise.searchKey(text)
        guard !key.isEmpty else { throw DomainError.invalid("/query/q", "must contain a letter, digit or character to search for") }
        guard key.count <= 100 else { throw DomainError.invalid("/query/q", "must be at most 100 characters") }
        guard !SearchGrams.queryGrams(key).isEmpty else {
            throw DomainError.invalid("/query/q", "must be at least two letters or digits, or one Chinese character")
        }
        let limit = min(max(limit, 1), 100)
        var narrowing = SQLQueryString("")
        if let ownerID { narrowing = narrowing + " AND owner_id = \(bind: ownerID.rawValue)" }
        if let tag = tag.map(Normalise.name), !tag.isEmpty {
            narrowing = narrowing + " AND id IN (SELECT customer_id FROM customer_tags WHERE tag = \(bind: tag))"
        }
        let conditions = narrowing
        return try await database.read { db in try await SearchIndex.search(db, key: key, limit: limit, narrowing: conditions) }
    }

    // MARK: - SQL

    static func rolesText(_ roles: [CustomerRole]) -> String { roles.map(\.rawValue).joined(separator: ",") }

    static func checkReferences(_ db: any SQLDatabase, _ input: CustomerInput, excluding id: Customer.ID? = nil) async throws {
        if let owner = input.ownerID,
           try await db.raw("SELECT id FROM users WHERE id = \(bind: owner.rawValue)").first() == nil {
            throw DomainError.invalid("/ownerID", "no user has id \(owner)")
        }
        if let ext = input.externalID,
           let row = try await db.raw("SELECT id FROM customers WHERE external_id = \(bind: ext)").first(),
           try row.decode(column: "id", as: Int64.self) != id?.rawValue {
            throw DomainError.invalid("/externalID", "is already used by customer \(try row.decode(column: "id", as: Int64.self))")
        }
    }

    /// Replaces the stored fields of customer `id` with `clean` and bumps its version
    /// (roles, tags and the search index are the caller's to refresh).
    static func overwrite(_ db: any SQLDatabase, _ id: Customer.ID, _ clean: CustomerInput, version: Int64, now: Date) async throws {
        let updated = try await db.raw("""
            UPDATE customers SET name = \(bind: clean.name), roles = \(bind: Self.rolesText(clean.roles)),
                email = \(bind: clean.email), phone = \(bind: clean.phone),
                gender = \(bind: clean.profile.gender?.rawValue), birthday = \(bind: clean.profile.birthday?.description),
                hobbies = \(bind: try JSONColumn.text(clean.profile.hobbies)), family_notes = \(bind: clean.profile.familyNotes),
                preferred_channel = \(bind: clean.profile.preferredChannel?.rawValue), time_zone = \(bind: clean.profile.timeZone),
                contact_windows = \(bind: try JSONColumn.text(clean.profile.contactWindows)),
                do_not_contact = \(bind: try JSONColumn.text(clean.profile.doNotContact)),
                personality_style = \(bind: clean.profile.personalityStyle?.rawValue),
                personality_evidence = \(bind: clean.profile.personalityEvidence), industry = \(bind: clean.profile.industry),
                tags = \(bind: try JSONColumn.text(clean.tags)), source = \(bind: clean.source), owner_id = \(bind: clean.ownerID?.rawValue),
                custom_fields = \(bind: try JSONColumn.text(clean.customFields)), external_id = \(bind: clean.externalID),
                updated_at = \(bind: Instant.format(now)), version = version + 1
            WHERE id = \(bind: id.rawValue) AND version = \(bind: version)
            RETURNING version
            """).first()
        // Changed by another writer since it was read: nothing may be written over that.
        if updated == nil { throw DomainError.staleVersion(entity: entity, id: "\(id)", current: version) }
    }

    static func insert(_ db: any SQLDatabase, _ c: CustomerInput, now: Date) async throws -> Customer.ID {
        let stamp = Instant.format(now)
        let row = try await db.raw("""
            INSERT INTO customers (kind, name, roles, email, phone, gender, birthday, hobbies, family_notes, preferred_channel,
                time_zone, contact_windows, do_not_contact, personality_style, personality_evidence, industry, tags, source,
                owner_id, custom_fields, external_id, search_text, archived_at, created_at, updated_at, version)
            VALUES (\(bind: c.kind.rawValue), \(bind: c.name), \(bind: rolesText(c.roles)), \(bind: c.email), \(bind: c.phone),
                \(bind: c.profile.gender?.rawValue), \(bind: c.profile.birthday?.description), \(bind: try JSONColumn.text(c.profile.hobbies)),
                \(bind: c.profile.familyNotes), \(bind: c.profile.preferredChannel?.rawValue), \(bind: c.profile.timeZone),
                \(bind: try JSONColumn.text(c.profile.contactWindows)), \(bind: try JSONColumn.text(c.profile.doNotContact)),
                \(bind: c.profile.personalityStyle?.rawValue), \(bind: c.profile.personalityEvidence), \(bind: c.profile.industry),
                \(bind: try JSONColumn.text(c.tags)), \(bind: c.source), \(bind: c.ownerID?.rawValue),
                \(bind: try JSONColumn.text(c.customFields)), \(bind: c.externalID), '', NULL, \(bind: stamp), \(bind: stamp), 1)
            RETURNING id
            """).first()
        guard let row else { throw StoreError.corrupt("insert returned no id") }
        let id = Customer.ID(try row.decode(column: "id", as: Int64.self))
        try await replaceRolesAndTags(db, id, c, fresh: true)
        try await SearchIndex.reindex(db, id, fresh: true)
        return id
    }

    static func replaceRolesAndTags(_ db: any SQLDatabase, _ id: Customer.ID, _ c: CustomerInput, fresh: Bool = false) async throws {
        if !fresh {
            try await db.raw("DELETE FROM customer_roles WHERE customer_id = \(bind: id.rawValue)").run()
            try await db.raw("DELETE FROM customer_tags WHERE customer_id = \(bind: id.rawValue)").run()
        }
        try await insertPairs(db, table: "customer_roles", column: "role", id: id, values: c.roles.map(\.rawValue))
        try await insertPairs(db, table: "customer_tags", column: "tag", id: id, values: c.tags)
    }

    static func insertPairs(_ db: any SQLDatabase, table: String, column: String, id: Customer.ID, values: [String]) async throws {
        guard !values.isEmpty else { return }
        var sql = SQLQueryString("INSERT INTO \(unsafeRaw: table) (customer_id, \(unsafeRaw: column)) VALUES ")
        for (i, v) in values.enumerated() {
            sql = sql + (i == 0 ? "" : ", ") + "(\(bind: id.rawValue), \(bind: v))"
        }
        try await db.raw(sql).run()
    }

    static func fetch(_ db: any SQLDatabase, _ id: Customer.ID) async throws -> Customer? {
        try await db.rows("SELECT * FROM customers WHERE id = \(bind: id.rawValue)", decode).first
    }

    static func decode(_ r: Row) throws -> Customer {
        let roles = try r.string("roles").split(separator: ",").map { raw in
            guard let role = CustomerRole(rawValue: String(raw)) else { throw StoreError.corrupt("unknown role \(raw)") }
            return role
        }
        let profile = CustomerProfile(
            gender: try r.optionalEnum("gender"), birthday: try r.optionalDate("birthday"), hobbies: try r.json("hobbies"),
            familyNotes: try r.optionalString("family_notes"), preferredChannel: try r.optionalEnum("preferred_channel"),
            timeZone: try r.string("time_zone"), contactWindows: try r.json("contact_windows"),
            doNotContact: try r.json("do_not_contact"), personalityStyle: try r.optionalEnum("personality_style"),
            personalityEvidence: try r.optionalString("personality_evidence"), industry: try r.optionalString("industry"))
        return Customer(
            id: try r.id("id"), kind: try r.enumValue("kind"), name: try r.string("name"), roles: roles,
            email: try r.optionalString("email"), phone: try r.optionalString("phone"), profile: profile,
            tags: try r.json("tags"), source: try r.optionalString("source"), ownerID: try r.optionalID("owner_id"),
            customFields: try r.json("custom_fields"), externalID: try r.optionalString("external_id"),
            archivedAt: try r.optionalInstant("archived_at"), createdAt: try r.instant("created_at"),
            updatedAt: try r.instant("updated_at"), version: try r.int64("version"))
    }
}
