import SQLKit
import Synchronization

/// The keys stored customers have (external ids; e-mails and phones of live customers) as a
/// Bloom filter, read once when a SQLite import starts: a row whose keys the filter has
/// never seen matches no stored customer, and its lookups are skipped. Most rows of a large
/// import are new customers, and their lookups were a sixth of the writer's time.
///
/// The filter holds only while nobody else writes. Each batch notes, inside its transaction,
/// the store's count of write transactions begun and SQLite's data version (which moves
/// when another connection commits). If at the next batch the count has moved by more than
/// the import's own next transaction, or the version at all, another writer came in between,
/// and the import looks every key up from then on. What the import itself writes needs no
/// filter: a key twice in one file is refused before any lookup.
final class StoredKeys: Sendable {
    enum Kind: UInt8, Sendable { case externalID = 1, email, phone }

    private let database: SQLiteStoreDatabase
    private let filter: BloomFilter
    /// The writer's position when the filter was read, then after each batch the import
    /// wrote; nil once another writer has been seen.
    private let mark: Mutex<WriterMark?>

    struct WriterMark: Sendable, Equatable {
        var writes: Int
        var dataVersion: Int64

        /// Whether `self`, seen inside a transaction, follows `earlier` with no other writer
        /// between: the same transaction, or the next.
        func follows(_ earlier: WriterMark) -> Bool {
            dataVersion == earlier.dataVersion && (writes == earlier.writes || writes == earlier.writes + 1)
        }
    }

    private init(database: SQLiteStoreDatabase, filter: BloomFilter, mark: WriterMark) {
        self.database = database
        self.filter = filter
        self.mark = Mutex(mark)
    }

    /// Reads the stored keys for an import of about `rows` rows: nil but on SQLite, whose one
    /// writer makes the check possible, and nil where reading every stored customer would
    /// cost more than looking the rows' keys up (a small file into a large database).
    /// The writer's mark is taken first, in a transaction of its own: a write that lands
    /// before the read moves the count past it, and the filter is never trusted.
    static func read(_ database: any StoreDatabase, rows: Int) async throws -> StoredKeys? {
        guard let database = database as? SQLiteStoreDatabase else { return nil }
        let count = try await database.read { db in
            try await db.rows("SELECT count(*) AS n FROM customers") { try $0.int64("n") }.first ?? 0
        }
        // A stored customer is read in about the time one key is looked up, and a row has up
        // to three keys.
        guard count <= 3 * Int64(rows) else { return nil }
        let mark = try await database.write { db in try await writerMark(db, database) }
        return try await database.read { db in
            // The rows come one after another on one thread; the lock is never contended.
            let filter = Shared(BloomFilter(expected: 3 * Int(count)))
            try await db.execute(sql: SQLRaw("SELECT external_id, email, phone, archived_at IS NULL AS live FROM customers")) { sqlRow in
                let row = Row(sqlRow)
                let x = try? row.optionalString("external_id"), live = (try? row.int64("live")) == 1
                let e = live ? try? row.optionalString("email") : nil, p = live ? try? row.optionalString("phone") : nil
                filter.withLock { filter in
                    if let x { filter.insert(x, Kind.externalID.rawValue) }
                    if let e { filter.insert(e, Kind.email.rawValue) }
                    if let p { filter.insert(p, Kind.phone.rawValue) }
                }
            }
            return StoredKeys(database: database, filter: filter.withLock { $0 }, mark: mark)
        }
    }

    /// A value behind a lock that escaping closures can share (a `Mutex` cannot be captured).
    private final class Shared<Value: Sendable>: Sendable {
        private let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
        func withLock<T>(_ body: (inout sending Value) -> sending T) -> T { value.withLock(body) }
    }

    /// Whether no other writer has written since the last `noteWritten` (or the read); on
    /// the writer, inside the batch's transaction. Once false, always false.
    func holds(_ db: any SQLDatabase) async throws -> Bool {
        guard let last = mark.withLock({ $0 }) else { return false }
        let now = try await Self.writerMark(db, database)
        return mark.withLock { mark in
            if !now.follows(last) { mark = nil }
            return mark != nil
        }
    }

    /// After a batch's writes, inside its transaction: the position the next batch compares.
    func noteWritten(_ db: any SQLDatabase) async throws {
        guard mark.withLock({ $0 }) != nil else { return }
        let now = try await Self.writerMark(db, database)
        mark.withLock { mark in if mark != nil { mark = now } }
    }

    /// Whether a stored customer may have `key`: false is certain.
    func mayHave(_ key: String, _ kind: Kind) -> Bool { filter.contains(key, kind.rawValue) }

    private static func writerMark(_ db: any SQLDatabase, _ database: SQLiteStoreDatabase) async throws -> WriterMark {
        let version = try await db.rows("SELECT data_version AS v FROM pragma_data_version") { try $0.int64("v") }.first ?? -1
        return WriterMark(writes: database.writesBegun, dataVersion: version)
    }
}

/// A Bloom filter of strings: ten bits and seven probes a key, about 1% false positives.
struct BloomFilter: Sendable {
    private var words: [UInt64]
    private let mask: UInt64
    private static let probes = 7

    init(expected: Int) {
        var bits = 1024
        while bits < 10 * expected { bits <<= 1 }
        words = Array(repeating: 0, count: bits / 64)
        mask = UInt64(bits - 1)
    }

    mutating func insert(_ key: String, _ tag: UInt8) {
        let (h1, h2) = Self.hashes(key, tag)
        for i in 0..<UInt64(Self.probes) {
            let bit = (h1 &+ i &* h2) & mask
            words[Int(bit >> 6)] |= 1 << (bit & 63)
        }
    }

    func contains(_ key: String, _ tag: UInt8) -> Bool {
        let (h1, h2) = Self.hashes(key, tag)
        for i in 0..<UInt64(Self.probes) {
            let bit = (h1 &+ i &* h2) & mask
            if words[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
        }
        return true
    }

    /// Two independent-enough 64-bit hashes of the tag and the key's UTF-8 (FNV-1a, then
    /// mixed), for double hashing. Stable across runs, unlike `Hasher`, which is no matter
    /// here but makes a failure reproducible.
    private static func hashes(_ key: String, _ tag: UInt8) -> (UInt64, UInt64) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(tag)
        var key = key
        key.withUTF8 { bytes in
            for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        }
        var a = h ^ (h >> 33)
        a = a &* 0xff51_afd7_ed55_8ccd
        a ^= a >> 33
        var b = h &* 0xc4ce_b9fe_1a85_ec53
        b ^= b >> 29
        return (a, b | 1)
    }
}
