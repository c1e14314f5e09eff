import CRMCore
import Foundation
import SQLKit

public struct InteractionInput: Sendable, Equatable {
    public var customerID: Customer.ID
    public var kind: Interaction.Kind
    public var direction: Interaction.Direction
    public var subject: String?
    public var notes: String?
    public var outcome: String?
    public var occurredAt: Date?

    public init(customerID: Customer.ID, kind: Interaction.Kind, direction: Interaction.Direction = .outbound, subject: String? = nil,
                notes: String? = nil, outcome: String? = nil, occurredAt: Date? = nil) {
        self.customerID = customerID; self.kind = kind; self.direction = direction; self.subject = subject
        self.notes = notes; self.outcome = outcome; self.occurredAt = occurredAt
    }
}

/// The contact history every department shares (跟进记录). Interactions are facts about
/// the past: recorded once, by the person who had them.
public struct InteractionRepository: Sendable {
    let database: any StoreDatabase
    public init(database: any StoreDatabase) { self.database = database }
    static let entity = "interaction"

    public func create(_ input: InteractionInput, by actor: Actor, now: Date = Date()) async throws -> Interaction {
        var v = Validator()
        if let s = input.subject { v.require(s.count <= 300, "/subject", "must be at most 300 characters") }
        if let n = input.notes { v.require(n.count <= 20_000, "/notes", "must be at most 20,000 characters") }
        if let o = input.occurredAt { v.require(o <= now.addingTimeInterval(86_400), "/occurredAt", "is more than a day in the future") }
        try v.check()
        return try await database.write { db in
            let owner = try await CustomerOwner.of(db, input.customerID)
            try AccessPolicy.require(actor, .writeRecord(.interaction, customerOwnerID: owner))
            guard let row = try await db.raw("""
                INSERT INTO interactions (customer_id, kind, direction, subject, notes, outcome, user_id, occurred_at, created_at)
                VALUES (\(bind: input.customerID.rawValue), \(bind: input.kind.rawValue), \(bind: input.direction.rawValue),
                        \(bind: input.subject), \(bind: input.notes), \(bind: input.outcome), \(bind: actor.userID.rawValue),
                        \(bind: Instant.format(input.occurredAt ?? now)), \(bind: Instant.format(now)))
                RETURNING id
                """).first() else { throw StoreError.corrupt("insert returned no id") }
            let item = try await db.rows("SELECT * FROM interactions WHERE id = \(bind: try row.decode(column: "id", as: Int64.self))", Self.decode)[0]
            try await AuditLog.append(db, actor: actor, action: .create, entity: Self.entity, entityID: "\(item.id)",
                                      changes: FieldChange.diff(nil as Interaction?, item), at: now)
            return item
        }
    }

    public func get(_ id: Interaction.ID) async throws -> Interaction {
        guard let item = try await database.read({ db in
            try await db.rows("SELECT * FROM interactions WHERE id = \(bind: id.rawValue)", Self.decode).first
        }) else { throw DomainError.notFound(entity: Self.entity, id: "\(id)") }
        return item
    }

    public struct Query: Sendable {
        public var customerID: Customer.ID?
        public var userID: User.ID?
        public var kind: Interaction.Kind?
        public var since: Date?
        public var cursor: String?
        public var limit: Int
        public init(customerID: Customer.ID? = nil, userID: User.ID? = nil, kind: Interaction.Kind? = nil, since: Date? = nil, cursor: String? = nil, limit: Int = 50) {
            self.customerID = customerID; self.userID = userID; self.kind = kind; self.since = since; self.cursor = cursor; self.limit = limit
        }
    }

