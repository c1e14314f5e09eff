import CRMAPI
import CRMAnalytics
import CRMCore
import CRMStore
import Foundation
import OpenAPIRuntime

/// Getting data in and out: import jobs, export, duplicates, merge and undo.
extension APIImplementation {
    /// Uploads above this are refused: a CRM import is a customer list, not a data dump.
    static let maxUploadBytes = 2 << 30

    func startCustomerImport(_ input: Operations.StartCustomerImport.Input) async throws -> Operations.StartCustomerImport.Output {
        let actor = try actor()
        try AccessPolicy.require(actor, .createCustomer)
        let q = input.query
        var mapping: [String: String] = [:]
        if let profile = q.profile {
            guard let saved = try await store.importProfiles.mapping(named: profile) else {
                throw DomainError.invalid("/query/profile", "no mapping profile is called \(profile)")
            }
            mapping = saved
        }
        mapping.merge(try Self.mapping(q.map), uniquingKeysWith: { _, new in new })
        if let name = q.saveProfile { try await store.importProfiles.save(name, mapping: mapping, by: actor) }
        if let days = q.followUpDays, !(0...365).contains(days) { throw DomainError.invalid("/query/followUpDays", "must be 0 to 365") }
        let options = CustomerImportOptions(
            mode: Self.mode(q.mode), dryRun: q.dryRun ?? false,
            matchOn: [.externalID] + (q.match ?? []).compactMap { CustomerImportOptions.MatchKey(rawValue: $0.rawValue) },
            mapping: mapping,
            defaults: CustomerImportDefaults(roles: q.roles.map { $0.compactMap { CustomerRole(rawValue: $0.rawValue) } } ?? [.customer],
                                             source: q.source, tags: q.tags ?? [], countryCode: configuration.defaultCountryCode),
            ownerID: q.ownerID.map(User.ID.init),
            followUp: q.followUp.map { CustomerImportOptions.FollowUp(title: $0, dueInDays: q.followUpDays ?? 3) })
        guard case .csv(let body) = input.body else { throw ProblemDetails.malformed("send the CSV file as the body (text/csv)", pointer: "/body") }
        let path = try await Self.receive(body)
        let encoding = Self.encoding(q.encoding)
        let job = try await imports.start(upload: path, encoding: encoding, options: options, by: actor)
        return .accepted(.init(body: .json(try Transcode.convert(JobJSON(job)))))
    }

    func startOrderImport(_ input: Operations.StartOrderImport.Input) async throws -> Operations.StartOrderImport.Output {
        let actor = try actor()
        try AccessPolicy.require(actor, .writeRecord(.order, customerOwnerID: actor.userID))
        let q = input.query
        let options = OrderImportOptions(mode: Self.mode(q.mode), dryRun: q.dryRun ?? false,
                                         mapping: try Self.mapping(q.map), defaultCurrency: try Self.currency(q.currency))
        guard case .csv(let body) = input.body else { throw ProblemDetails.malformed("send the CSV file as the body (text/csv)", pointer: "/body") }
        let path = try await Self.receive(body)
        let job = try await imports.start(upload: path, encoding: Self.encoding(q.encoding),
                                          options: options, by: actor)
        return .accepted(.init(body: .json(try Transcode.convert(JobJSON(job)))))
    }

    func startProductImport(_ input: Operations.StartProductImport.Input) async throws -> Operations.StartProductImport.Output {
        let actor = try actor()
        try AccessPolicy.require(actor, .writeProducts)
        let q = input.query
        let mapping = try Self.mapping(q.map)
        let currency = try Self.currency(q.currency)
        guard case .csv(let body) = input.body else { throw ProblemDetails.malformed("send the CSV file as the body (text/csv)", pointer: "/body") }
        let path = try await Self.receive(body)
        let job = try await imports.start(upload: path, encoding: Self.encoding(q.encoding),
                                          mode: Self.mode(q.mode), dryRun: q.dryRun ?? false,
                                          mapping: mapping, currency: currency, by: actor)
        return .accepted(.init(body: .json(try Transcode.convert(JobJSON(job)))))
    }

