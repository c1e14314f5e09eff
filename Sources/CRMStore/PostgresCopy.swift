import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit

/// A PostgreSQL connection's statements, as SQLKit runs them, and its `COPY … FROM STDIN`
/// for an import's rows. A multi-row INSERT binds every value through a dynamic cast and
/// an encoder (in an import of 100,000 customers, more of the client's time than preparing
/// the rows), and the server parses and plans each statement; COPY takes the rows as text.
struct PostgresStatements: SQLDatabase {
    let connection: PostgresConnection
    private let statements: any SQLDatabase

    init(_ connection: PostgresConnection) {
        self.connection = connection
        statements = connection.sql()
    }

    var logger: Logger { statements.logger }
    var eventLoop: any EventLoop { statements.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { statements.version }
    var dialect: any SQLDialect { statements.dialect }
    var queryLogLevel: Logger.Level? { statements.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        statements.execute(sql: query, onRow)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        try await statements.execute(sql: query, onRow)
    }

    /// Copies `count` rows into `table`; `row(n, &buffer)` writes the nth as a line of COPY's
    /// text format (`CopyLine`) with its newline. Sent a megabyte at a time.
    func copy(into table: String, _ columns: [String], count: Int, _ row: (Int, inout ByteBuffer) -> Void) async throws {
        guard count > 0 else { return }
        try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
            var buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
            for n in 0..<count {
                row(n, &buffer)
                if buffer.readableBytes >= 1 << 20 {
                    try await writer.write(buffer)
                    buffer = ByteBufferAllocator().buffer(capacity: 1 << 20)
                }
            }
            if buffer.readableBytes > 0 { try await writer.write(buffer) }
        }
    }
}

/// One row in the text format of PostgreSQL's COPY: fields split by tabs, `\N` for NULL,
/// and a backslash escape for a backslash, tab, newline or carriage return in a value, so
/// no value can end its field or row early. Import rows are made where they are prepared,
/// off the writer's time.
struct CopyLine: Sendable {
    private(set) var bytes: [UInt8] = []
    /// Counted, not read off `bytes`: an empty first field writes no bytes.
    private var fields = 0

    init() {}

    private mutating func separate() {
        if fields > 0 { bytes.append(UInt8(ascii: "\t")) }
        fields += 1
    }

    /// The fields of `other`, after this line's.
    mutating func append(_ other: CopyLine) {
        guard other.fields > 0 else { return }
        if fields > 0 { bytes.append(UInt8(ascii: "\t")) }
        bytes += other.bytes
        fields += other.fields
    }

    mutating func integer(_ n: Int64?) {
        separate()
        guard let n else { return bytes += [UInt8(ascii: "\\"), UInt8(ascii: "N")] }
        bytes += String(n).utf8
    }

    mutating func bool(_ b: Bool) {
        separate()
        bytes.append(b ? UInt8(ascii: "t") : UInt8(ascii: "f"))
    }

    mutating func text(_ s: String?) {
        separate()
        guard var s else { return bytes += [UInt8(ascii: "\\"), UInt8(ascii: "N")] }
        s.withUTF8 { for byte in $0 { escaped(byte) } }
    }

    /// A `text[]` value: the array literal `{"a","b"}`, each element quoted (a gram may be a
    /// space, a comma or a brace), with the literal's own backslashes escaped again for COPY.
    mutating func texts(_ elements: some Sequence<String>) {
        separate()
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for var element in elements {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            bytes.append(UInt8(ascii: "\""))
            element.withUTF8 { utf8 in
                for byte in utf8 {
                    // In the literal, `"` and `\` take a backslash; COPY then doubles that backslash.
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")] }
                    escaped(byte)
                }
            }
            bytes.append(UInt8(ascii: "\""))
        }
        bytes.append(UInt8(ascii: "}"))
    }

    private mutating func escaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
        case UInt8(ascii: "\t"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
        case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
        case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
        default: bytes.append(byte)
        }
    }
}