    /// Newest first.
    public func list(_ q: Query) async throws -> Page<Interaction> {
        let limit = min(max(q.limit, 1), 500)
        let cursor = try q.cursor.map { text throws(DomainError) in try Cursor(decoding: text) }
        return try await database.read { db in
            var sql = SQLQueryString("SELECT * FROM interactions WHERE 1=1")
            if let c = q.customerID { sql = sql + " AND customer_id = \(bind: c.rawValue)" }
            if let u = q.userID { sql = sql + " AND user_id = \(bind: u.rawValue)" }
            if let k = q.kind { sql = sql + " AND kind = \(bind: k.rawValue)" }
            if let s = q.since { sql = sql + " AND occurred_at >= \(bind: Instant.format(s))" }
            if let cursor { sql = sql + " AND (occurred_at, id) < (\(bind: cursor.value ?? ""), \(bind: cursor.id))" }
            sql = sql + " ORDER BY occurred_at DESC, id DESC LIMIT \(bind: limit + 1)"
            let rows = try await db.rows(sql, Self.decode)
            let items = Array(rows.prefix(limit))
            let next = rows.count > limit ? items.last.map { Cursor(value: Instant.format($0.occurredAt), id: $0.id.rawValue).encoded } : nil
            return Page(items: items, nextCursor: next)
        }
    }

    static func decode(_ r: Row) throws -> Interaction {
        Interaction(id: try r.id("id"), customerID: try r.id("customer_id"), kind: try r.enumValue("kind"),
                    direction: try r.enumValue("direction"), subject: try r.optionalString("subject"), notes: try r.optionalString("notes"),
                    outcome: try r.optionalString("outcome"), userID: try r.optionalID("user_id"),
                    occurredAt: try r.instant("occurred_at"), createdAt: try r.instant("created_at"))
    }
}

enum CustomerOwner {
    static func of(_ db: any SQLDatabase, _ id: Customer.ID, pointer: String = "/customerID") async throws -> User.ID? {
        guard let row = try await db.raw("SELECT owner_id FROM customers WHERE id = \(bind: id.rawValue)").first() else {
            throw DomainError.invalid(pointer, "no customer has id \(id)")
        }
        return try Row(row).optionalID("owner_id")
    }
}

public struct TaskInput: Sendable, Equatable {
    public var customerID: Customer.ID?
    public var title: String
    public var notes: String?
    public var dueDate: CalendarDate
    public var assigneeID: User.ID?
    public var status: FollowUpTask.Status

    public init(customerID: Customer.ID?, title: String, notes: String? = nil, dueDate: CalendarDate, assigneeID: User.ID? = nil, status: FollowUpTask.Status = .open) {
        self.customerID = customerID; self.title = title; self.notes = notes; self.dueDate = dueDate
        self.assigneeID = assigneeID; self.status = status
    }
}

/// Follow-ups (下次跟进): what someone must do, for which customer, by when.
public struct TaskRepository: Sendable {
    let database: any StoreDatabase
    public init(database: any StoreDatabase) { self.database = database }
    static let entity = "task"

    public func create(_ input: TaskInput, by actor: Actor, now: Date = Date()) async throws -> FollowUpTask {
        let input = try Self.validated(input)
        return try await database.write { db in
            let owner = try await input.customerID.asyncMap { try await CustomerOwner.of(db, $0) } ?? nil
            try AccessPolicy.require(actor, .writeRecord(.task, customerOwnerID: input.customerID == nil ? actor.userID : owner))
            try await Self.checkAssignee(db, input.assigneeID)
            let stamp = Instant.format(now)
            guard let row = try await db.raw("""
                INSERT INTO tasks (customer_id, title, notes, due_date, assignee_id, status, created_at, updated_at, version)
                VALUES (\(bind: input.customerID?.rawValue), \(bind: input.title), \(bind: input.notes), \(bind: input.dueDate.description),
                        \(bind: (input.assigneeID ?? actor.userID).rawValue), \(bind: input.status.rawValue), \(bind: stamp), \(bind: stamp), 1)
                RETURNING id
                """).first() else { throw StoreError.corrupt("insert returned no id") }
            let task = try await Self.fetch(db, FollowUpTask.ID(try row.decode(column: "id", as: Int64.self)))!
            try await AuditLog.append(db, actor: actor, action: .create, entity: Self.entity, entityID: "\(task.id)",
                                      changes: FieldChange.diff(nil as FollowUpTask?, task), at: now)
            return task
        }
    }