    func startInteractionImport(_ input: Operations.StartInteractionImport.Input) async throws -> Operations.StartInteractionImport.Output {
        let actor = try actor()
        let q = input.query
        let mapping = try Self.mapping(q.map)
        let zone = try q.timeZone.map { name in
            guard let zone = TimeZone(identifier: name) else { throw DomainError.invalid("/query/timeZone", "no time zone is called \(name)") }
            return zone
        } ?? TimeZone(identifier: "Asia/Shanghai")!
        guard case .csv(let body) = input.body else { throw ProblemDetails.malformed("send the CSV file as the body (text/csv)", pointer: "/body") }
        let path = try await Self.receive(body)
        let job = try await imports.start(upload: path, encoding: Self.encoding(q.encoding),
                                          mode: Self.mode(q.mode), dryRun: q.dryRun ?? false,
                                          mapping: mapping, timeZone: zone, by: actor)
        return .accepted(.init(body: .json(try Transcode.convert(JobJSON(job)))))
    }

    /// The `encoding` query parameter (each import operation has its own generated enum of it).
    static func encoding<E: RawRepresentable<String>>(_ given: E?) -> TextEncoding {
        given.flatMap { TextEncoding(rawValue: $0.rawValue) } ?? .auto
    }

    /// The `mode` query parameter: valid rows unless all-or-nothing is asked for.
    static func mode<E: RawRepresentable<String>>(_ given: E?) -> CustomerImportOptions.Mode {
        given.flatMap { CustomerImportOptions.Mode(rawValue: $0.rawValue) } ?? .validRows
    }

    /// `header=field` pairs from the query.
    static func mapping(_ pairs: [String]?) throws -> [String: String] {
        var mapping: [String: String] = [:]
        for pair in pairs ?? [] {
            guard let eq = pair.firstIndex(of: "=") else { throw DomainError.invalid("/query/map", "\(pair) is not header=field") }
            mapping[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        return mapping
    }

    static func currency(_ code: String?) throws -> Currency {
        guard let code else { return .cny }
        guard let currency = Currency(code) else { throw DomainError.invalid("/query/currency", "is not an ISO 4217 code (CNY, USD …)") }
        return currency
    }

    /// The uploaded file, streamed to a temporary file: memory stays flat whatever its size.
    static func receive(_ body: HTTPBody) async throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("crm-upload-\(UUID().uuidString).csv").path
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw ProblemDetails.internalError
        }
        var size = 0
        do {
            for try await chunk in body {
                size += chunk.count
                if size > Self.maxUploadBytes { throw ProblemDetails.malformed("the file is larger than 2 GiB", pointer: "/body") }
                handle.write(Data(chunk))
            }
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
        return path
    }

    func getImportJob(_ input: Operations.GetImportJob.Input) async throws -> Operations.GetImportJob.Output {
        let job = try imports.job(input.path.jobID, for: try actor())
        return .ok(.init(body: .json(try Transcode.convert(JobJSON(job)))))
    }

    func getImportErrors(_ input: Operations.GetImportErrors.Input) async throws -> Operations.GetImportErrors.Output {
        let data = try imports.errorReport(input.path.jobID, for: try actor())
        return .ok(.init(body: .csv(HTTPBody(Array(data)))))
    }

    struct JobJSON: Encodable {
        let job: ImportJobs.Job

        init(_ job: ImportJobs.Job) { self.job = job }

        enum Keys: String, CodingKey { case id, kind, status, rowsRead, estimatedRows, startedAt, report, error }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(job.id, forKey: .id)
            try c.encode(job.kind, forKey: .kind)
            try c.encode(job.status, forKey: .status)
            try c.encode(job.rowsRead, forKey: .rowsRead)
            try c.encode(job.estimatedRows, forKey: .estimatedRows)
            try c.encode(job.startedAt, forKey: .startedAt)
            if let report = job.report { try c.encode(report, forKey: .report) }
            try c.encodeIfPresent(job.error, forKey: .error)
        }
    }

