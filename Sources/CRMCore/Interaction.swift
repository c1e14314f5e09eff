import Foundation

/// A touch between the firm and a customer (跟进记录): who, when, how, and what came of it.
/// Shared by sales, marketing and service, so nobody sends the same brochure twice.
public struct Interaction: Sendable, Codable, Equatable {
    public typealias ID = Identifier<Interaction>

    public enum Kind: String, Sendable, Codable, CaseIterable {
        case call, visit, meeting, email, sms, letter, note
    }

    public enum Direction: String, Sendable, Codable, CaseIterable {
        case inbound, outbound, `internal`
    }

    public var id: ID
    public var customerID: Customer.ID
    public var kind: Kind
    public var direction: Direction
    public var subject: String?
    public var notes: String?
    public var outcome: String?
    public var userID: User.ID?
    public var occurredAt: Date
    public var createdAt: Date

    public init(id: ID, customerID: Customer.ID, kind: Kind, direction: Direction, subject: String?, notes: String?, outcome: String?, userID: User.ID?, occurredAt: Date, createdAt: Date) {
        self.id = id; self.customerID = customerID; self.kind = kind; self.direction = direction; self.subject = subject
        self.notes = notes; self.outcome = outcome; self.userID = userID; self.occurredAt = occurredAt; self.createdAt = createdAt
    }
}

/// A follow-up to do (named so to stay clear of Swift's concurrency `Task`).
public struct FollowUpTask: Sendable, Codable, Equatable {
    public typealias ID = Identifier<FollowUpTask>

    public enum Status: String, Sendable, Codable, CaseIterable {
        case open, done, cancelled
    }

    public var id: ID
    public var customerID: Customer.ID?
    public var title: String
    public var notes: String?
    public var dueDate: CalendarDate
    public var assigneeID: User.ID?
    public var status: Status
    public var createdAt: Date
    public var updatedAt: Date
    public var version: Int64

    public init(id: ID, customerID: Customer.ID?, title: String, notes: String?, dueDate: CalendarDate, assigneeID: User.ID?, status: Status, createdAt: Date, updatedAt: Date, version: Int64) {
        self.id = id; self.customerID = customerID; self.title = title; self.notes = notes; self.dueDate = dueDate
        self.assigneeID = assigneeID; self.status = status; self.createdAt = createdAt; self.updatedAt = updatedAt; self.version = version
    }
}

/// Permission to contact a customer on one channel. Records are never changed or deleted:
/// a new record supersedes the last, so the history proves what the customer agreed to and when.
public struct Consent: Sendable, Codable, Equatable {
    public typealias ID = Identifier<Consent>

    public enum Status: String, Sendable, Codable, CaseIterable {
        case granted, revoked
    }

    public var id: ID
    public var customerID: Customer.ID
    public var channel: ContactChannel
    public var status: Status
    /// How it was obtained: web form, signed paper, recorded call, import …
    public var method: String
    public var note: String?
    public var recordedAt: Date
    public var recordedBy: User.ID?
    /// The record this one replaces, if any.
    public var supersedes: ID?

    public init(id: ID, customerID: Customer.ID, channel: ContactChannel, status: Status, method: String, note: String?, recordedAt: Date, recordedBy: User.ID?, supersedes: ID?) {
        self.id = id; self.customerID = customerID; self.channel = channel; self.status = status; self.method = method
        self.note = note; self.recordedAt = recordedAt; self.recordedBy = recordedBy; self.supersedes = supersedes
    }
}