    public func update(_ id: FollowUpTask.ID, with input: TaskInput, ifVersion version: Int64, by actor: Actor, now: Date = Date()) async throws -> FollowUpTask {
        let input = try Self.validated(input)
        return try await database.write { db in
            guard let current = try await Self.fetch(db, id) else { throw DomainError.notFound(entity: Self.entity, id: "\(id)") }
            // The assignee may always update their own task (mark it done); others need the customer's write permission.
            if current.assigneeID != actor.userID || actor.tokenScope == .read {
                let owner = try await current.customerID.asyncMap { try await CustomerOwner.of(db, $0) } ?? nil
                try AccessPolicy.require(actor, .writeRecord(.task, customerOwnerID: current.customerID == nil ? actor.userID : owner))
            }
            guard current.version == version else { throw DomainError.staleVersion(entity: Self.entity, id: "\(id)", current: current.version) }
            if let c = input.customerID, c != current.customerID { _ = try await CustomerOwner.of(db, c) }
            try await Self.checkAssignee(db, input.assigneeID)
            try await db.raw("""
                UPDATE tasks SET customer_id = \(bind: input.customerID?.rawValue), title = \(bind: input.title), notes = \(bind: input.notes),
                    due_date = \(bind: input.dueDate.description), assignee_id = \(bind: (input.assigneeID ?? current.assigneeID)?.rawValue),
                    status = \(bind: input.status.rawValue), updated_at = \(bind: Instant.format(now)), version = version + 1
                WHERE id = \(bind: id.rawValue)
                """).run()
            let updated = try await Self.fetch(db, id)!
            try await AuditLog.append(db, actor: actor, action: .update, entity: Self.entity, entityID: "\(id)",
                                      changes: FieldChange.diff(current, updated), at: now)
            return updated
        }
    }

    public func get(_ id: FollowUpTask.ID) async throws -> FollowUpTask {
        guard let t = try await database.read({ db in try await Self.fetch(db, id) }) else {
            throw DomainError.notFound(entity: Self.entity, id: "\(id)")
        }
        return t
    }

    public struct Query: Sendable {
        public var assigneeID: User.ID?
        public var status: FollowUpTask.Status?
        public var customerID: Customer.ID?
        public var dueBefore: CalendarDate?
        public var cursor: String?
        public var limit: Int
        public init(assigneeID: User.ID? = nil, status: FollowUpTask.Status? = nil, customerID: Customer.ID? = nil, dueBefore: CalendarDate? = nil, cursor: String? = nil, limit: Int = 50) {
            self.assigneeID = assigneeID; self.status = status; self.customerID = customerID; self.dueBefore = dueBefore; self.cursor = cursor; self.limit = limit
        }
    }

    /// Soonest due first.
    public func list(_ q: Query) async throws -> Page<FollowUpTask> {
        let limit = min(max(q.limit, 1), 500)
        let cursor = try q.cursor.map { text throws(DomainError) in try Cursor(decoding: text) }
        return try await database.read { db in
            var sql = SQLQueryString("SELECT * FROM tasks WHERE 1=1")
            if let a = q.assigneeID { sql = sql + " AND assignee_id = \(bind: a.rawValue)" }
            if let s = q.status { sql = sql + " AND status = \(bind: s.rawValue)" }
            if let c = q.customerID { sql = sql + " AND customer_id = \(bind: c.rawValue)" }
            if let d = q.dueBefore { sql = sql + " AND due_date <= \(bind: d.description)" }
            if let cursor { sql = sql + " AND (due_date, id) > (\(bind: cursor.value ?? ""), \(bind: cursor.id))" }
            sql = sql + " ORDER BY due_date, id LIMIT \(bind: limit + 1)"
            let rows = try await db.rows(sql, Self.decode)
            let items = Array(rows.prefix(limit))
            let next = rows.count > limit ? items.last.map { Cursor(value: $0.dueDate.description, id: $0.id.rawValue).encoded } : nil
            return Page(items: items, nextCursor: next)
        }
    }

    static func validated(_ input: TaskInput) throws(DomainError) -> TaskInput {
        var out = input
        out.title = Normalise.name(input.title)
        var v = Validator()
        v.require(!out.title.isEmpty, "/title", "must not be empty")
        v.require(out.title.count <= 300, "/title", "must be at most 300 characters")
        try v.check()
        return out
    }

    static func checkAssignee(_ db: any SQLDatabase, _ id: User.ID?) async throws {
        if let id, try await db.raw("SELECT id FROM users WHERE id = \(bind: id.rawValue)").first() == nil {
            throw DomainError.invalid("/assigneeID", "no user has id \(id)")
        }
    }

