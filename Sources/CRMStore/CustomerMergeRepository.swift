import CRMCore
import Foundation
import SQLKit

/// Merges two customer records into one, and undoes a merge exactly. Everything attached
/// to the merged record (orders, interactions, tasks, consents, contact links) moves to the
/// survivor; the ids of what moved are kept with the merge, so an undo moves back exactly
/// those and nothing added since.
public struct CustomerMergeRepository: Sendable {
    let database: any StoreDatabase
    let defaultCountryCode: String

    public init(database: any StoreDatabase, defaultCountryCode: String = "86") {
        self.database = database
        self.defaultCountryCode = defaultCountryCode
    }

    static let entity = "customer"

    /// The ids that moved, per table (contacts by the side they were linked on).
    struct Moved: Codable, Sendable {
        var orders: [Int64] = []
        var interactions: [Int64] = []
        var tasks: [Int64] = []
        var consents: [Int64] = []
        var contactsAsPerson: [Int64] = []
        var contactsAsOrganisation: [Int64] = []

        var counts: [String: Int] {
            ["orders": orders.count, "interactions": interactions.count, "tasks": tasks.count, "consents": consents.count,
             "contacts": contactsAsPerson.count + contactsAsOrganisation.count]
        }
    }

    /// Tables whose rows belong to one customer by `customer_id` (computed: key paths are not Sendable).
    static var movable: [(table: String, path: WritableKeyPath<Moved, [Int64]>)] {
        [("orders", \.orders), ("interactions", \.interactions), ("tasks", \.tasks), ("consents", \.consents)]
    }

    public func merge(survivor survivorID: Customer.ID, merged mergedID: Customer.ID, choices: [String: CustomerMerge.Side],
                      by actor: Actor, now: Date = Date()) async throws -> (CustomerMerge, Customer) {
        let countryCode = defaultCountryCode
        let dialect = database.dialect
        return try await database.write { db in
            // Both customers locked before anything else (see `lockCustomers`).
            _ = try await OrderRepository.lockCustomers(db, [survivorID, mergedID], dialect: dialect)
            guard let survivor = try await CustomerRepository.fetch(db, survivorID) else {
                throw DomainError.notFound(entity: Self.entity, id: "\(survivorID)")
            }
            guard let merged = try await CustomerRepository.fetch(db, mergedID) else {
                throw DomainError.invalid("/mergedID", "no customer has id \(mergedID)")
            }
            try AccessPolicy.require(actor, .editCustomer(ownerID: survivor.ownerID))
            try AccessPolicy.require(actor, .editCustomer(ownerID: merged.ownerID))
            let clean = try CustomerMerge.combine(survivor: survivor, merged: merged, choices: choices)
                .normalised(customFieldDefinitions: try await CustomFieldRepository.definitions(db), defaultCountryCode: countryCode)
            let stamp = Instant.format(now)

            var moved = Moved()
            for (table, path) in Self.movable {
                // One statement, so what moved is exactly what is recorded (a row added meanwhile included).
                moved[keyPath: path] = try await db.rows("""
                    UPDATE \(unsafeRaw: table) SET customer_id = \(bind: survivorID.rawValue) WHERE customer_id = \(bind: mergedID.rawValue) RETURNING id
                    """) { try $0.int64("id") }.sorted()
            }
            // A link the survivor already has (the same organisation, the same person) stays with the merged record.
            moved.contactsAsPerson = try await Self.moveContacts(db, side: "person_id", other: "organisation_id", from: mergedID, to: survivorID)
            moved.contactsAsOrganisation = try await Self.moveContacts(db, side: "organisation_id", other: "person_id", from: mergedID, to: survivorID)

            // The merged record gives up its external id (unique), is archived and points to the survivor.
            try await db.raw("""
                UPDATE customers SET external_id = NULL, archived_at = \(bind: stamp), merged_into = \(bind: survivorID.rawValue),
                    updated_at = \(bind: stamp), version = version + 1
                WHERE id = \(bind: mergedID.rawValue)
                """).run()
            try await CustomerRepository.overwrite(db, survivorID, clean, version: survivor.version, now: now)
            try await CustomerRepository.replaceRolesAndTags(db, survivorID, clean)
            try await Self.afterMove(db, survivorID, mergedID, moved)

            let after = try await CustomerRepository.fetch(db, survivorID)!
            let mergedAfter = try await CustomerRepository.fetch(db, mergedID)!
            guard let row = try await db.raw("""
                INSERT INTO customer_merges (survivor_id, merged_id, merged_at, merged_by, survivor_before, merged_before, survivor_version, moved)
                VALUES (\(bind: survivorID.rawValue), \(bind: mergedID.rawValue), \(bind: stamp), \(bind: actor.userID.rawValue),
                        \(bind: try JSONColumn.text(survivor)), \(bind: try JSONColumn.text(merged)), \(bind: after.version),
                        \(bind: try JSONColumn.text(moved)))
                RETURNING id
                """).first() else { throw StoreError.corrupt("insert returned no id") }
            let mergeID = CustomerMerge.ID(try row.decode(column: "id", as: Int64.self))
            let note = FieldChange(field: "merge", before: nil, after: "#\(mergeID): \(mergedID) into \(survivorID)")
            try await AuditLog.append(db, actor: actor, action: .merge, entity: Self.entity, entityID: "\(survivorID)",
                                      changes: [note] + FieldChange.diff(survivor, after), at: now)
            try await AuditLog.append(db, actor: actor, action: .merge, entity: Self.entity, entityID: "\(mergedID)",
                                      changes: [note] + FieldChange.diff(merged, mergedAfter), at: now)
            return (CustomerMerge(id: mergeID, survivorID: survivorID, mergedID: mergedID, mergedAt: Instant.parse(stamp) ?? now,
                                  mergedBy: actor.userID, moved: moved.counts, undoneAt: nil), after)
        }
    }

