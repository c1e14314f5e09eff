import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Rows of a UTF-8 CSV file (RFC 4180), parsed from its bytes a megabyte at a time.
///
/// In place of CSV.swift's reader, which decodes the file one Unicode scalar at a time
/// through an iterator: it read 15 MB/s here, so 10,000,000 order lines spent 38 s in it
/// (`crm bench csv`). Only the delimiters and line breaks are looked at, which are ASCII
/// and so never part of a multi-byte character; each row's bytes are checked as UTF-8 once.
///
/// A cell in double quotes may hold commas, line breaks and doubled quotes (`""`). Text
/// after a closing quote is kept, as Python's csv module does (`"a"b` is `ab`). Rows end
/// at LF, CRLF or a lone CR; an empty line is a row of one empty cell.
final class CSVByteReader {
    enum Failure: Error { case undecodable }

    private let descriptor: Int32
    private var buffer: [UInt8]
    /// The next unread byte, and the end of what was read.
    private var start = 0
    private var end = 0
    private var atEndOfFile = false
    /// A quoted cell's bytes without its quotes.
    private var unquoted: [UInt8] = []
    /// The last row's cells, to reserve room for the next.
    private var width = 8

    /// `bufferSize` is only made small by tests, to cut rows at every byte.
    init(path: String, bufferSize: Int = 1 << 20) throws {
        descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw ImportFileError.unreadable("\(path) cannot be opened: \(String(cString: strerror(errno)))") }
        buffer = [UInt8](repeating: 0, count: max(1, bufferSize))
        // Enough bytes to see a byte-order mark.
        while end < 3 && !atEndOfFile { try fill() }
        if buffer[start..<end].starts(with: [0xEF, 0xBB, 0xBF]) { start += 3 }
    }

    deinit { close(descriptor) }

    /// The next row's cells; nil at the end of the file.
    func next() throws -> [String]? {
        while true {
            if start == end && atEndOfFile { return nil }
            if let (row, after) = try parseRow() {
                start = after
                width = row.count
                return row
            }
            try fill()
        }
    }

    /// Keeps the unread bytes, moved to the front (the buffer doubles when one row fills
    /// it), and reads more after them.
    private func fill() throws {
        if start > 0 {
            buffer.withUnsafeMutableBytes { raw in
                _ = memmove(raw.baseAddress!, raw.baseAddress! + start, end - start)
            }
            end -= start
            start = 0
        }
        if end == buffer.count { buffer += [UInt8](repeating: 0, count: buffer.count) }
        let count = buffer.withUnsafeMutableBytes { raw in
            var count: Int
            repeat { count = read(descriptor, raw.baseAddress! + end, raw.count - end) } while count < 0 && errno == EINTR
            return count
        }
        guard count >= 0 else { throw ImportFileError.unreadable(String(cString: strerror(errno))) }
        end += count
        if count == 0 { atEndOfFile = true }
    }

    /// The row at `start` and the index after it, or nil when the bytes read so far end
    /// before the row does.
    private func parseRow() throws -> ([String], Int)? {
        let final = atEndOfFile
        let end = self.end
        return try buffer.withUnsafeBufferPointer { bytes -> ([String], Int)? in
            var cells: [String] = []
            cells.reserveCapacity(width)
            var i = start
            while true {
                let cell: String
                if i < end && bytes[i] == UInt8(ascii: "\"") {
                    unquoted.removeAll(keepingCapacity: true)
                    i += 1
                    var run = i
                    while true {
                        guard i < end else {
                            guard final else { return nil }
                            // An unclosed quote runs to the end of the file.
                            unquoted.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
                            break
                        }
                        if bytes[i] != UInt8(ascii: "\"") { i += 1; continue }
                        unquoted.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
                        guard i + 1 < end || final else { return nil }
                        if i + 1 < end && bytes[i + 1] == UInt8(ascii: "\"") {
                            unquoted.append(UInt8(ascii: "\""))
                            i += 2
                            run = i
                            continue
                        }
                        i += 1
                        // Text after the closing quote, up to the cell's end, is kept.
                        run = i
                        while i < end && !Self.endsCell(bytes[i]) { i += 1 }
                        guard i < end || final else { return nil }
                        unquoted.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
                        break
                    }
                    cell = String(decoding: unquoted, as: UTF8.self)
                } else {
                    let run = i
                    while i < end && !Self.endsCell(bytes[i]) { i += 1 }
                    guard i < end || final else { return nil }
                    cell = String(decoding: UnsafeBufferPointer(rebasing: bytes[run..<i]), as: UTF8.self)
                }
                cells.append(cell)
                guard i < end else { break }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                break
            }
            // The cells were decoded without a check, which would have replaced bad bytes;
            // the row is checked whole instead (a character never spans an ASCII delimiter).
            guard Self.isUTF8(UnsafeBufferPointer(rebasing: bytes[start..<i])) else { throw Failure.undecodable }
            guard i < end else { return (cells, i) }
            if bytes[i] == UInt8(ascii: "\r") {
                // Whether an LF follows is only known once the next byte is read.
                guard i + 1 < end || final else { return nil }
                return (cells, i + 1 < end && bytes[i + 1] == UInt8(ascii: "\n") ? i + 2 : i + 1)
            }
            return (cells, i + 1)
        }
    }

    /// Whether the bytes are well-formed UTF-8 (RFC 3629: no overlong forms, surrogates
    /// or values past U+10FFFF). The standard library's own check is generic and, unspecialised
    /// here, took half the reading time.
    static func isUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            let lead = bytes[i]
            if lead < 0x80 { i += 1; continue }
            let following: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: following = 1
            case 0xE0: following = 2; low = 0xA0
            case 0xED: following = 2; high = 0x9F
            case 0xE1...0xEF: following = 2
            case 0xF0: following = 3; low = 0x90
            case 0xF4: following = 3; high = 0x8F
            case 0xF1...0xF3: following = 3
            default: return false
            }
            guard i + following < n, (low...high).contains(bytes[i + 1]) else { return false }
            var k = 2
            while k <= following {
                guard bytes[i + k] & 0xC0 == 0x80 else { return false }
                k += 1
            }
            i += following + 1
        }
        return true
    }

    @inline(__always)
    private static func endsCell(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }
}