    static func fetch(_ db: any SQLDatabase, _ id: FollowUpTask.ID) async throws -> FollowUpTask? {
        try await db.rows("SELECT * FROM tasks WHERE id = \(bind: id.rawValue)", decode).first
    }

    static func decode(_ r: Row) throws -> FollowUpTask {
        FollowUpTask(id: try r.id("id"), customerID: try r.optionalID("customer_id"), title: try r.string("title"),
                     notes: try r.optionalString("notes"), dueDate: try r.date("due_date"), assigneeID: try r.optionalID("assignee_id"),
                     status: try r.enumValue("status"), createdAt: try r.instant("created_at"), updatedAt: try r.instant("updated_at"),
                     version: try r.int64("version"))
    }
}

public struct ConsentInput: Sendable, Equatable {
    public var customerID: Customer.ID
    public var channel: ContactChannel
    public var status: Consent.Status
    public var method: String
    public var note: String?

    public init(customerID: Customer.ID, channel: ContactChannel, status: Consent.Status, method: String, note: String? = nil) {
        self.customerID = customerID; self.channel = channel; self.status = status; self.method = method; self.note = note
    }
}

/// Consent per channel, append-only: a change is a new record that supersedes the last.
public struct ConsentRepository: Sendable {
    let database: any StoreDatabase
    public init(database: any StoreDatabase) { self.database = database }
    static let entity = "consent"

    public func record(_ input: ConsentInput, by actor: Actor, now: Date = Date()) async throws -> Consent {
        var v = Validator()
        let method = Normalise.name(input.method)
        v.require(!method.isEmpty, "/method", "must say how the consent was obtained (web form, signed paper, recorded call …)")
        try v.check()
        return try await database.write { db in
            let owner = try await CustomerOwner.of(db, input.customerID)
            try AccessPolicy.require(actor, .writeRecord(.consent, customerOwnerID: owner))
            let previous = try await db.raw("""
                SELECT id FROM consents WHERE customer_id = \(bind: input.customerID.rawValue) AND channel = \(bind: input.channel.rawValue)
                ORDER BY id DESC LIMIT 1
                """).first().map { try $0.decode(column: "id", as: Int64.self) }
            guard let row = try await db.raw("""
                INSERT INTO consents (customer_id, channel, status, method, note, recorded_at, recorded_by, supersedes)
                VALUES (\(bind: input.customerID.rawValue), \(bind: input.channel.rawValue), \(bind: input.status.rawValue), \(bind: method),
                        \(bind: input.note), \(bind: Instant.format(now)), \(bind: actor.userID.rawValue), \(bind: previous))
                RETURNING id
                """).first() else { throw StoreError.corrupt("insert returned no id") }
            let consent = try await db.rows("SELECT * FROM consents WHERE id = \(bind: try row.decode(column: "id", as: Int64.self))", Self.decode)[0]
            try await AuditLog.append(db, actor: actor, action: .create, entity: Self.entity, entityID: "\(consent.id)",
                                      changes: FieldChange.diff(nil as Consent?, consent), at: now)
            return consent
        }
    }

    /// Every record, oldest first: the provable history.
    public func history(of customer: Customer.ID) async throws -> [Consent] {
        try await database.read { db in
            try await db.rows("SELECT * FROM consents WHERE customer_id = \(bind: customer.rawValue) ORDER BY id", Self.decode)
        }
    }

    /// The latest record per channel.
    static func current(_ db: any SQLDatabase, _ customer: Customer.ID) async throws -> [Consent] {
        try await db.rows("""
            SELECT * FROM consents WHERE id IN (SELECT MAX(id) FROM consents WHERE customer_id = \(bind: customer.rawValue) GROUP BY channel)
            ORDER BY channel
            """, decode)
    }

    static func decode(_ r: Row) throws -> Consent {
        Consent(id: try r.id("id"), customerID: try r.id("customer_id"), channel: try r.enumValue("channel"), status: try r.enumValue("status"),
                method: try r.string("method"), note: try r.optionalString("note"), recordedAt: try r.instant("recorded_at"),
                recordedBy: try r.optionalID("recorded_by"), supersedes: try r.optionalID("supersedes"))
    }
}

extension Optional {
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        switch self {
        case .some(let w): return try await transform(w)
        case .none: return nil
        }
    }
}
