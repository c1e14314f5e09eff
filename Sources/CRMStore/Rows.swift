import CRMCore
import Foundation
import SQLKit
import SQLiteNIO
import Synchronization

/// Typed access to a result row, with errors that name the column.
struct Row: Sendable {
    let row: any SQLRow

    init(_ row: any SQLRow) { self.row = row }

    func string(_ c: String) throws -> String { try row.decode(column: c, as: String.self) }
    // Optionals are asked for nil first: SQLite's decoder converts plain types directly but
    // takes the general Decodable route for an Optional, several times slower per value.
    func optionalString(_ c: String) throws -> String? { try row.decodeNil(column: c) ? nil : try row.decode(column: c, as: String.self) }
    func int64(_ c: String) throws -> Int64 { try row.decode(column: c, as: Int64.self) }
    func optionalInt64(_ c: String) throws -> Int64? { try row.decodeNil(column: c) ? nil : try row.decode(column: c, as: Int64.self) }
    func bool(_ c: String) throws -> Bool { try row.decode(column: c, as: Bool.self) }

    func id<T>(_ c: String, _: T.Type = T.self) throws -> Identifier<T> { Identifier(try int64(c)) }
    func optionalID<T>(_ c: String, _: T.Type = T.self) throws -> Identifier<T>? { try optionalInt64(c).map(Identifier.init) }

    func instant(_ c: String) throws -> Date {
        let text = try string(c)
        guard let date = Instant.parse(text) else { throw StoreError.corrupt("\(c) is not an instant: \(text)") }
        return date
    }

    func optionalInstant(_ c: String) throws -> Date? {
        guard let text = try optionalString(c) else { return nil }
        guard let date = Instant.parse(text) else { throw StoreError.corrupt("\(c) is not an instant: \(text)") }
        return date
    }

    func date(_ c: String) throws -> CalendarDate {
        let text = try string(c)
        guard let date = CalendarDate(text) else { throw StoreError.corrupt("\(c) is not a date: \(text)") }
        return date
    }

    func optionalDate(_ c: String) throws -> CalendarDate? {
        guard let text = try optionalString(c) else { return nil }
        guard let date = CalendarDate(text) else { throw StoreError.corrupt("\(c) is not a date: \(text)") }
        return date
    }

    func enumValue<E: RawRepresentable>(_ c: String, _: E.Type = E.self) throws -> E where E.RawValue == String {
        let text = try string(c)
        guard let value = E(rawValue: text) else { throw StoreError.corrupt("\(c) has an unknown value: \(text)") }
        return value
    }

    func optionalEnum<E: RawRepresentable>(_ c: String, _: E.Type = E.self) throws -> E? where E.RawValue == String {
        guard let text = try optionalString(c) else { return nil }
        guard let value = E(rawValue: text) else { throw StoreError.corrupt("\(c) has an unknown value: \(text)") }
        return value
    }

    func currency(_ c: String) throws -> Currency {
        let text = try string(c)
        guard let value = Currency(text) else { throw StoreError.corrupt("\(c) is not a currency: \(text)") }
        return value
    }

    func json<T: Decodable>(_ c: String, _: T.Type = T.self) throws -> T {
        let text = try string(c)
        // Most of these columns hold an empty list or a few plain strings (tags, hobbies);
        // a customer row has five of them, and JSONDecoder would be most of its reading cost.
        if text == "[]", let empty = [Any]() as? T { return empty }
        if text == "{}", let empty = [String: Any]() as? T { return empty }
        if T.self == [String].self, let strings = JSONColumn.plainStrings(text) as? T { return strings }
        if T.self == [String: CustomFieldValue].self, let fields = JSONColumn.plainFields(text) as? T { return fields }
        return try JSONColumn.decoder.decode(T.self, from: Data(text.utf8))
    }
}

/// Nested values (hobbies, contact windows, custom fields) are kept as JSON text, the
/// same on both backends; they are read with the row and never filtered on in SQL.
enum JSONColumn {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()
    static let decoder = JSONDecoder()

