import CRMCore
import Foundation

/// What one kind of import counts besides rows created, updated, unchanged and refused.
public protocol ImportCounts: Sendable, Codable, Equatable {
    init()
}

/// Nothing more (products, interactions).
public struct NoExtraCounts: ImportCounts {
    public init() {}
}

public struct CustomerImportCounts: ImportCounts {
    public var organisationsCreated = 0
    public var contactsCreated = 0
    public var tasksCreated = 0
    public init() {}
}

public struct OrderImportCounts: ImportCounts {
    /// Order lines inserted (of new and of replaced orders).
    public var linesWritten = 0
    /// Customers whose purchase summary was recomputed.
    public var customersSummarised = 0
    public init() {}
}

/// What an import did (or, in a dry run or a rolled-back all-or-nothing import, would have
/// done). Its kind's own counts are read as if they were its fields (`report.linesWritten`)
/// and written beside the others in JSON, as the API's `ImportReport` has them.
@dynamicMemberLookup
public struct ImportReport<Counts: ImportCounts>: Sendable, Codable, Equatable {
    public var encoding: TextEncoding
    public var dryRun: Bool
    public var mode: CustomerImportOptions.Mode
    /// Whether the rows counted as created and updated are in the database now.
    public var committed = false
    /// Rows read (order lines, for orders).
    public var rows = 0
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    /// Rows refused (each with its problems in the error report).
    public var failed = 0
    /// Columns the file has that fill no field (reported, never silently dropped).
    public var ignoredColumns: [String]
    /// The first problems (all of them go to the error report file).
    public var problems: [ImportProblem] = []
    public var problemCount = 0
    public var seconds = 0.0
    public var counts = Counts()

    init(_ source: CSVRowSource, mode: CustomerImportOptions.Mode, dryRun: Bool, ignoredColumns: [String]) {
        encoding = source.encoding
        self.mode = mode
        self.dryRun = dryRun
        self.ignoredColumns = ignoredColumns
    }

    public subscript<T>(dynamicMember field: WritableKeyPath<Counts, T>) -> T {
        get { counts[keyPath: field] }
        set { counts[keyPath: field] = newValue }
    }

    static var problemsKept: Int { 100 }

    /// Counts the rows with problems, keeps the first ones for the report and sends all of
    /// them to the error file.
    mutating func record(_ found: [ImportProblem], sink: (@Sendable ([ImportProblem]) throws -> Void)?) throws {
        guard !found.isEmpty else { return }
        failed += Set(found.map(\.row)).count
        problemCount += found.count
        let room = Self.problemsKept - problems.count
        if room > 0 { problems += found.prefix(room) }
        try sink?(found)
    }

    private enum Keys: String, CodingKey {
        case encoding, dryRun, mode, committed, rows, created, updated, unchanged, failed, ignoredColumns, problems, problemCount, seconds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        encoding = try c.decode(TextEncoding.self, forKey: .encoding)
        dryRun = try c.decode(Bool.self, forKey: .dryRun)
        mode = try c.decode(CustomerImportOptions.Mode.self, forKey: .mode)
        committed = try c.decode(Bool.self, forKey: .committed)
        rows = try c.decode(Int.self, forKey: .rows)
        created = try c.decode(Int.self, forKey: .created)
        updated = try c.decode(Int.self, forKey: .updated)
        unchanged = try c.decode(Int.self, forKey: .unchanged)
        failed = try c.decode(Int.self, forKey: .failed)
        ignoredColumns = try c.decode([String].self, forKey: .ignoredColumns)
        problems = try c.decode([ImportProblem].self, forKey: .problems)
        problemCount = try c.decode(Int.self, forKey: .problemCount)
        seconds = try c.decode(Double.self, forKey: .seconds)
        counts = try Counts(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(encoding, forKey: .encoding)
        try c.encode(dryRun, forKey: .dryRun)
        try c.encode(mode, forKey: .mode)
        try c.encode(committed, forKey: .committed)
        try c.encode(rows, forKey: .rows)
        try c.encode(created, forKey: .created)
        try c.encode(updated, forKey: .updated)
        try c.encode(unchanged, forKey: .unchanged)
        try c.encode(failed, forKey: .failed)
        try c.encode(ignoredColumns, forKey: .ignoredColumns)
        try c.encode(problems, forKey: .problems)
        try c.encode(problemCount, forKey: .problemCount)
        try c.encode(seconds, forKey: .seconds)
        // The kind's own counts beside the others, not nested.
        try counts.encode(to: encoder)
    }
}

public typealias CustomerImportReport = ImportReport<CustomerImportCounts>
/// Orders created, replaced (their lines or fields changed) and found as they are; rows are order lines.
public typealias OrderImportReport = ImportReport<OrderImportCounts>
public typealias ProductImportReport = ImportReport<NoExtraCounts>
/// `unchanged` counts interactions already stored (same customer, kind, time and subject);
/// `updated` is always 0: an import does not edit what happened.
public typealias InteractionImportReport = ImportReport<NoExtraCounts>
