import CRMAnalytics
import CRMCore
import CRMStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs the customer-base analysis: reads the purchase summaries, computes with
/// `CustomerBaseAnalysis` and stores every result. One run at a time per process: a
/// second request while one runs gets a conflict rather than doubling the work.
public final class CustomerBaseRefresh: Sendable {
    let store: Store
    let logger: Logger
    private let running = Mutex(false)

    public init(store: Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Figures of one run, for logs and the command line.
    public struct Timing: Sendable {
        public var readSeconds: Double
        public var computeSeconds: Double
        public var writeSeconds: Double
    }

    @discardableResult
    public func run(asOf: CalendarDate = CalendarDate(utc: Date()), by actor: Actor?) async throws -> (AnalyticsRun, Timing) {
        if let actor { try AccessPolicy.require(actor, .refreshAnalytics) }
        let claimed = running.withLock { busy in
            if busy { return false }
            busy = true
            return true
        }
        guard claimed else { throw DomainError.conflict("an analytics refresh is already running; try again when it has finished") }
        defer { running.withLock { $0 = false } }
        // Reading, computing and storing a million customers' results is seconds of work:
        // on CPU-work threads, not an event loop.
        return try await CPUWork.run { try await refresh(asOf: asOf, by: actor) }
    }

    private func refresh(asOf: CalendarDate, by actor: Actor?) async throws -> (AnalyticsRun, Timing) {
        let started = Date()
        let clock = ContinuousClock.now
        // Summaries a killed order import left behind are brought up to date first.
        try await store.summaries.settleBacklog()
        let settings = try await store.analytics.settings()
        let inputs = try await store.analytics.inputs(asOf: asOf, settings: settings)
        // The summaries are lifetime figures: a day before the latest purchase would give
        // negative recencies. Orders dated after today (booked ahead) do not count against
        // today; the analysis treats them as bought on the as-of day.
        let today = CalendarDate(utc: Date()).daysSinceEpoch
        if let latest = inputs.lazy.compactMap(\.lastPurchaseDay).max(), asOf.daysSinceEpoch < min(latest, today) {
            throw DomainError.invalid("/query/asOf", "must not be before the latest purchase (\(CalendarDate(daysSinceEpoch: min(latest, today))))")
        }
        let read = ContinuousClock.now
        // CPU-bound, spreading itself over the cores; already on CPU-work threads (`run`).
        let analysis = CustomerBaseAnalysis(inputs, asOfDay: asOf.daysSinceEpoch, settings: settings)
        let computed = ContinuousClock.now
        let run = try await store.analytics.store(analysis, asOf: asOf, settings: settings, startedAt: started, by: actor)
        let written = ContinuousClock.now
        let timing = Timing(readSeconds: Self.seconds(read - clock), computeSeconds: Self.seconds(computed - read),
                            writeSeconds: Self.seconds(written - computed))
        logger.info("analytics refreshed", metadata: [
            "customers": "\(run.customers)", "as_of": "\(asOf)", "read_s": "\(timing.readSeconds)",
            "compute_s": "\(timing.computeSeconds)", "write_s": "\(timing.writeSeconds)",
        ])
        return (run, timing)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// Refreshes the analysis on the schedule the settings give (`refreshIntervalMinutes`,
/// 0 = never), checking once a minute whether one is due, until graceful shutdown.
struct ScheduledAnalyticsRefresh: Service {
    let refresh: CustomerBaseRefresh
    let store: Store
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            var lastAttempt: Date?
            while !Task.isCancelled {
                // Wait first: at start-up the migrations and any demo load come before analysis.
                // A sleep cut short is the graceful shutdown: end quietly, not with an error.
                do { try await Task.sleep(for: .seconds(60)) } catch { return }
                do {
                    let settings = try await store.analytics.settings()
                    if settings.refreshIntervalMinutes > 0 {
                        // After a failure too, wait a whole interval rather than retrying every minute.
                        let last = [try await store.analytics.latestRun()?.finishedAt, lastAttempt].compactMap { $0 }.max()
                        if last.map({ Date().timeIntervalSince($0) >= Double(settings.refreshIntervalMinutes) * 60 }) ?? true {
                            lastAttempt = Date()
                            try await refresh.run(by: nil)
                        }
                    }
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("scheduled analytics refresh failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