    static func text<T: Encodable>(_ value: T) throws -> String {
        if let strings = value as? [String] { return strings.isEmpty ? "[]" : plainText(strings) }
        if let changes = value as? [FieldChange] { return changesText(changes) }
        if let list = value as? [any Encodable], list.isEmpty { return "[]" }
        if let fields = value as? [String: CustomFieldValue], fields.isEmpty { return "{}" }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// A JSON array of strings, written directly.
    static func plainText(_ strings: [String]) -> String {
        var out = "["
        for (i, s) in strings.enumerated() {
            if i > 0 { out += "," }
            appendQuoted(s, to: &out)
        }
        return out + "]"
    }

    /// Audit changes as JSONEncoder writes them (sorted keys, nil left out), written directly:
    /// every write has an audit entry, and a bulk import writes a million.
    static func changesText(_ changes: [FieldChange]) -> String {
        var out = "["
        for (i, c) in changes.enumerated() {
            out += i == 0 ? "{" : ",{"
            if let after = c.after { out += "\"after\":"; appendQuoted(after, to: &out); out += "," }
            if let before = c.before { out += "\"before\":"; appendQuoted(before, to: &out); out += "," }
            out += "\"field\":"
            appendQuoted(c.field, to: &out)
            out += "}"
        }
        return out + "]"
    }

    static func appendQuoted(_ s: String, to out: inout String) {
        // Most values need no escaping: appended whole.
        guard s.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }) else {
            out += "\""
            out += s
            out += "\""
            return
        }
        var bytes: [UInt8] = [UInt8(ascii: "\"")]
        bytes.reserveCapacity(s.utf8.count + 16)
        let hex = Array("0123456789abcdef".utf8)
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case ..<0x20: bytes += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        out += String(decoding: bytes, as: UTF8.self)
    }

    /// A JSON array of strings without escapes (`["VIP","展会"]`), read directly; nil for
    /// anything else, which the general decoder then reads.
    static func plainStrings(_ text: String) -> [String]? {
        // Bytes, not characters: an export reads two of these per customer.
        let utf8 = Array(text.utf8)
        let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
        guard utf8.count >= 4, utf8[0] == UInt8(ascii: "["), utf8[1] == quote, utf8[utf8.count - 2] == quote,
              utf8[utf8.count - 1] == UInt8(ascii: "]"), !utf8.contains(UInt8(ascii: "\\")) else { return nil }
        var parts: [String] = []
        var start = 2
        var i = 2
        let end = utf8.count - 2
        while i < end {
            if utf8[i] == quote {
                // Only `","` may separate values: a quote inside a value would have been escaped.
                guard i + 2 < end, utf8[i + 1] == comma, utf8[i + 2] == quote else { return nil }
                parts.append(String(decoding: utf8[start..<i], as: UTF8.self))
                i += 3
                start = i
            } else {
                i += 1
            }
        }
        parts.append(String(decoding: utf8[start..<end], as: UTF8.self))
        return parts
    }

    /// JSON's number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    static func isJSONNumber(_ bytes: ArraySlice<UInt8>) -> Bool {
        var i = bytes.startIndex
        func digits() -> Int {
            let start = i
            while i < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 }
            return i - start
        }
        if i < bytes.endIndex, bytes[i] == UInt8(ascii: "-") { i += 1 }
        let leading = i
        guard digits() > 0, bytes[leading] != UInt8(ascii: "0") || i - leading == 1 else { return false }
        if i < bytes.endIndex, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return false }
        }
        if i < bytes.endIndex, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.endIndex, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return false }
        }
        return i == bytes.endIndex
    }

    /// A flat object of custom field values as the encoder writes them (`{"region":"华北",
    /// "budget":5000}`), read directly; nil for anything else (escapes, nesting), which
    /// goes to JSONDecoder.
    static func plainFields(_ text: String) -> [String: CustomFieldValue]? {
        let utf8 = Array(text.utf8)
        let quote = UInt8(ascii: "\"")
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "{"), utf8[utf8.count - 1] == UInt8(ascii: "}"),
              !utf8.contains(UInt8(ascii: "\\")) else { return nil }
        var fields: [String: CustomFieldValue] = [:]
        var i = 1
        let end = utf8.count - 1
        func string() -> String? {
            guard i < end, utf8[i] == quote, let close = utf8[(i + 1)..<end].firstIndex(of: quote) else { return nil }
            defer { i = close + 1 }
            return String(decoding: utf8[(i + 1)..<close], as: UTF8.self)
        }
        while i < end {
            guard let key = string(), i < end, utf8[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            if i < end, utf8[i] == quote {
                guard let value = string() else { return nil }
                fields[key] = .text(value)
            } else {
                let start = i
                while i < end, utf8[i] != UInt8(ascii: ",") { i += 1 }
                let number = utf8[start..<i]
                guard isJSONNumber(number), let value = Double(String(decoding: number, as: UTF8.self)), value.isFinite else { return nil }
                fields[key] = .number(value)
            }
            if i < end {
                guard utf8[i] == UInt8(ascii: ","), i + 1 < end else { return nil } // no trailing comma
                i += 1
            }
        }
        return fields
    }
}

