import CRMCore
import CRMStore
import Foundation
import Logging
import Synchronization

/// Imports started through the API. The uploaded file is streamed to a temporary file and
/// imported in the background; the job's progress and report are kept in memory (until the
/// server restarts), its error report as a temporary file.
public final class ImportJobs: Sendable {
    public enum Status: String, Sendable, Codable {
        case running, finished, failed
    }

    /// What a job imports.
    public enum Kind: String, Sendable, Codable {
        case customers, products, orders, interactions
    }

    public struct Job: Sendable {
        public var id: Int64
        public var kind: Kind
        public var startedBy: User.ID
        public var status: Status
        public var rowsRead: Int
        public var estimatedRows: Int
        public var startedAt: Date
        /// The import's report (an `ImportReport` of the job's kind).
        public var report: (any Encodable & Sendable)?
        public var error: String?
        var errorFile: String
    }

    let store: Store
    let logger: Logger
    private let state = Mutex<(next: Int64, jobs: [Int64: Job])>((1, [:]))

    public init(store: Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Error reports are kept for download while the server runs, and go with it.
    deinit {
        for job in state.withLock({ Array($0.jobs.values) }) { try? FileManager.default.removeItem(atPath: job.errorFile) }
    }

    /// The importer a job runs: the file, where refused rows go, progress (rows read, estimated rows).
    public typealias Run<Counts: ImportCounts> = @Sendable (CSVRowSource, _ problems: @escaping @Sendable ([ImportProblem]) throws -> Void,
                                                           _ progress: @escaping @Sendable (Int, Int) -> Void) async throws -> ImportReport<Counts>

    /// Checks the file's header and the mapping at once (`checkHeader`, so a file that cannot
    /// be imported at all is refused with 400), then imports in the background.
    public func start<Counts>(_ kind: Kind, upload path: String, encoding: TextEncoding, by actor: Actor,
                              checkHeader: ([String]) async throws -> Void, run: @escaping Run<Counts>) async throws -> Job {
        let source: CSVRowSource
        do {
            // Opening counts the file's lines (and converts GB18030): a pass over up to 2 GB.
            source = try await CPUWork.run { try CSVRowSource(path: path, encoding: encoding) }
        } catch let error as ImportFileError {
            try? FileManager.default.removeItem(atPath: path)
            throw ProblemDetails.malformed(error.description, pointer: "/body")
        }
        do {
            try await checkHeader(source.header)
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("crm-import-errors-\(UUID().uuidString).csv").path
        let problems = try ImportProblemFile(path: errorFile)
        let job = state.withLock { state -> Job in
            let job = Job(id: state.next, kind: kind, startedBy: actor.userID, status: .running, rowsRead: 0, estimatedRows: source.estimatedRows,
                          startedAt: Date(), errorFile: errorFile)
            state.jobs[job.id] = job
            state.next += 1
            return job
        }
        let id = job.id
        Task {
            defer {
                problems.close()
                try? FileManager.default.removeItem(atPath: path)
            }
            do {
                let report = try await run(source, { problems.write($0) }, { [weak self] done, _ in self?.update(id) { $0.rowsRead = done } })
                update(id) { $0.status = .finished; $0.report = report; $0.rowsRead = report.rows }
            } catch {
                logger.error("import failed", metadata: ["job": "\(id)", "error": "\(error)"])
                update(id) { $0.status = .failed; $0.error = Self.describe(error) }
            }
        }
        return job
    }

    /// A customer import.
    public func start(upload path: String, encoding: TextEncoding, options: CustomerImportOptions, by actor: Actor) async throws -> Job {
        try AccessPolicy.require(actor, .createCustomer)
        let store = store
        return try await start(.customers, upload: path, encoding: encoding, by: actor, checkHeader: { header in
            _ = try CustomerImportMapping(headers: header, explicit: options.mapping, customFields: try await store.customFields.list())
        }, run: { source, problems, progress in
            try await store.customerImport.run(source, options: options, by: actor, problems: problems, progress: progress)
        })
    }

    /// An order-lines import.
    public func start(upload path: String, encoding: TextEncoding, options: OrderImportOptions, by actor: Actor) async throws -> Job {
        try AccessPolicy.require(actor, .writeRecord(.order, customerOwnerID: actor.userID))
        let store = store
        return try await start(.orders, upload: path, encoding: encoding, by: actor, checkHeader: { header in
            _ = try OrderImportMapping(headers: header, explicit: options.mapping)
        }, run: { source, problems, progress in
            try await store.orderImport.run(source, options: options, by: actor, problems: problems, progress: progress)
        })
    }

    /// A contact-history import.
    public func start(upload path: String, encoding: TextEncoding, mode: CustomerImportOptions.Mode, dryRun: Bool, mapping: [String: String],
                      timeZone: TimeZone, by actor: Actor) async throws -> Job {
        let store = store
        return try await start(.interactions, upload: path, encoding: encoding, by: actor, checkHeader: { header in
            _ = try InteractionImportMapping(headers: header, explicit: mapping)
        }, run: { source, problems, progress in
            try await store.interactionImport.run(source, mode: mode, dryRun: dryRun, mapping: mapping, timeZone: timeZone,
                                                               by: actor, problems: problems, progress: progress)
        })
    }

    /// A product (price list) import.
    public func start(upload path: String, encoding: TextEncoding, mode: CustomerImportOptions.Mode, dryRun: Bool, mapping: [String: String],
                      currency: Currency, by actor: Actor) async throws -> Job {
        try AccessPolicy.require(actor, .writeProducts)
        let store = store
        return try await start(.products, upload: path, encoding: encoding, by: actor, checkHeader: { header in
            _ = try ProductImportMapping(headers: header, explicit: mapping)
        }, run: { source, problems, progress in
            try await store.productImport.run(source, mode: mode, dryRun: dryRun, mapping: mapping, defaultCurrency: currency,
                                                           by: actor, problems: problems, progress: progress)
        })
    }

    /// The job, if `actor` started it or may read every import (managers and admins).
    public func job(_ id: Int64, for actor: Actor) throws -> Job {
        guard let job = state.withLock({ $0.jobs[id] }),
              job.startedBy == actor.userID || AccessPolicy.allows(actor, .readAudit) else {
            throw DomainError.notFound(entity: "import", id: "\(id)")
        }
        return job
    }

    public func errorReport(_ id: Int64, for actor: Actor) throws -> Data {
        let job = try job(id, for: actor)
        return FileManager.default.contents(atPath: job.errorFile) ?? Data()
    }

    private func update(_ id: Int64, _ change: (inout Job) -> Void) {
        state.withLock { state in
            if var job = state.jobs[id] {
                change(&job)
                state.jobs[id] = job
            }
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let e as ImportFileError: e.description
        case let e as DomainError: ProblemDetails(e).detail ?? "\(e)"
        default: "the import stopped: \(error)"
        }
    }
}
