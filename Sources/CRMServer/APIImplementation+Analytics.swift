import CRMAPI
import CRMAnalytics
import CRMCore
import CRMStore
import Foundation

/// The analytics part of the contract: the dashboard, refresh, settings and staffing.
extension APIImplementation {
    /// A run as the contract spells it.
    struct RunJSON: Encodable {
        var id: Int64
        var startedAt: Date
        var finishedAt: Date
        var asOf: String
        var customers: Int
        var seconds: Double
        var startedBy: Int64?
        var settings: AnalyticsSettings
        var dashboard: CustomerBaseDashboard

        init(_ run: AnalyticsRun) {
            id = run.id; startedAt = run.startedAt; finishedAt = run.finishedAt; asOf = run.asOf.description
            customers = run.customers; seconds = run.seconds; startedBy = run.startedBy?.rawValue
            settings = run.settings; dashboard = run.dashboard
        }
    }

    func getAnalyticsDashboard(_ input: Operations.GetAnalyticsDashboard.Input) async throws -> Operations.GetAnalyticsDashboard.Output {
        _ = try actor()
        guard let run = try await store.analytics.latestRun() else {
            throw DomainError.notFound(entity: "analytics run", id: "latest")
        }
        return .ok(.init(body: .json(try Transcode.convert(RunJSON(run)))))
    }

    func refreshAnalytics(_ input: Operations.RefreshAnalytics.Input) async throws -> Operations.RefreshAnalytics.Output {
        let actor = try actor()
        let asOf = try Self.date(input.query.asOf, "asOf") ?? CalendarDate(utc: Date())
        let (run, _) = try await analytics.run(asOf: asOf, by: actor)
        return .ok(.init(body: .json(try Transcode.convert(RunJSON(run)))))
    }

    func getAnalyticsSettings(_ input: Operations.GetAnalyticsSettings.Input) async throws -> Operations.GetAnalyticsSettings.Output {
        _ = try actor()
        return .ok(.init(body: .json(try Transcode.convert(try await store.analytics.settings()))))
    }