/// One page of a list, and the opaque cursor that fetches the next (nil on the last page).
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

/// Keyset pagination: the cursor carries the last row's sort value and id, so a page is
/// an index range scan however deep the client pages, and rows inserted meanwhile are not
/// skipped or repeated.
struct Cursor: Codable, Equatable {
    var value: String?
    var id: Int64

    var encoded: String {
        let data = (try? JSONEncoder().encode(self)) ?? Data()
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }

    init(value: String?, id: Int64) {
        self.value = value
        self.id = id
    }

    init(decoding text: String) throws(DomainError) {
        let b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let padded = b64 + String(repeating: "=", count: (4 - b64.count % 4) % 4)
        guard let data = Data(base64Encoded: padded), let cursor = try? JSONDecoder().decode(Cursor.self, from: data) else {
            throw .invalid("/query/cursor", "is not a cursor this server issued")
        }
        self = cursor
    }
}

/// The sort orders lists offer; `-` means descending.
public enum ListSort: String, Sendable, CaseIterable {
    case id, idDescending = "-id", name, nameDescending = "-name", updatedAt, updatedAtDescending = "-updatedAt"

    var column: String? {
        switch self {
        case .id, .idDescending: return nil
        case .name, .nameDescending: return "name"
        case .updatedAt, .updatedAtDescending: return "updated_at"
        }
    }

    var descending: Bool { rawValue.hasPrefix("-") }
}

extension SQLDatabase {
    /// Runs `query` and maps each row, naming the failure if a row does not decode.
    func rows<T>(_ query: SQLQueryString, _ map: (Row) throws -> T) async throws -> [T] {
        try await raw(query).all().map { try map(Row($0)) }
    }

    /// Streams a large result through `map` one row at a time, keeping only the mapped
    /// values (a million `SQLRow`s held at once would cost far more memory). A row that
    /// fails to map fails the query.
    func stream<T: Sendable>(_ query: SQLQueryString, _ map: @escaping @Sendable (Row) throws -> T) async throws -> [T] {
        let collected = Collected<T>()
        try await raw(query).run { row in collected.add { try map(Row(row)) } }
        return try collected.result()
    }
}

/// What `stream` gathers: rows arrive one after another on the database's event loop, and
/// the mutex makes handing the array back to the caller's task safe.
final class Collected<T: Sendable>: Sendable {
    private let state = Mutex<(values: [T], error: (any Error)?)>(([], nil))

    func add(_ make: () throws -> T) {
        state.withLock { state in
            guard state.error == nil else { return }
            do { state.values.append(try make()) } catch { state.error = error }
        }
    }

    func result() throws -> [T] {
        try state.withLock { state in
            if let error = state.error { throw error }
            return state.values
        }
    }
}

