@testable import CRMStore
import Foundation
import Testing

@Suite("CSV byte reader")
struct CSVByteReaderTests {
    static func write(_ bytes: [UInt8]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("crm-csv-\(UUID().uuidString).csv").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func rows(_ path: String, bufferSize: Int) throws -> [[String]] {
        let reader = try CSVByteReader(path: path, bufferSize: bufferSize)
        var rows: [[String]] = []
        while let row = try reader.next() { rows.append(row) }
        return rows
    }

    /// Every kind of cell and line end, read whole and with the file cut at every byte: in a
    /// character, between CR and LF, inside and right after quotes.
    @Test func rowsAreTheSameWhereverTheBufferCutsThem() throws {
        let text = "\u{FEFF}name,note,city\r\n"
            + "张伟,\"said \"\"hi\"\", left\",北京\r\n"
            + "\"two\nlines\",,\"\"\n"
            + "\n"
            + "lone cr\rtrailing,comma,\n"
            + "\"closed\"after,x\"y,\"\"\"\"\n"
            + "last,\"unclosed, to the end"
        let expected = [["name", "note", "city"],
                        ["张伟", "said \"hi\", left", "北京"],
                        ["two\nlines", "", ""],
                        [""],
                        ["lone cr"],
                        ["trailing", "comma", ""],
                        ["closedafter", "x\"y", "\""],
                        ["last", "unclosed, to the end"]]
        let path = try Self.write(Array(text.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try Self.rows(path, bufferSize: 1 << 20) == expected)
        for size in 1...24 {
            #expect(try Self.rows(path, bufferSize: size) == expected, "buffer of \(size) bytes")
        }
        // The same rows when the last quote is closed and the line ended, and none at all from an empty file.
        let ended = try Self.write(Array((text + "\"\r\n").utf8))
        defer { try? FileManager.default.removeItem(atPath: ended) }
        for size in [2, 5, 1 << 20] { #expect(try Self.rows(ended, bufferSize: size) == expected) }
        let empty = try Self.write([])
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(try Self.rows(empty, bufferSize: 4).isEmpty)
    }

    /// A bad byte is refused in the row that holds it, after the rows before it were read.
    @Test func aRowWithBytesThatAreNotUTF8IsRefused() throws {
        let path = try Self.write(Array("a,b\n张,\"伟\"\n".utf8) + [0x22, 0xE5, 0xBC, 0x22] + Array(",x\nnext\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        for size in [3, 1 << 20] {
            let reader = try CSVByteReader(path: path, bufferSize: size)
            #expect(try reader.next() == ["a", "b"])
            #expect(try reader.next() == ["张", "伟"])
            #expect(throws: CSVByteReader.Failure.undecodable) { _ = try reader.next() }
        }
    }

    /// The reader's own UTF-8 check agrees with the standard library's on the edge cases
    /// (overlong forms, surrogates, past U+10FFFF, cut sequences) and on random bytes.
    @Test func theUTF8CheckAgreesWithTheStandardLibrary() {
        var cases: [[UInt8]] = [[0xC0, 0x80], [0xC1, 0xBF], [0xC2, 0x80], [0xE0, 0x9F, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF],
                                [0xED, 0xA0, 0x80], [0xEF, 0xBF, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80],
                                [0xF4, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xE5, 0xBC],
                                [0xE5, 0xBC, 0xA0], [0x80], [0xFF], [0x41, 0xE5]]
        var rng = SystemRandomNumberGenerator()
        let pool: [UInt8] = [0x41, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC2, 0xDF, 0xE0, 0xE5, 0xED, 0xEF, 0xF0, 0xF3, 0xF4, 0xF5]
        for _ in 0..<20_000 { cases.append((0..<Int.random(in: 1...6, using: &rng)).map { _ in pool.randomElement(using: &rng)! }) }
        var disagreements: [[UInt8]] = []
        var valid = 0
        for bytes in cases {
            let standard = String(validating: bytes, as: UTF8.self) != nil
            if standard { valid += 1 }
            if bytes.withUnsafeBufferPointer(CSVByteReader.isUTF8) != standard { disagreements.append(bytes) }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        #expect(valid > 100, "the random cases include valid sequences")
    }
}
