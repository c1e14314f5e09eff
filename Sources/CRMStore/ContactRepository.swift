import CRMCore
import Foundation
import SQLKit

/// What a client sends to link a person to an organisation.
public struct ContactInput: Sendable, Equatable {
    public var organisationID: Customer.ID
    public var personID: Customer.ID
    public var jobTitle: String?
    public var buyingRole: BuyingRole?
    public var influence: Int

    public init(organisationID: Customer.ID, personID: Customer.ID, jobTitle: String? = nil, buyingRole: BuyingRole? = nil, influence: Int = 50) {
        self.organisationID = organisationID; self.personID = personID; self.jobTitle = jobTitle
        self.buyingRole = buyingRole; self.influence = influence
    }
}

/// A contact with the name of the party at its other end, for lists and the 360 view.
public struct ContactLink: Sendable, Equatable {
    public var contact: Contact
    public var personName: String
    public var organisationName: String
}

/// Persons linked to organisations as contacts, with their part in buying decisions.
public struct ContactRepository: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    static let entity = "contact"

    public func create(_ input: ContactInput, by actor: Actor, now: Date = Date()) async throws -> Contact {
        try await database.write { db in
            let owner = try await Self.checkParties(db, input)
            try AccessPolicy.require(actor, .writeRecord(.contact, customerOwnerID: owner))
            if try await db.raw("SELECT id FROM contacts WHERE organisation_id = \(bind: input.organisationID.rawValue) AND person_id = \(bind: input.personID.rawValue)").first() != nil {
                throw DomainError.invalid("/personID", "is already a contact of this organisation")
            }
            let stamp = Instant.format(now)
            guard let row = try await db.raw("""
                INSERT INTO contacts (organisation_id, person_id, job_title, buying_role, influence, created_at, updated_at, version)
                VALUES (\(bind: input.organisationID.rawValue), \(bind: input.personID.rawValue), \(bind: input.jobTitle.map(Normalise.name)),
                        \(bind: input.buyingRole?.rawValue), \(bind: Int64(input.influence)), \(bind: stamp), \(bind: stamp), 1)
                RETURNING id
                """).first() else { throw StoreError.corrupt("insert returned no id") }
            let contact = try await Self.fetch(db, Contact.ID(try row.decode(column: "id", as: Int64.self)))!
            try await SearchIndex.reindex(db, input.personID)
            try await AuditLog.append(db, actor: actor, action: .create, entity: Self.entity, entityID: "\(contact.id)",
                                      changes: FieldChange.diff(nil as Contact?, contact), at: now)
            return contact
        }
    }

    public func update(_ id: Contact.ID, with input: ContactInput, ifVersion version: Int64, by actor: Actor, now: Date = Date()) async throws -> Contact {
        try await database.write { db in
            guard let current = try await Self.fetch(db, id) else { throw DomainError.notFound(entity: Self.entity, id: "\(id)") }
            guard input.organisationID == current.organisationID, input.personID == current.personID else {
                throw DomainError.invalid("/personID", "a contact's organisation and person are fixed; create a new contact instead")
            }
            let owner = try await Self.checkParties(db, input)
            try AccessPolicy.require(actor, .writeRecord(.contact, customerOwnerID: owner))
            guard current.version == version else { throw DomainError.staleVersion(entity: Self.entity, id: "\(id)", current: current.version) }
            try await db.raw("""
                UPDATE contacts SET job_title = \(bind: input.jobTitle.map(Normalise.name)), buying_role = \(bind: input.buyingRole?.rawValue),
                    influence = \(bind: Int64(input.influence)), updated_at = \(bind: Instant.format(now)), version = version + 1
                WHERE id = \(bind: id.rawValue)
                """).run()
            let updated = try await Self.fetch(db, id)!
            try await AuditLog.append(db, actor: actor, action: .update, entity: Self.entity, entityID: "\(id)",
                                      changes: FieldChange.diff(current, updated), at: now)
            return updated
        }
    }

    public func get(_ id: Contact.ID) async throws -> Contact {
        guard let c = try await database.read({ db in try await Self.fetch(db, id) }) else {
            throw DomainError.notFound(entity: Self.entity, id: "\(id)")
        }
        return c
    }

    /// An organisation's contacts, or the organisations a person is a contact of.
    public func links(of customer: Customer.ID) async throws -> [ContactLink] {
        try await database.read { db in try await Self.links(db, customer) }
    }

    static func links(_ db: any SQLDatabase, _ customer: Customer.ID) async throws -> [ContactLink] {
        try await db.rows("""
            SELECT k.*, p.name AS person_name, o.name AS organisation_name FROM contacts k
            JOIN customers p ON p.id = k.person_id JOIN customers o ON o.id = k.organisation_id
            WHERE k.organisation_id = \(bind: customer.rawValue) OR k.person_id = \(bind: customer.rawValue)
            ORDER BY k.influence DESC, k.id
            """) { r in
            ContactLink(contact: try decode(r), personName: try r.string("person_name"), organisationName: try r.string("organisation_name"))
        }
    }

    /// Validates the link and returns the owner of the organisation (whose record it is).
    static func checkParties(_ db: any SQLDatabase, _ input: ContactInput) async throws -> User.ID? {
        var v = Validator()
        v.require((0...100).contains(input.influence), "/influence", "must be between 0 and 100")
        if let t = input.jobTitle { v.require(t.count <= 200, "/jobTitle", "must be at most 200 characters") }
        let org = try await db.raw("SELECT kind, owner_id FROM customers WHERE id = \(bind: input.organisationID.rawValue)").first().map(Row.init)
        let person = try await db.raw("SELECT kind FROM customers WHERE id = \(bind: input.personID.rawValue)").first().map(Row.init)
        if let org { v.require(try org.string("kind") == "organisation", "/organisationID", "is not an organisation") }
        else { v.add("/organisationID", "no customer has id \(input.organisationID)") }
        if let person { v.require(try person.string("kind") == "person", "/personID", "is not a person") }
        else { v.add("/personID", "no customer has id \(input.personID)") }
        try v.check()
        return try org?.optionalID("owner_id")
    }

    static func fetch(_ db: any SQLDatabase, _ id: Contact.ID) async throws -> Contact? {
        try await db.rows("SELECT * FROM contacts WHERE id = \(bind: id.rawValue)", decode).first
    }

    static func decode(_ r: Row) throws -> Contact {
        Contact(id: try r.id("id"), organisationID: try r.id("organisation_id"), personID: try r.id("person_id"),
                jobTitle: try r.optionalString("job_title"), buyingRole: try r.optionalEnum("buying_role"),
                influence: Int(try r.int64("influence")), createdAt: try r.instant("created_at"), version: try r.int64("version"))
    }
}