    func exportCustomers(_ input: Operations.ExportCustomers.Input) async throws -> Operations.ExportCustomers.Output {
        let actor = try actor()
        let q = input.query
        let query = CustomerRepository.Query(
            role: q.role.flatMap { CustomerRole(rawValue: $0.rawValue) }, tag: q.tag, ownerID: q.ownerID.map(User.ID.init),
            kind: q.kind.flatMap { Customer.Kind(rawValue: $0.rawValue) }, updatedSince: q.updatedSince, includeArchived: q.includeArchived ?? false,
            tier: q.tier.flatMap { CustomerTier(rawValue: $0.rawValue) }, rfmSegment: q.rfmSegment.flatMap { RFMSegment(rawValue: $0.rawValue) },
            churnRisk: q.churnRisk.flatMap { ChurnRiskLevel(rawValue: $0.rawValue) })
        let format: CustomerExporter.Format = q.format == .jsonl ? .jsonl : .csv
        let chunks = try store.customerExport.chunks(query, format: format, by: actor)
        let body = HTTPBody(chunks.map { ArraySlice($0) }, length: .unknown, iterationBehavior: .single)
        return .ok(.init(body: format == .csv ? .csv(body) : .applicationJsonl(body)))
    }

    func listDuplicates(_ input: Operations.ListDuplicates.Input) async throws -> Operations.ListDuplicates.Output {
        let actor = try actor()
        let minScore = input.query.minScore ?? 0.5
        guard (0...1).contains(minScore) else { throw DomainError.invalid("/query/minScore", "must be from 0 to 1") }
        let limit = min(max(input.query.limit ?? 50, 1), 500)
        let pairs = try await store.duplicates.scan(minScore: minScore, by: actor)
        let shown = Array(pairs.prefix(limit))
        let names = try await store.duplicates.names(shown.flatMap { [$0.first, $0.second] })
        let items = try shown.map { p in
            try Transcode.convert(PairJSON(first: .init(id: p.first.rawValue, name: names[p.first] ?? ""),
                                           second: .init(id: p.second.rawValue, name: names[p.second] ?? ""),
                                           reasons: p.reasons.map(\.rawValue), score: p.score, nameSimilarity: p.nameSimilarity),
                                  to: Schemas.DuplicatePair.self)
        }
        return .ok(.init(body: .json(.init(items: items, total: pairs.count))))
    }

    struct PairJSON: Encodable {
        struct Ref: Encodable { var id: Int64; var name: String }
        var first: Ref
        var second: Ref
        var reasons: [String]
        var score: Double
        var nameSimilarity: Double?
    }

    func mergeCustomer(_ input: Operations.MergeCustomer.Input) async throws -> Operations.MergeCustomer.Output {
        let actor = try actor()
        guard case .json(let request) = input.body else { throw ProblemDetails.malformed("send a JSON body", pointer: "/body") }
        var choices: [String: CustomerMerge.Side] = [:]
        for (field, side) in request.choices?.additionalProperties ?? [:] {
            choices[field] = CustomerMerge.Side(rawValue: side.rawValue)
        }
        let (merge, customer) = try await store.merges.merge(survivor: Customer.ID(input.path.customerID), merged: Customer.ID(request.mergedID),
                                                             choices: choices, by: actor)
        return .ok(.init(headers: .init(eTag: Self.etag(customer.version)),
                         body: .json(try Transcode.convert(MergeJSON(merge: merge, customer: customer)))))
    }

    struct MergeJSON: Encodable {
        var merge: CustomerMerge
        var customer: Customer
    }

    func listCustomerMerges(_ input: Operations.ListCustomerMerges.Input) async throws -> Operations.ListCustomerMerges.Output {
        _ = try actor()
        let merges = try await store.merges.merges(of: Customer.ID(input.path.customerID))
        return .ok(.init(body: .json(try Transcode.convert(merges))))
    }

    func undoMerge(_ input: Operations.UndoMerge.Input) async throws -> Operations.UndoMerge.Output {
        let (survivor, restored) = try await store.merges.undo(CustomerMerge.ID(input.path.mergeID), by: try actor())
        return .ok(.init(body: .json(.init(survivor: try Transcode.convert(survivor), restored: try Transcode.convert(restored)))))
    }
}