    /// Puts both records back as they were before the merge, and every moved record back
    /// on the merged one. Refused if the survivor has changed since: an undo would silently
    /// throw those changes away.
    public func undo(_ id: CustomerMerge.ID, by actor: Actor, now: Date = Date()) async throws -> (survivor: Customer, restored: Customer) {
        let dialect = database.dialect
        return try await database.write { db in
            guard let row = try await db.rows("SELECT * FROM customer_merges WHERE id = \(bind: id.rawValue)", { $0 }).first else {
                throw DomainError.notFound(entity: "merge", id: "\(id)")
            }
            if try row.optionalString("undone_at") != nil { throw DomainError.conflict("merge \(id) has already been undone") }
            let survivorBefore: Customer = try row.json("survivor_before")
            let mergedBefore: Customer = try row.json("merged_before")
            let moved: Moved = try row.json("moved")
            let mergedVersion = try row.int64("survivor_version")
            _ = try await OrderRepository.lockCustomers(db, [survivorBefore.id, mergedBefore.id], dialect: dialect)
            guard let survivor = try await CustomerRepository.fetch(db, survivorBefore.id),
                  let merged = try await CustomerRepository.fetch(db, mergedBefore.id) else {
                throw StoreError.corrupt("merge \(id) names a customer that does not exist")
            }
            try AccessPolicy.require(actor, .editCustomer(ownerID: survivor.ownerID))
            try AccessPolicy.require(actor, .editCustomer(ownerID: mergedBefore.ownerID))
            guard survivor.version == mergedVersion else {
                throw DomainError.conflict("customer \(survivor.id) has changed since merge \(id) (version \(mergedVersion), now \(survivor.version)); "
                                           + "undoing it would discard those changes")
            }
            let stamp = Instant.format(now)
            for (table, path) in Self.movable {
                try await Self.moveBack(db, table: table, column: "customer_id", ids: moved[keyPath: path], to: merged.id, from: survivor.id)
            }
            try await Self.moveBack(db, table: "contacts", column: "person_id", ids: moved.contactsAsPerson, to: merged.id, from: survivor.id)
            try await Self.moveBack(db, table: "contacts", column: "organisation_id", ids: moved.contactsAsOrganisation, to: merged.id, from: survivor.id)

            // The survivor first: it may hold the external id the merged record gets back.
            try await CustomerRepository.overwrite(db, survivor.id, CustomerInput(survivorBefore), version: survivor.version, now: now)
            try await CustomerRepository.replaceRolesAndTags(db, survivor.id, CustomerInput(survivorBefore))
            try await CustomerRepository.overwrite(db, merged.id, CustomerInput(mergedBefore), version: merged.version, now: now)
            try await CustomerRepository.replaceRolesAndTags(db, merged.id, CustomerInput(mergedBefore))
            try await db.raw("""
                UPDATE customers SET archived_at = \(bind: mergedBefore.archivedAt.map(Instant.format)), merged_into = NULL
                WHERE id = \(bind: merged.id.rawValue)
                """).run()
            try await Self.afterMove(db, survivor.id, merged.id, moved)
            try await db.raw("UPDATE customer_merges SET undone_at = \(bind: stamp), undone_by = \(bind: actor.userID.rawValue) WHERE id = \(bind: id.rawValue)").run()

            let survivorAfter = try await CustomerRepository.fetch(db, survivor.id)!
            let restored = try await CustomerRepository.fetch(db, merged.id)!
            let note = FieldChange(field: "merge", before: "#\(id): \(merged.id) into \(survivor.id)", after: "undone")
            try await AuditLog.append(db, actor: actor, action: .update, entity: Self.entity, entityID: "\(survivor.id)",
                                      changes: [note] + FieldChange.diff(survivor, survivorAfter), at: now)
            try await AuditLog.append(db, actor: actor, action: .update, entity: Self.entity, entityID: "\(merged.id)",
                                      changes: [note] + FieldChange.diff(merged, restored), at: now)
            return (survivorAfter, restored)
        }
    }

