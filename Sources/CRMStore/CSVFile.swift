import CRMCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The text encodings a CSV file may come in. Excel saves "CSV UTF-8" with a byte-order
/// mark, plain "CSV" in the system's code page, which in China is GB18030 (a superset of
/// GBK and GB2312).
public enum TextEncoding: String, Sendable, Codable, CaseIterable {
    case auto, utf8, gb18030
}

/// Why a file cannot be read at all (as opposed to a bad row, which is reported and skipped).
public enum ImportFileError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String)
    case undecodable(line: Int, encoding: TextEncoding)
    case noHeader

    public var description: String {
        switch self {
        case .unreadable(let why): "the file cannot be read: \(why)"
        case .undecodable(let line, let encoding):
            "line \(line): bytes that are not valid \(encoding == .gb18030 ? "GB18030" : "UTF-8"); "
                + "save the file as CSV UTF-8, or give the encoding (--encoding gb18030 | utf8)"
        case .noHeader: "the file is empty: the first row must name the columns"
        }
    }
}

/// A CSV file read one row at a time, so memory stays flat whatever its size. The
/// encoding is detected (a UTF-8 byte-order mark, else valid UTF-8 in the first 64 KiB,
/// else GB18030) or given; GB18030 is transcoded to a temporary UTF-8 file first (iconv,
/// streamed). Row numbers are those a spreadsheet shows: the header is row 1.
///
/// Reading is serialised by a mutex, so one source can be drained from inside a database
/// transaction's closure.
public final class CSVRowSource: Sendable {
    public let header: [String]
    public let encoding: TextEncoding
    /// Lines in the file (an estimate of the rows, exact unless cells hold line breaks), for progress.
    public let estimatedRows: Int
    private let state: Mutex<ReaderState>
    private let temporaryFile: String?

    struct ReaderState {
        var reader: CSVByteReader
        var row: Int
        var encoding: TextEncoding
    }