/// Escapes `%`, `_` and `\` so user text is matched literally by `LIKE … ESCAPE '\'`.
func likeEscaped(_ text: String) -> String {
    text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_")
}

/// Ids for rows a bulk write numbers itself, so related rows can be inserted in the same
/// multi-row statements.
enum RowIDs {
    /// SQLite numbers after the largest id (the caller holds the one writer lock, so nobody
    /// else inserts meanwhile); PostgreSQL takes them from the identity sequence, which
    /// concurrent writers share safely.
    static func next(_ db: any SQLDatabase, table: String, count: Int, dialect: Dialect) async throws -> [Int64] {
        guard count > 0 else { return [] }
        switch dialect {
        case .sqlite:
            let maxID = try await db.raw("SELECT COALESCE(MAX(id), 0) AS m FROM \(unsafeRaw: table)").first()
                .map { try $0.decode(column: "m", as: Int64.self) } ?? 0
            return (1...Int64(count)).map { maxID + $0 }
        case .postgres:
            // The sequence is found once: asked of every row, the lookup took seven times as
            // long as the numbering itself (4.4 s of an import of 1,000,000 customers).
            return try await db.rows("""
                WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence('\(unsafeRaw: table)', 'id')::regclass AS seq)
                SELECT nextval(s.seq) AS id FROM s CROSS JOIN generate_series(1, \(bind: count))
                """) { try $0.int64("id") }.sorted()
        }
    }
}

/// `WHERE column IN (…)` over ids (callers keep lists under SQLite's bind limit).
func whereIn(_ column: String, _ ids: some Collection<Int64>) -> SQLQueryString {
    "WHERE \(IDList(column: column, ids: Array(ids)))"
}

/// `column IN ($1, $2, …)` on SQLite; `column = ANY($1)`, one array bound, on PostgreSQL,
/// whose server parsed and planned a thousand parameters in each of an order import's
/// locks, backlog entries and summary statements (about a tenth of its time).
struct IDList: SQLExpression {
    let column: String
    let ids: [Int64]

    func serialize(to serializer: inout SQLSerializer) {
        serializer.write(column)
        if serializer.dialect.name == "postgresql" {
            serializer.write(" = ANY(")
            serializer.write(bind: ids)
        } else {
            serializer.write(" IN (")
            for (n, id) in ids.enumerated() {
                if n > 0 { serializer.write(", ") }
                serializer.write(bind: id)
            }
        }
        serializer.write(")")
    }
}

/// `INSERT INTO table (columns) VALUES (…), (…)` with every value bound, serialised in one
/// pass: SQLKit's general insert builds an expression tree per value, which costs more than
/// the database spends storing a bulk load's rows.
struct MultiRowInsert: SQLExpression {
    let table: String
    let columns: [String]
    let rows: Rows
    /// The rows' values: any, or already as SQLite binds them (made where an import's rows
    /// are prepared, on both cores, instead of in the writer's time).
    enum Rows: Sendable {
        case values(ArraySlice<[any Encodable & Sendable]>)
        case sqlite(ArraySlice<[SQLiteData]>)
        /// Rows as SQLite binds them but for their first column, an id the writer numbered:
        /// `ids[k]` heads `rows[k]`.
        case numbered(ids: ArraySlice<Int64>, rows: ArraySlice<[SQLiteData]>)

        var count: Int {
            switch self {
            case .values(let rows): rows.count
            case .sqlite(let rows): rows.count
            case .numbered(let ids, _): ids.count
            }
        }

        func allSatisfy(_ width: Int) -> Bool {
            switch self {
            case .values(let rows): rows.allSatisfy { $0.count == width }
            case .sqlite(let rows): rows.allSatisfy { $0.count == width }
            case .numbered(let ids, let rows): ids.count == rows.count && rows.allSatisfy { $0.count + 1 == width }
            }
        }

