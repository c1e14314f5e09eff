import CRMCore
import Plot

/// The second step of an upload: each column of the file with the field it will fill
/// (recognised from its header in English or Chinese), changeable before the import starts.
public struct ImportMappingPage: Sendable {
    public struct Column: Sendable {
        public var header: String
        /// The recognised field's name, or "" when the column would be ignored.
        public var field: String
        /// The first row's value, to recognise the column by.
        public var sample: String

        public init(header: String, field: String, sample: String) { self.header = header; self.field = field; self.sample = sample }
    }

    public var upload: String
    public var kind: ImportPage.Kind
    public var fileName: String
    public var columns: [Column]
    public var fieldNames: [String]
    public var requiredFields: [String]
    public var dryRun: Bool
    public var problem: String?

    public init(upload: String, kind: ImportPage.Kind, fileName: String, columns: [Column], fieldNames: [String], requiredFields: [String],
                dryRun: Bool, problem: String? = nil) {
        self.upload = upload; self.kind = kind; self.fileName = fileName; self.columns = columns; self.fieldNames = fieldNames
        self.requiredFields = requiredFields; self.dryRun = dryRun; self.problem = problem
    }

    public func render(_ context: PageContext) -> String {
        let s = context.strings
        return Layout.page(s[.columnMapping], context, section: .imports, [
            .h1(.text(s[.columnMapping] + " · " + ImportPage.label(kind, s))),
            .p(.class("muted"), .text(fileName + " · " + s[.mappingExplained] + " " + s[.requiredColumns] + ": " + requiredFields.joined(separator: ", "))),
            .unwrap(problem) { .p(.class("error"), .id("mapping-problem"), .attribute(named: "role", value: "alert"), .text($0)) },
            .form(.class("card"), .id("mapping-form"), .action("/imports/start"), .method(.post),
                  Layout.hiddenCSRF(context),
                  .input(.type(.hidden), .name("upload"), .value(upload.attributeEscaped)),
                  .div(.class("scroll"), .table(.class("responsive"), .id("mapping-table"),
                    .thead(.tr(.th(.text(s[.column])), .th(.text(s[.sampleValue])), .th(.text(s[.fillsField])))),
                    .tbody(.forEach(Array(columns.enumerated())) { i, column in
                        .tr(.td(.attribute(named: "data-label", value: s[.column]), .element(named: "b", text: column.header)),
                            .td(.attribute(named: "data-label", value: s[.sampleValue]), .text(column.sample)),
                            .td(.attribute(named: "data-label", value: s[.fillsField]),
                                FormElements.select(id: "map-\(i)", name: "map.\(i)",
                                                    [("", s[.ignoreColumn], column.field.isEmpty)] + fieldNames.map { ($0, $0, $0 == column.field) })))
                    }))),
                  .p(.button(.type(.submit), .id("start-import"), .text(dryRun ? s[.startDryRun] : s[.startImport])), .text(" "),
                     .a(.href("/imports"), .text(s[.cancel])))),
        ]).document
    }
}