    public init(path: String, encoding requested: TextEncoding = .auto) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw ImportFileError.unreadable("\(path) does not exist or is not readable") }
        let head = (try? handle.read(upToCount: 65_536)) ?? Data()
        try? handle.close()
        let encoding = requested == .auto ? Self.detect(head) : requested
        var utf8Path = path
        var copy: String?
        var opened = false
        // A file refused on the way (undecodable, no header) leaves no copy behind: deinit
        // does not run for a source that was never made.
        defer { if !opened, let copy { try? FileManager.default.removeItem(atPath: copy) } }
        if encoding == .gb18030 {
            let temporary = FileManager.default.temporaryDirectory.appendingPathComponent("crm-import-\(UUID().uuidString).csv").path
            copy = temporary
            try Self.transcodeGB18030(from: path, to: temporary)
            utf8Path = temporary
        }
        temporaryFile = copy
        estimatedRows = max(0, (try? Self.countLines(utf8Path)) ?? 0)
        let reader = try CSVByteReader(path: utf8Path)
        let first: [String]?
        do {
            first = try reader.next()
        } catch CSVByteReader.Failure.undecodable {
            throw ImportFileError.undecodable(line: 1, encoding: encoding)
        }
        guard let header = first, !(header.count == 1 && header[0].isEmpty) else { throw ImportFileError.noHeader }
        self.header = header.map { $0.trimmingCharacters(in: .whitespaces) }
        self.encoding = encoding
        state = Mutex(ReaderState(reader: reader, row: 1, encoding: encoding))
        opened = true
    }

    deinit {
        if let temporaryFile { try? FileManager.default.removeItem(atPath: temporaryFile) }
    }

    /// Up to `count` rows with their row numbers; empty at the end of the file. Blank lines
    /// are skipped (they are not rows anyone meant).
    public func next(_ count: Int) throws -> [(row: Int, values: [String])] {
        try state.withLock { state in
            var rows: [(row: Int, values: [String])] = []
            rows.reserveCapacity(count)
            while rows.count < count {
                let read: [String]?
                do {
                    read = try state.reader.next()
                } catch CSVByteReader.Failure.undecodable {
                    throw ImportFileError.undecodable(line: state.row + 1, encoding: state.encoding)
                }
                guard let values = read else { break }
                state.row += 1
                if values.count == 1 && values[0].trimmingCharacters(in: .whitespaces).isEmpty { continue }
                rows.append((state.row, values))
            }
            return rows
        }
    }

    /// UTF-8 if the bytes begin with its byte-order mark or decode as UTF-8 (a sequence cut
    /// at the end of the sample is allowed); otherwise GB18030.
    static func detect(_ head: Data) -> TextEncoding {
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { return .utf8 }
        var bytes = Array(head)
        // Drop a multi-byte sequence the 64 KiB sample may have cut in two.
        if bytes.count == 65_536 {
            var cut = bytes.count - 1
            while cut > bytes.count - 4 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
            if bytes[cut] >= 0xC0 { bytes.removeSubrange(cut...) }
        }
        return String(validating: bytes, as: UTF8.self) != nil ? .utf8 : .gb18030
    }

    static func countLines(_ path: String) throws -> Int {
        guard let handle = FileHandle(forReadingAtPath: path) else { return 0 }
        defer { try? handle.close() }
        var lines = 0
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            lines += chunk.withUnsafeBytes { raw in raw.reduce(into: 0) { n, b in if b == 0x0A { n += 1 } } }
        }
        return lines
    }

    /// GB18030 → UTF-8 with iconv, a megabyte at a time; an invalid sequence is reported
    /// with its line number instead of being replaced or dropped.
    static func transcodeGB18030(from source: String, to target: String) throws {
        guard let input = FileHandle(forReadingAtPath: source) else { throw ImportFileError.unreadable("\(source) cannot be opened") }
        defer { try? input.close() }
        guard FileManager.default.createFile(atPath: target, contents: nil), let output = FileHandle(forWritingAtPath: target) else {
            throw ImportFileError.unreadable("cannot write the temporary file \(target)")
        }
        defer { try? output.close() }
        let converter = iconv_open("UTF-8", "GB18030")
        guard converter != iconv_t(bitPattern: -1) else { throw ImportFileError.unreadable("this system cannot convert GB18030") }
        defer { iconv_close(converter) }
        var pending: [UInt8] = []
        var line = 1
        var out = [UInt8](repeating: 0, count: 4 << 20)
        while true {
            let chunk = try input.read(upToCount: 1 << 20) ?? Data()
            let atEnd = chunk.isEmpty
            pending.append(contentsOf: chunk)
            if pending.isEmpty { break }
            var consumed = 0
            var produced = 0
            var failed = false
            pending.withUnsafeMutableBytes { inRaw in
                out.withUnsafeMutableBytes { outRaw in
                    var inPointer: UnsafeMutablePointer<CChar>? = inRaw.baseAddress!.assumingMemoryBound(to: CChar.self)
                    var inLeft = inRaw.count
                    var outPointer: UnsafeMutablePointer<CChar>? = outRaw.baseAddress!.assumingMemoryBound(to: CChar.self)
                    var outLeft = outRaw.count
                    let result = iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                    consumed = inRaw.count - inLeft
                    produced = outRaw.count - outLeft
                    // EINVAL: a sequence cut at the end of the chunk, completed by the next one.
                    if result == -1 && (errno == EILSEQ || (errno == EINVAL && atEnd)) { failed = true }
                }
            }
            line += pending[..<consumed].reduce(into: 0) { n, b in if b == 0x0A { n += 1 } }
            if failed { throw ImportFileError.undecodable(line: line, encoding: .gb18030) }
            output.write(Data(out[..<produced]))
            pending.removeFirst(consumed)
            if atEnd { break }
        }
    }
}