        /// Every value, row after row.
        func forEachValue(_ body: (any Encodable & Sendable) -> Void) {
            switch self {
            case .values(let rows): for row in rows { for v in row { body(v) } }
            case .sqlite(let rows): for row in rows { for v in row { body(v) } }
            case .numbered(let ids, let rows):
                for (id, row) in zip(ids, rows) {
                    body(SQLiteData.integer(Int(id)))
                    for v in row { body(v) }
                }
            }
        }
    }
    /// SQLite's `INSERT OR REPLACE`: a row whose key is taken replaces the one there.
    var replacing = false
    /// Whether SQLite may run it a row at a time (`SQLiteStatements.RowByRow`). Not into an
    /// FTS5 table while `atomic`: FTS5 writes out the postings it buffers at every savepoint.
    var rowByRow = true
    /// Whether a refused row undoes the rows before it, as one statement's would (run row by
    /// row, that takes a savepoint). An import's inserts need not: any error rolls back its
    /// whole transaction, and the savepoints were 2.8 s of a million customers' import.
    var atomic = true

    /// The statement up to its rows' values.
    var head: String {
        (replacing ? "INSERT OR REPLACE INTO " : "INSERT INTO ") + "\(table) (\(columns.joined(separator: ", "))) VALUES "
    }

    /// Placeholders are laid out by the column count: a row of another length would shift
    /// values into the next row's columns instead of failing.
    func checkWidths() {
        precondition(rows.count > 0 && rows.allSatisfy(columns.count), "every row of \(table) needs \(columns.count) values")
    }

    func serialize(to serializer: inout SQLSerializer) {
        checkWidths()
        var sql = head
        var n = serializer.binds.count
        serializer.binds.reserveCapacity(n + rows.count * columns.count)
        if serializer.dialect.name == "postgresql" {
            // PostgreSQL numbers its placeholders.
            sql.reserveCapacity(sql.utf8.count + rows.count * columns.count * 8)
            var i = 0, r = 0
            rows.forEachValue { value in
                n += 1
                sql += i > 0 ? ",$\(n)" : r == 0 ? "($\(n)" : ",($\(n)"
                i += 1
                if i == columns.count { sql += ")"; i = 0; r += 1 }
                serializer.binds.append(value)
            }
        } else {
            // SQLite takes them in order: the same "(?,?,…)" for every row, built once.
            let row = "(" + String(repeating: "?,", count: max(0, columns.count - 1)) + "?)"
            sql += row + String(repeating: "," + row, count: max(0, rows.count - 1))
            rows.forEachValue { serializer.binds.append($0) }
        }
        serializer.write(sql)
    }
}

extension Array where Element: Sendable {
    /// `map` over both cores for CPU-bound work on a large batch (parsing rows, building
    /// search grams); small arrays are mapped in place.
    /// - Parameter yielding: on `YieldingThreads`, giving way to the rest of the process (an
    ///   import's writer), the calling thread waiting.
    func concurrentMap<T>(minimumPerChunk: Int = 500, yielding: Bool = false, _ transform: (Element) -> T) -> [T] {
        let chunks = Swift.max(1, Swift.min(ProcessInfo.processInfo.activeProcessorCount * 2, count / minimumPerChunk))
        if chunks == 1 && !yielding { return map(transform) }
        return [T](unsafeUninitializedCapacity: count) { buffer, initialised in
            nonisolated(unsafe) let out = buffer // each chunk initialises only its own disjoint range
            withoutActuallyEscaping(transform) { transform in
                nonisolated(unsafe) let transform = transform // called concurrently; every caller passes a pure function
                nonisolated(unsafe) let elements = self // only read while the chunks run
                let chunk = { @Sendable (chunk: Int) in
                    for k in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                        (out.baseAddress! + k).initialize(to: transform(elements[k]))
                    }
                }
                if yielding {
                    YieldingThreads.shared.concurrentPerform(iterations: chunks, execute: chunk)
                } else {
                    DispatchQueue.concurrentPerform(iterations: chunks, execute: chunk)
                }
            }
            initialised = count
        }
    }
}
