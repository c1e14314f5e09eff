import CRMCore
import Foundation
import Synchronization

/// Remembers recently verified API tokens for a few seconds, so a busy integration costs
/// one hash and one dictionary lookup per request instead of a database read. Revoking a
/// token or disabling a user through this server clears the cache at once; a change made
/// by another process (the command line, another server on PostgreSQL) takes effect
/// within `lifetime`.
final class TokenCache: Sendable {
    struct Entry: Sendable {
        var token: APIToken
        var user: User
        var expires: ContinuousClock.Instant
    }

    let lifetime: Duration
    private let entries = Mutex<[String: Entry]>([:])

    init(lifetime: Duration = .seconds(10)) { self.lifetime = lifetime }

    func lookup(_ hash: String, now: ContinuousClock.Instant = .now) -> (APIToken, User)? {
        entries.withLock { entries in
            guard let e = entries[hash] else { return nil }
            if e.expires < now { entries[hash] = nil; return nil }
            return (e.token, e.user)
        }
    }

    func store(_ hash: String, token: APIToken, user: User, now: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            // Bound the memory a flood of distinct valid tokens could take.
            if entries.count > 10_000 { entries.removeAll(keepingCapacity: true) }
            entries[hash] = Entry(token: token, user: user, expires: now + lifetime)
        }
    }

    func removeAll() { entries.withLock { $0.removeAll() } }
}