    /// Merges of a customer, as survivor or as the merged record, newest first.
    public func merges(of customer: Customer.ID) async throws -> [CustomerMerge] {
        try await database.read { db in
            try await db.rows("""
                SELECT * FROM customer_merges WHERE survivor_id = \(bind: customer.rawValue) OR merged_id = \(bind: customer.rawValue)
                ORDER BY id DESC
                """) { r in
                let moved: Moved = try r.json("moved")
                return CustomerMerge(id: try r.id("id"), survivorID: try r.id("survivor_id"), mergedID: try r.id("merged_id"),
                                     mergedAt: try r.instant("merged_at"), mergedBy: try r.optionalID("merged_by"), moved: moved.counts,
                                     undoneAt: try r.optionalInstant("undone_at"))
            }
        }
    }

    static func moveContacts(_ db: any SQLDatabase, side: String, other: String, from: Customer.ID, to: Customer.ID) async throws -> [Int64] {
        try await db.rows("""
            UPDATE contacts SET \(unsafeRaw: side) = \(bind: to.rawValue)
            WHERE \(unsafeRaw: side) = \(bind: from.rawValue)
              AND \(unsafeRaw: other) <> \(bind: to.rawValue)
              AND \(unsafeRaw: other) NOT IN (SELECT \(unsafeRaw: other) FROM contacts WHERE \(unsafeRaw: side) = \(bind: to.rawValue))
            RETURNING id
            """) { try $0.int64("id") }.sorted()
    }

    static func moveBack(_ db: any SQLDatabase, table: String, column: String, ids: [Int64], to: Customer.ID, from: Customer.ID) async throws {
        for start in stride(from: 0, to: ids.count, by: 500) {
            let chunk = ids[start..<min(start + 500, ids.count)].map(Customer.ID.init)
            try await db.raw("UPDATE \(unsafeRaw: table) SET \(unsafeRaw: column) = \(bind: to.rawValue) "
                             + PurchaseSummaries.customerFilter("id", chunk) + " AND \(unsafeRaw: column) = \(bind: from.rawValue)").run()
        }
    }

    /// Summaries, analysis and search after records moved between the two.
    static func afterMove(_ db: any SQLDatabase, _ a: Customer.ID, _ b: Customer.ID, _ moved: Moved) async throws {
        try await PurchaseSummaries.recompute(db, a)
        try await PurchaseSummaries.recompute(db, b)
        // Derived results of both are stale until the next analytics run; better none than wrong.
        try await db.raw("DELETE FROM customer_analytics WHERE customer_id IN (\(bind: a.rawValue), \(bind: b.rawValue))").run()
        try await SearchIndex.reindex(db, a)
        try await SearchIndex.reindex(db, b)
        // Persons are found by their organisation's name: those whose link moved.
        if !moved.contactsAsOrganisation.isEmpty {
            let persons = try await db.rows("SELECT person_id FROM contacts " + whereIn("id", moved.contactsAsOrganisation)) {
                try $0.int64("person_id")
            }
            for p in persons { try await SearchIndex.reindex(db, Customer.ID(p)) }
        }
    }
}
