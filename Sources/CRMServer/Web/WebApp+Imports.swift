import CRMCore
import CRMStore
import CRMWeb
import Foundation
import Hummingbird
import Synchronization

/// The import pages: an upload form (multipart), then the job's progress and result.
extension WebApp {
    /// A browser upload is a customer list or a price list, read into memory to split the
    /// form; the API (`POST /api/v1/imports/…`) streams files of any size.
    static let uploadLimit = 64 << 20

    func registerImports(on router: Router<BasicRequestContext>) {
        router.get("/imports") { request, _ in
            try await signedIn(request) { visit, _ in html(ImportPage().render(visit.page), visit) }
        }
        router.post("/imports") { request, _ in try await signedIn(request) { visit, actor in try await upload(request, visit, actor) } }
        router.post("/imports/start") { request, _ in try await signedIn(request) { visit, actor in try await startImport(request, visit, actor) } }
        router.get("/imports/:id") { request, context in
            try await signedIn(request) { visit, actor in
                let job = try imports.job(try context.parameters.require("id", as: Int64.self), for: actor)
                var view = Self.jobView(job)
                view.problems = view.problems.map { p in
                    var p = p
                    p.reason = WebMessages.reason(p.reason, visit.page.strings)
                    return p
                }
                return html(ImportPage(job: view).render(visit.page), visit)
            }
        }
        router.get("/imports/:id/errors.csv") { request, context in
            try await signedIn(request) { _, actor in
                let id = try context.parameters.require("id", as: Int64.self)
                let data = try imports.errorReport(id, for: actor)
                var headers = Self.securityHeaders
                headers[.contentType] = "text/csv; charset=utf-8"
                headers[.contentDisposition] = "attachment; filename=\"import-\(id)-errors.csv\""
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
        }
    }

    /// Step one: keep the file and show its columns with the fields they will fill.
    func upload(_ request: Request, _ visit: Visit, _ actor: Actor) async throws -> Response {
        var request = request
        guard let contentType = request.headers[.contentType], let boundary = MultipartForm.boundary(contentType) else {
            throw Refusal.badRequest("send the form as multipart/form-data")
        }
        let body = try await request.collectBody(upTo: Self.uploadLimit)
        let form = try MultipartForm(Array(buffer: body), boundary: boundary)
        // (The token is inside the multipart body, so it can only be checked once the body is split.)
        guard let token = form.text(csrfFieldName), Self.constantTimeEqual(token, visit.page.csrfToken) else { throw Refusal.csrf }
        guard let file = form.file("file"), !file.isEmpty else {
            return html(ImportPage(problem: visit.page.strings[.noFileChosen]).render(visit.page), status: .badRequest, visit)
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("crm-upload-\(UUID().uuidString).csv").path
        guard FileManager.default.createFile(atPath: path, contents: Data(file)) else { throw Refusal.badRequest("the upload could not be stored") }
        let pending = PendingUploads.Upload(path: path, fileName: form.fileName("file") ?? "upload.csv",
                                            kind: ImportPage.Kind(rawValue: form.text("kind") ?? "") ?? .customers,
                                            mode: CustomerImportOptions.Mode(rawValue: form.text("mode") ?? "") ?? .validRows,
                                            dryRun: form.text("dryRun") != nil, userID: actor.userID, at: Date())
        do {
            let page = try await mappingPage(uploads.add(pending), pending, explicit: nil)
            return html(page.render(visit.page), visit)
        } catch let error as ImportFileError {
            uploads.discard(pending)
            return html(ImportPage(problem: error.description).render(visit.page), status: .badRequest, visit)
        }
    }

    /// The mapping page for an upload: recognised fields, or the ones the user chose.
    func mappingPage(_ token: String, _ upload: PendingUploads.Upload, explicit: [String: String]?, problem: String? = nil) async throws -> ImportMappingPage {
        let source = try await CPUWork.run { try CSVRowSource(path: upload.path, encoding: .auto) }
        let first = (try? source.next(1).first?.values) ?? []
        let customFields = upload.kind == .customers ? try await store.customFields.list() : []
        func page<Field: ImportField>(_: Field.Type) -> ImportMappingPage {
            let columns = source.header.enumerated().map { i, header in
                ImportMappingPage.Column(header: header,
                                         field: explicit?[header] ?? ImportMapping<Field>.recognised(header, customFields: customFields)?.description ?? "",
                                         sample: i < first.count ? first[i] : "")
            }
            return ImportMappingPage(upload: token, kind: upload.kind, fileName: upload.fileName, columns: columns,
                                     fieldNames: ImportMapping<Field>.fieldNames(customFields: customFields),
                                     requiredFields: Field.required.map(\.description), dryRun: upload.dryRun, problem: problem)
        }
        return switch upload.kind {
        case .customers: page(CustomerImportField.self)
        case .orders: page(OrderImportField.self)
        case .products: page(ProductImportField.self)
        case .interactions: page(InteractionImportField.self)
        }
    }

    /// Step two: start the import with the columns as mapped.
    func startImport(_ request: Request, _ visit: Visit, _ actor: Actor) async throws -> Response {
        let form = try await self.form(request, visit)
        guard let token = form["upload"], let upload = uploads.upload(token, for: actor.userID) else {
            return html(ImportPage(problem: visit.page.strings[.uploadExpired]).render(visit.page), status: .gone, visit)
        }
        let headers = try await CPUWork.run { try CSVRowSource(path: upload.path, encoding: .auto).header }
        var mapping: [String: String] = [:]
        for (i, header) in headers.enumerated() { mapping[header] = form["map.\(i)"] ?? "" }
        // The job takes (and in the end deletes) a copy, so a refused mapping keeps the upload.
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("crm-upload-\(UUID().uuidString).csv").path
        try FileManager.default.copyItem(atPath: upload.path, toPath: path)
        let mode = upload.mode, dryRun = upload.dryRun
        do {
            let job: ImportJobs.Job
            switch upload.kind {
            case .customers:
                let options = CustomerImportOptions(mode: mode, dryRun: dryRun, matchOn: [.externalID], mapping: mapping,
                                                    defaults: CustomerImportDefaults(countryCode: configuration.defaultCountryCode),
                                                    ownerID: actor.role == .sales ? actor.userID : nil)
                job = try await imports.start(upload: path, encoding: .auto, options: options, by: actor)
            case .orders:
                job = try await imports.start(upload: path, encoding: .auto, options: OrderImportOptions(mode: mode, dryRun: dryRun, mapping: mapping), by: actor)
            case .products:
                job = try await imports.start(upload: path, encoding: .auto, mode: mode, dryRun: dryRun, mapping: mapping, currency: .cny, by: actor)
            case .interactions:
                job = try await imports.start(upload: path, encoding: .auto, mode: mode, dryRun: dryRun, mapping: mapping,
                                              timeZone: businessTimeZone, by: actor)
            }
            uploads.forget(token)
            uploads.discard(upload)
            return redirect("/imports/\(job.id)")
        } catch let error as DomainError {
            guard case .invalid = error else { throw error }
            let page = try await mappingPage(token, upload, explicit: mapping, problem: WebMessages.describe(error, visit.page.strings))
            return html(page.render(visit.page), status: .badRequest, visit)
        }
    }

    static func jobView(_ job: ImportJobs.Job) -> ImportPage.Job {
        var view = ImportPage.Job(id: job.id, kind: ImportPage.Kind(rawValue: job.kind.rawValue) ?? .customers,
                                  status: ImportPage.Job.Status(rawValue: job.status.rawValue) ?? .failed,
                                  rowsRead: job.rowsRead, estimatedRows: job.estimatedRows, error: job.error)
        if let report = job.report as? any ImportReportFigures {
            view.created = report.created; view.updated = report.updated; view.unchanged = report.unchanged
            view.rejected = report.failed; view.committed = report.committed; view.dryRun = report.dryRun
            view.problems = report.problems
        }
        return view
    }
}

/// What every import's report says, whatever its kind (the job keeps it type-erased).
protocol ImportReportFigures {
    var created: Int { get }
    var updated: Int { get }
    var unchanged: Int { get }
    var failed: Int { get }
    var committed: Bool { get }
    var dryRun: Bool { get }
    var problems: [ImportProblem] { get }
}

extension ImportReport: ImportReportFigures {}

/// A `multipart/form-data` body split into its fields and files (RFC 7578).
struct MultipartForm {
    struct Part {
        var name: String
        var filename: String?
        var content: ArraySlice<UInt8>
    }

    var parts: [Part] = []

    static func boundary(_ contentType: String) -> String? {
        guard contentType.lowercased().hasPrefix("multipart/form-data") else { return nil }
        for parameter in contentType.split(separator: ";").dropFirst() {
            let kv = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, kv[0].lowercased() == "boundary" { return kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        return nil
    }

    init(_ body: [UInt8], boundary: String) throws {
        // Each delimiter but the first follows a CRLF, so "--boundary" inside a file's own
        // lines is not taken for one.
        let delimiter = Array(("--" + boundary).utf8)
        let inner = [13, 10] + delimiter
        var positions: [Int] = []
        if body.starts(with: delimiter) { positions.append(0) } else if let first = Self.find(inner, in: body, from: 0) { positions.append(first + 2) }
        var i = (positions.first ?? body.count) + delimiter.count
        while let found = Self.find(inner, in: body, from: i) {
            positions.append(found + 2)
            i = found + inner.count
        }
        guard positions.count >= 2 else { throw WebApp.Refusal.badRequest("the upload is not a complete multipart form") }
        for (start, end) in zip(positions, positions.dropFirst()) {
            var partStart = start + delimiter.count
            // Skip the CRLF after the delimiter; the part ends before the CRLF preceding the next one.
            if partStart + 1 < body.count, body[partStart] == 13, body[partStart + 1] == 10 { partStart += 2 }
            var partEnd = end
            if partEnd >= 2, body[partEnd - 2] == 13, body[partEnd - 1] == 10 { partEnd -= 2 }
            guard partStart <= partEnd, let headerEnd = Self.find([13, 10, 13, 10], in: body, from: partStart), headerEnd + 4 <= partEnd else { continue }
            let headers = String(decoding: body[partStart..<headerEnd], as: UTF8.self)
            guard let disposition = headers.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-disposition") }) else { continue }
            let name = Self.parameter("name", in: String(disposition)) ?? ""
            parts.append(Part(name: name, filename: Self.parameter("filename", in: String(disposition)), content: body[(headerEnd + 4)..<partEnd]))
        }
    }

    static func parameter(_ key: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let kv = piece.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if kv.count == 2, kv[0].lowercased() == key { return kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
        }
        return nil
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var i = start
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    func text(_ name: String) -> String? {
        parts.first { $0.name == name && $0.filename == nil }.map { String(decoding: $0.content, as: UTF8.self) }
    }

    func file(_ name: String) -> ArraySlice<UInt8>? {
        parts.first { $0.name == name && $0.filename != nil }?.content
    }

    func fileName(_ name: String) -> String? {
        parts.first { $0.name == name && $0.filename != nil }?.filename
    }
}

/// Files uploaded through the page and waiting for their column mapping. Each belongs to the
/// user who sent it; one left for an hour is deleted.
final class PendingUploads: Sendable {
    struct Upload: Sendable {
        var path: String
        var fileName: String
        var kind: ImportPage.Kind
        var mode: CustomerImportOptions.Mode
        var dryRun: Bool
        var userID: User.ID
        var at: Date
    }

    static let keptFor: TimeInterval = 3600
    private let state = Mutex<[String: Upload]>([:])

    /// Keeps the upload under a new unguessable token (and clears out stale ones).
    func add(_ upload: Upload) -> String {
        let token = UUID().uuidString
        let stale = state.withLock { uploads -> [Upload] in
            let old = uploads.filter { upload.at.timeIntervalSince($0.value.at) > Self.keptFor }
            for key in old.keys { uploads[key] = nil }
            uploads[token] = upload
            return Array(old.values)
        }
        for old in stale { try? FileManager.default.removeItem(atPath: old.path) }
        return token
    }

    func upload(_ token: String, for user: User.ID) -> Upload? {
        state.withLock { $0[token] }.flatMap { $0.userID == user ? $0 : nil }
    }

    /// The import has started (with its own copy of the file).
    func forget(_ token: String) { _ = state.withLock { $0.removeValue(forKey: token) } }

    func discard(_ upload: Upload) { try? FileManager.default.removeItem(atPath: upload.path) }
}