    func updateAnalyticsSettings(_ input: Operations.UpdateAnalyticsSettings.Input) async throws -> Operations.UpdateAnalyticsSettings.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let settings: AnalyticsSettings = try Transcode.convert(body)
        let saved = try await store.analytics.saveSettings(settings, by: try actor())
        return .ok(.init(body: .json(try Transcode.convert(saved))))
    }

    /// Erlang C steps up one agent at a time: bounding the traffic bounds the work a request can ask for.
    static let maxErlangs = 100_000.0

    static func staffingJSON(_ s: ErlangC.Staffing) -> Schemas.Staffing {
        Schemas.Staffing(agents: s.agents, scheduledAgents: s.scheduledAgents, trafficErlangs: s.performance.trafficErlangs,
                         serviceLevel: s.performance.serviceLevel, averageSpeedOfAnswerSeconds: s.performance.averageSpeedOfAnswer,
                         occupancy: s.performance.occupancy, probabilityOfWaiting: s.performance.probabilityOfWaiting)
    }

    /// Erlang C settings from the request, each bad value named by where it came from.
    static func staffingSettings(target: Double?, within: Double?, shrinkage: Double?, maxOccupancy: Double?, at prefix: String) throws -> ErlangC.Settings {
        var issues: [ValidationIssue] = []
        let target = target ?? 0.8, within = within ?? 20, shrinkage = shrinkage ?? 0, maxOccupancy = maxOccupancy ?? 1
        if !(target > 0 && target < 1) { issues.append(.init(pointer: "\(prefix)target", reason: "must be a share between 0 and 1, e.g. 0.8")) }
        if !(within >= 0 && within.isFinite) { issues.append(.init(pointer: "\(prefix)within", reason: "must be ≥ 0 seconds")) }
        if !(shrinkage >= 0 && shrinkage <= 0.95) { issues.append(.init(pointer: "\(prefix)shrinkage", reason: "must be 0 to 0.95")) }
        if !(maxOccupancy >= 0.5 && maxOccupancy <= 1) { issues.append(.init(pointer: "\(prefix)maxOccupancy", reason: "must be 0.5 to 1")) }
        guard issues.isEmpty else { throw DomainError.invalid(issues) }
        return ErlangC.Settings(target: .init(fraction: target, seconds: within), shrinkage: shrinkage, maxOccupancy: maxOccupancy)
    }

    func getStaffing(_ input: Operations.GetStaffing.Input) async throws -> Operations.GetStaffing.Output {
        _ = try actor()
        let q = input.query
        var issues: [ValidationIssue] = []
        if !(q.callsPerHour >= 0 && q.callsPerHour.isFinite && q.callsPerHour <= 1_000_000) {
            issues.append(.init(pointer: "/query/callsPerHour", reason: "must be 0 to 1,000,000 calls an hour"))
        }
        if !(q.handleSeconds > 0 && q.handleSeconds <= 86_400) { issues.append(.init(pointer: "/query/handleSeconds", reason: "must be a positive number of seconds")) }
        else if q.callsPerHour * q.handleSeconds / 3600 > Self.maxErlangs {
            issues.append(.init(pointer: "/query/callsPerHour", reason: "more than \(Int(Self.maxErlangs)) erlangs of traffic is beyond one call centre"))
        }
        guard issues.isEmpty else { throw DomainError.invalid(issues) }
        let settings = try Self.staffingSettings(target: q.target, within: q.within, shrinkage: q.shrinkage, maxOccupancy: q.maxOccupancy, at: "/query/")
        // Up to the erlang cap this is a second of arithmetic: on CPU-work threads, not an event loop.
        let staffing = try await CPUWork.run { ErlangC.staff(callsPerHour: q.callsPerHour, handleSeconds: q.handleSeconds, settings: settings) }
        return .ok(.init(body: .json(Self.staffingJSON(staffing))))
    }

    func planStaffing(_ input: Operations.PlanStaffing.Input) async throws -> Operations.PlanStaffing.Output {
        _ = try actor()
        guard case .json(let b) = input.body else { throw ProblemDetails.malformed("expected a JSON body") }
        let settings = try Self.staffingSettings(target: b.target, within: b.within, shrinkage: b.shrinkage, maxOccupancy: b.maxOccupancy, at: "/")
        var issues: [ValidationIssue] = []
        if b.intervals.isEmpty || b.intervals.count > 1_440 { issues.append(.init(pointer: "/intervals", reason: "give 1 to 1440 intervals")) }
        var forecast: [ErlangC.IntervalForecast] = []
        for (i, interval) in b.intervals.enumerated() {
            let minutes = interval.intervalMinutes ?? 30
            if !(interval.calls >= 0 && interval.calls.isFinite && interval.calls <= 1_000_000) {
                issues.append(.init(pointer: "/intervals/\(i)/calls", reason: "must be 0 to 1,000,000"))
            }
            if !(interval.handleSeconds > 0 && interval.handleSeconds <= 86_400) {
                issues.append(.init(pointer: "/intervals/\(i)/handleSeconds", reason: "must be a positive number of seconds"))
            }
            if !(minutes >= 1 && minutes <= 1_440) { issues.append(.init(pointer: "/intervals/\(i)/intervalMinutes", reason: "must be 1 to 1440 minutes")) }
            else if interval.calls / (minutes * 60) * interval.handleSeconds > Self.maxErlangs {
                issues.append(.init(pointer: "/intervals/\(i)/calls", reason: "more than \(Int(Self.maxErlangs)) erlangs of traffic is beyond one call centre"))
            }
            forecast.append(.init(start: interval.start, calls: interval.calls, intervalSeconds: minutes * 60, handleSeconds: interval.handleSeconds))
        }
        guard issues.isEmpty else { throw DomainError.invalid(issues) }
        let plan = forecast
        let day = try await CPUWork.run { ErlangC.staffDay(plan, settings: settings) }
        return .ok(.init(body: .json(.init(
            intervals: day.map { .init(start: $0.interval.start, calls: $0.interval.calls, staffing: Self.staffingJSON($0.staffing)) },
            peakScheduledAgents: day.map(\.staffing.scheduledAgents).max() ?? 0))))
    }
}
