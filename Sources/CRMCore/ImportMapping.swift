import Foundation

/// A field a CSV column can fill, in one kind of import (customers, orders, products).
public protocol ImportField: Hashable, Sendable, CustomStringConvertible {
    /// Header names recognised without a saved mapping, compared by `ImportMapping.headerKey`.
    static var synonyms: [Self: [String]] { get }
    /// Fields a file must have a column for.
    static var required: [Self] { get }
    /// The field a mapping names (`email`, `custom.preferred_store`).
    init?(named text: String)
    /// The column of an admin-defined custom field, for imports that have them.
    static func custom(_ key: String) -> Self?
    var customKey: String? { get }
}

extension ImportField {
    public static func custom(_ key: String) -> Self? { nil }
    public var customKey: String? { nil }

    public init?(named text: String) {
        if text.hasPrefix("custom."), let field = Self.custom(String(text.dropFirst(7))) { self = field; return }
        guard let field = Self.synonyms.keys.first(where: { $0.description == text }) else { return nil }
        self = field
    }
}

/// Which column fills which field. Built from the headers automatically, then adjusted by
/// an explicit mapping (a saved profile, or `--map header=field` on the command line).
public struct ImportMapping<Field: ImportField>: Sendable, Equatable {
    /// Column index → field; columns without a field are ignored (and reported).
    public private(set) var fields: [Int: Field]
    public let headers: [String]
    /// Field → column index, the other way round (read for every cell of every row).
    private var columns: [Field: Int] = [:]

    /// - Parameters:
    ///   - explicit: header → field name (`"手机" : "phone"`), overriding recognition; a field
    ///     name of `""` ignores the column.
    public init(headers: [String], explicit: [String: String] = [:], customFields: [CustomFieldDefinition] = []) throws(DomainError) {
        self.headers = headers
        var fields: [Int: Field] = [:]
        var v = Validator()
        let explicitByKey = Dictionary(explicit.map { (Self.headerKey($0.key), $0.value) }, uniquingKeysWith: { a, _ in a })
        for key in explicit.keys where !headers.contains(where: { Self.headerKey($0) == Self.headerKey(key) }) {
            v.add("/mapping/\(key)", "names a column the file does not have (its columns: \(headers.joined(separator: ", ")))")
        }
        for (i, header) in headers.enumerated() {
            let key = Self.headerKey(header)
            if let named = explicitByKey[key] {
                if named.isEmpty { continue }
                guard let field = Field(named: named) else {
                    v.add("/mapping/\(header)", "is not a field of this import (\(named))")
                    continue
                }
                fields[i] = field
                continue
            }
            if let field = Self.recognised(header, customFields: customFields) { fields[i] = field }
        }
        for (field, columns) in Dictionary(grouping: fields.keys, by: { fields[$0]! }) where columns.count > 1 {
            let names = columns.sorted().map { headers[$0] }.joined(separator: ", ")
            v.add("/mapping", "columns \(names) all fill \(field); map all but one to \"\" to ignore them")
        }
        for field in Field.required where !fields.values.contains(field) {
            v.add("/columns/\(field)", "is required: the file has no \(field) column (its columns: \(headers.joined(separator: ", ")))")
        }
        for key in fields.values.compactMap(\.customKey) where !customFields.contains(where: { $0.key == key }) {
            v.add("/mapping/custom.\(key)", "is not a defined custom field")
        }
        try v.check()
        self.fields = fields
        columns = Dictionary(fields.map { ($0.value, $0.key) }, uniquingKeysWith: min)
    }

    /// The field a header fills without an explicit mapping: a synonym in English or Chinese,
    /// or a custom field's key or label; nil when the column would be ignored.
    public static func recognised(_ header: String, customFields: [CustomFieldDefinition] = []) -> Field? {
        let key = headerKey(header)
        if let (field, _) = Field.synonyms.first(where: { $0.value.contains(key) }) { return field }
        if let def = customFields.first(where: { headerKey($0.key) == key || headerKey($0.label) == key || $0.labelZh.map(headerKey) == key }) {
            return Field.custom(def.key)
        }
        return nil
    }

    /// Every field a column can be mapped to, by the name a mapping uses, required ones first.
    public static func fieldNames(customFields: [CustomFieldDefinition] = []) -> [String] {
        let required = Field.required.map(\.description)
        let others = Field.synonyms.keys.map(\.description).filter { !required.contains($0) }.sorted()
        return required + others + customFields.compactMap { Field.custom($0.key)?.description }
    }

    /// Headers that fill no field, for the report (never silently dropped).
    public var ignoredHeaders: [String] {
        headers.indices.filter { fields[$0] == nil }.map { headers[$0] }
    }

    public func column(of field: Field) -> Int? { columns[field] }

    /// The column a problem with `field` is reported under: its header, or the field's name.
    public func header(of field: Field) -> String {
        column(of: field).map { headers[$0] } ?? field.description
    }

    /// Headers compared without case, width, spaces, `_`, `-` or `.`.
    public static func headerKey(_ header: String) -> String {
        Normalise.searchKey(header).filter { $0 != "_" && $0 != "-" && $0 != "." }
    }
}

/// One row's cells by field, collecting the row's problems as they are found.
public struct ImportCells<Field: ImportField> {
    let values: [String]
    let row: Int
    let mapping: ImportMapping<Field>
    public var problems: [ImportProblem] = []

    public init(_ values: [String], row: Int, mapping: ImportMapping<Field>) {
        self.values = values; self.row = row; self.mapping = mapping
    }

    /// A row whose number of fields is not the header's: nothing in it can be trusted.
    public var wrongWidth: ImportProblem? {
        values.count == mapping.headers.count ? nil
            : ImportProblem(row: row, column: "", value: "", reason: "has \(values.count) fields where the header has \(mapping.headers.count)")
    }

    /// The trimmed cell, nil when empty or when the file has no such column.
    public func value(_ field: Field) -> String? {
        guard let i = mapping.column(of: field), i < values.count else { return nil }
        var v = Normalise.trimmed(values[i])
        // A leading ' keeps a spreadsheet from reading +86… or =… as a formula; it is not data.
        if v.count > 1, v.hasPrefix("'"), let next = v.dropFirst().first, "=+-@".contains(next) { v.removeFirst() }
        return v.isEmpty ? nil : v
    }

    public mutating func problem(_ field: Field, _ reason: String) {
        let i = mapping.column(of: field)
        problems.append(ImportProblem(row: row, column: mapping.header(of: field),
                                      value: i.flatMap { $0 < values.count ? values[$0] : nil } ?? "", reason: reason))
    }
}
