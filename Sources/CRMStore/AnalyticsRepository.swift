import CRMAnalytics
import CRMCore
import Foundation
import SQLKit

/// One run of the customer-base analysis: when, on which day, with which settings, and
/// the dashboard it produced.
public struct AnalyticsRun: Sendable {
    public var id: Int64
    public var startedAt: Date
    public var finishedAt: Date
    public var asOf: CalendarDate
    public var settings: AnalyticsSettings
    public var dashboard: CustomerBaseDashboard
    public var customers: Int
    public var seconds: Double
    public var startedBy: User.ID?
}

/// A customer's stored analysis, with the run that produced it.
public struct StoredCustomerAnalysis: Sendable, Hashable {
    public var runID: Int64
    /// The currency of the amounts (the settings' currency of that run).
    public var currency: String
    public var analysis: CustomerAnalysis

    public init(runID: Int64, currency: String, analysis: CustomerAnalysis) {
        self.runID = runID; self.currency = currency; self.analysis = analysis
    }
}

/// A dated change of a customer's tier or loyalty stage.
public struct AnalyticsChange: Sendable, Hashable, Codable {
    public enum Measure: String, Sendable, Hashable, Codable { case tier, loyaltyStage }
    public var customerID: Customer.ID
    public var runID: Int64
    public var changedOn: CalendarDate
    public var measure: Measure
    public var before: String?
    public var after: String
}

/// Reads the purchase summaries for the analysis, and stores its results, settings and
/// history. The computation itself is `CustomerBaseAnalysis`, which knows no database.
public struct AnalyticsRepository: Sendable {
    let database: any StoreDatabase

    public init(database: any StoreDatabase) { self.database = database }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    // MARK: settings

    public func settings() async throws -> AnalyticsSettings {
        try await database.read { db in
            guard let text = try await db.raw("SELECT settings FROM analytics_settings WHERE id = 1").first().map({ try Row($0).string("settings") }) else {
                return AnalyticsSettings()
            }
            return try JSONDecoder().decode(AnalyticsSettings.self, from: Data(text.utf8))
        }
    }

    /// Replaces the settings (admins only), audited with the before and after values.
    public func saveSettings(_ settings: AnalyticsSettings, by actor: Actor) async throws -> AnalyticsSettings {
        try AccessPolicy.require(actor, .manageAnalyticsSettings)
        let problems = settings.problems()
        guard problems.isEmpty else {
            throw DomainError.invalid(problems.map { ValidationIssue(pointer: $0.pointer, reason: $0.message) })
        }
        let text = String(decoding: try Self.encoder.encode(settings), as: UTF8.self)
        try await database.write { db in
            let before = try await db.raw("SELECT settings FROM analytics_settings WHERE id = 1").first().map { try Row($0).string("settings") }
            let now = Instant.format(Date())
            try await db.raw("""
                INSERT INTO analytics_settings (id, settings, updated_at, updated_by) VALUES (1, \(bind: text), \(bind: now), \(bind: actor.userID.rawValue))
                ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at, updated_by = excluded.updated_by
                """).run()
            try await AuditLog.append(db, actor: actor, action: before == nil ? .create : .update, entity: "analytics_settings", entityID: "1",
                                      changes: [FieldChange(field: "settings", before: before, after: text)])
        }
        return settings
    }

    // MARK: reading the summaries

    /// Everyone who has bought in `currency`, and every live customer or prospect who has
    /// bought nothing yet (those who buy only in other currencies are left out, not taken
    /// for prospects), with their lifetime summary and their revenue and profit in the
    /// window of whole months before `asOf`'s month and the window before it. Complaints
    /// are interactions whose outcome is "complaint".
    public func inputs(asOf: CalendarDate, settings: AnalyticsSettings) async throws -> [CustomerSummaryInput] {
        let months = settings.windowMonths
        // Whole calendar months before asOf's month: a month just begun would make every
        // steady buyer look as if they were declining.
        let currentStart = Self.month(asOf, minus: months)
        let previousStart = Self.month(asOf, minus: 2 * months)
        let lastMonth = Self.month(asOf, minus: 1)
        let currency = settings.currency
        // Three independent reads, each on its own reader connection, so they run side by
        // side on a machine with more than one core.
        async let windows = database.read { db in
            try await db.stream("""
                SELECT customer_id,
                       CAST(SUM(CASE WHEN month >= \(bind: currentStart) THEN revenue ELSE 0 END) AS BIGINT) AS window_revenue,
                       CAST(SUM(CASE WHEN month >= \(bind: currentStart) THEN profit ELSE 0 END) AS BIGINT) AS window_profit,
                       CAST(SUM(CASE WHEN month < \(bind: currentStart) THEN profit ELSE 0 END) AS BIGINT) AS previous_profit
                FROM purchase_months
                WHERE currency = \(bind: currency) AND month >= \(bind: previousStart) AND month <= \(bind: lastMonth)
                GROUP BY customer_id
                """) { r in (try r.int64("customer_id"), try r.int64("window_revenue"), try r.int64("window_profit"), try r.int64("previous_profit")) }
        }
        async let complaints = database.read { db in
            try await db.rows("SELECT customer_id, COUNT(*) AS n FROM interactions WHERE outcome = 'complaint' GROUP BY customer_id") {
                (try $0.int64("customer_id"), try $0.int64("n"))
            }
        }
        // The customers in two halves by id, each on its own connection, beside the two
        // queries above: the rows are many, and turning them into values costs more than
        // the database's scan.
        let middle = try await database.read { db in
            try await db.raw("SELECT COALESCE(MAX(id), 0) / 2 AS m FROM customers").first().map { try $0.decode(column: "m", as: Int64.self) } ?? 0
        }
        let days = database.dialect == .sqlite
            ? { (column: String) in "CAST(julianday(\(column)) - 2440587.5 AS BIGINT)" }
            : { (column: String) in "(CAST(\(column) AS DATE) - DATE '1970-01-01')" }
        let first = days("s.first_purchase"), last = days("s.last_purchase")
        @Sendable func customers(_ range: ClosedRange<Int64>) async throws -> [CustomerSummaryInput] {
            try await database.read { db in
                // Purchase days as numbers (days since 1970) straight from the database.
                try await db.stream("""
                    SELECT c.id, \(unsafeRaw: first) AS first_day, \(unsafeRaw: last) AS last_day, s.order_count, s.purchase_days,
                           s.revenue, s.profit, s.promotion_revenue, s.repeat_revenue
                    FROM customers c LEFT JOIN purchase_summaries s ON s.customer_id = c.id AND s.currency = \(bind: currency)
                    WHERE c.id BETWEEN \(bind: range.lowerBound) AND \(bind: range.upperBound) AND c.archived_at IS NULL
                      AND (s.customer_id IS NOT NULL
                           OR (EXISTS (SELECT 1 FROM customer_roles r WHERE r.customer_id = c.id AND r.role IN ('customer', 'prospect'))
                               AND NOT EXISTS (SELECT 1 FROM purchase_summaries x WHERE x.customer_id = c.id)))
                    ORDER BY c.id
                    """) { r -> CustomerSummaryInput in
                    let id = try r.int64("id")
                    guard let first = try r.optionalInt64("first_day"), let last = try r.optionalInt64("last_day") else {
                        return CustomerSummaryInput(id: id)
                    }
                    return CustomerSummaryInput(
                        id: id, firstPurchaseDay: Int(first), lastPurchaseDay: Int(last),
                        orderCount: Int(try r.int64("order_count")), purchaseDays: Int(try r.int64("purchase_days")),
                        revenueMinor: try r.int64("revenue"), profitMinor: try r.int64("profit"),
                        promotionRevenueMinor: try r.int64("promotion_revenue"), repeatRevenueMinor: try r.int64("repeat_revenue"))
                }
            }
        }
        async let lower = customers(Int64.min...middle)
        async let upper = customers((middle + 1)...Int64.max)
        var inputs = try await lower
        inputs += try await upper
        var index: [Int64: Int] = [:]
        index.reserveCapacity(inputs.count)
        for (i, c) in inputs.enumerated() { index[c.id] = i }
        for (id, revenue, profit, previous) in try await windows {
            guard let i = index[id] else { continue }
            inputs[i].windowRevenueMinor = revenue
            inputs[i].windowProfitMinor = profit
            inputs[i].previousWindowProfitMinor = previous
        }
        for (id, n) in try await complaints { if let i = index[id] { inputs[i].complaints = Int(n) } }
        return inputs
    }

    /// "YYYY-MM" of the month `minus` months before `date`'s month.
    static func month(_ date: CalendarDate, minus: Int) -> String {
        let total = date.year * 12 + (date.month - 1) - minus
        let y = total / 12, m = total % 12 + 1
        return String(format: "%04d-%02d", y, m)
    }

    // MARK: storing results

    static let columns = ["customer_id", "run_id", "currency", "tier", "value_level", "loyalty_stage", "buying_type", "trajectory",
                          "recency_score", "frequency_score", "monetary_score", "rfm_segment", "expected_purchases", "p_alive",
                          "clv", "churn_risk", "silent_churn", "window_revenue", "window_profit"]

    /// The results table's definition, for the fresh copy each run fills: migration 4's
    /// columns (and any later migration's), without its two foreign keys. The rows are
    /// derived from customers that are never deleted, under a run written just before, and
    /// checking both references for every row cost 0.47 s of a 612,689-row write on SQLite.
    /// On SQLite the key is `INTEGER PRIMARY KEY`, the row id itself, rather than a second
    /// index beside it (0.3 s less to write and to drop at 1M rows, and direct lookups).
    static func tableDefinition(_ name: String, dialect: Dialect) -> String {
        """
        CREATE TABLE \(name) (
            customer_id \(dialect == .sqlite ? "INTEGER" : "BIGINT") PRIMARY KEY,
            run_id BIGINT NOT NULL,
            currency TEXT NOT NULL,
            tier TEXT NOT NULL,
            value_level TEXT NOT NULL,
            loyalty_stage TEXT NOT NULL,
            buying_type TEXT,
            trajectory TEXT NOT NULL,
            recency_score BIGINT,
            frequency_score BIGINT,
            monetary_score BIGINT,
            rfm_segment TEXT,
            expected_purchases DOUBLE PRECISION,
            p_alive DOUBLE PRECISION,
            clv BIGINT,
            churn_risk TEXT,
            silent_churn BOOLEAN NOT NULL,
            window_revenue BIGINT NOT NULL,
            window_profit BIGINT NOT NULL
        )
        """
    }

    /// The list filters' indexes. On SQLite the key is the rowid, which every index entry
    /// carries and keeps in order within a value, so one column gives the same order as
    /// `(x, customer_id)` and builds faster (2.0 s against 2.6 s at 1M customers).
    static func indexDefinitions(_ dialect: Dialect) -> [String] {
        let key = dialect == .sqlite ? "" : ", customer_id"
        return [("tier", "tier"), ("stage", "loyalty_stage"), ("segment", "rfm_segment"), ("churn", "churn_risk")].map { name, column in
            "CREATE INDEX customer_analytics_\(name) ON customer_analytics(\(column)\(key))"
        }
    }

    /// Stores a run and every customer's result, and records tier and stage changes against
    /// the previous run. Every row is rewritten each run, so the rows go into a fresh table
    /// without indexes, in chunks (each its own transaction, so order writes are not held up),
    /// and one short transaction then records the changes, swaps the tables and builds the
    /// indexes. Readers see the previous results until that commits, then all of the new.
    public func store(_ analysis: CustomerBaseAnalysis, asOf: CalendarDate, settings: AnalyticsSettings, startedAt: Date,
                      by actor: Actor?) async throws -> AnalyticsRun {
        try await database.bulk {
            try await storeRows(analysis, asOf: asOf, settings: settings, startedAt: startedAt, by: actor)
        }
    }

    private func storeRows(_ analysis: CustomerBaseAnalysis, asOf: CalendarDate, settings: AnalyticsSettings, startedAt: Date,
                           by actor: Actor?) async throws -> AnalyticsRun {
        // Validated as three capital letters, so it can be written as a literal. Checked before
        // the run is recorded: a run row left unfinished would hold off refreshes for a while.
        guard settings.currency.count == 3, settings.currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
            throw DomainError.invalid("/currency", "must be a three-letter ISO 4217 code such as CNY")
        }
        let currencyLiteral = "'\(settings.currency)'"
        let settingsText = String(decoding: try Self.encoder.encode(settings), as: UTF8.self)
        let dashboardText = String(decoding: try Self.encoder.encode(analysis.dashboard), as: UTF8.self)
        let runID = try await database.write { db -> Int64 in
            // Another process (the command line, a second server) may be refreshing: one at a time.
            let recent = Instant.format(startedAt.addingTimeInterval(-15 * 60))
            if try await db.raw("SELECT id FROM analytics_runs WHERE seconds = 0 AND started_at > \(bind: recent)").first() != nil {
                throw DomainError.conflict("an analytics refresh is already running; try again when it has finished")
            }
            let row = try await db.raw("""
                INSERT INTO analytics_runs (started_at, finished_at, as_of, settings, dashboard, customers, seconds, started_by)
                VALUES (\(bind: Instant.format(startedAt)), \(bind: Instant.format(startedAt)), \(bind: asOf.description), \(bind: settingsText),
                        \(bind: dashboardText), \(bind: analysis.customers.count), 0, \(bind: actor?.userID.rawValue))
                RETURNING id
                """).first()
            guard let row else { throw StoreError.corrupt("no id returned for the analytics run") }
            // A run that failed half-way may have left its table behind.
            try await db.raw("DROP TABLE IF EXISTS customer_analytics_next").run()
            try await db.raw(SQLQueryString(Self.tableDefinition("customer_analytics_next", dialect: database.dialect))).run()
            return try Row(row).int64("id")
        }
        let day = asOf.description
        let chunk = 20_000
        let customers = analysis.customers
        // The statements of the next chunk are built on another core while the database
        // writes this one (on CPU-work threads: an unstructured task does not inherit them).
        @Sendable func statements(from start: Int) -> [SQLQueryString] {
            Self.statements(customers[start..<min(start + chunk, customers.count)], runID: runID, currency: currencyLiteral)
        }
        do {
            var next: Task<[SQLQueryString], Never>? = customers.isEmpty ? nil : Task(executorPreference: CPUWork.executor) { statements(from: 0) }
            var start = 0
            while let building = next {
                let batch = await building.value
                start += chunk
                let following = start
                next = following < customers.count ? Task(executorPreference: CPUWork.executor) { statements(from: following) } : nil
                try await database.write { db in
                    for statement in batch { try await db.raw(statement).run() }
                }
            }
            try await database.write { db in
                // Tier and stage changes against the previous results; a row in another
                // currency is not comparable, so no change is recorded for it.
                // One pass over the join, each changed row giving a tier and/or a stage change
                // (the two-row VALUES is innermost, so the join is walked once).
                try await db.raw("""
                    INSERT INTO analytics_history (customer_id, run_id, changed_on, measure, before_value, after_value)
                    SELECT o.customer_id, \(bind: runID), \(bind: day), m.column1,
                           CASE m.column1 WHEN 'tier' THEN o.tier ELSE o.loyalty_stage END,
                           CASE m.column1 WHEN 'tier' THEN n.tier ELSE n.loyalty_stage END
                      FROM customer_analytics_next n JOIN customer_analytics o ON o.customer_id = n.customer_id
                           CROSS JOIN (VALUES ('tier'), ('loyaltyStage')) m
                     WHERE o.currency = n.currency AND (o.tier <> n.tier OR o.loyalty_stage <> n.loyalty_stage)
                       AND CASE m.column1 WHEN 'tier' THEN o.tier <> n.tier ELSE o.loyalty_stage <> n.loyalty_stage END
                    """).run()
                try await db.raw("DROP TABLE customer_analytics").run()
                try await db.raw("ALTER TABLE customer_analytics_next RENAME TO customer_analytics").run()
                for index in Self.indexDefinitions(database.dialect) { try await db.raw(SQLQueryString(index)).run() }
                // The planner's statistics, committed with the swap, so readers plan with them.
                try await Self.refreshStatistics(db, dialect: database.dialect)
            }
        } catch {
            // Leave the half-written run marked as failed, so it neither blocks the next run
            // nor shows as the latest; the previous results stay as they were.
            try? await database.write { db in
                try await db.raw("UPDATE analytics_runs SET seconds = -1 WHERE id = \(bind: runID)").run()
                try await db.raw("DROP TABLE IF EXISTS customer_analytics_next").run()
            }
            throw error
        }
        let finished = Date()
        let seconds = finished.timeIntervalSince(startedAt)
        try await database.write { db in
            try await db.raw("UPDATE analytics_runs SET finished_at = \(bind: Instant.format(finished)), seconds = \(bind: seconds) WHERE id = \(bind: runID)").run()
        }
        return AnalyticsRun(id: runID, startedAt: startedAt, finishedAt: finished, asOf: asOf, settings: settings,
                            dashboard: analysis.dashboard, customers: analysis.customers.count, seconds: seconds, startedBy: actor?.userID)
    }

    /// Multi-row inserts of 2,000 customers' results each, in customer id order (the
    /// analysis keeps its input's order), so the fresh table's key is filled from the end.
    static func statements(_ slice: ArraySlice<CustomerAnalysis>, runID: Int64, currency: String) -> [SQLQueryString] {
        let perStatement = 2_000
        let head = "INSERT INTO customer_analytics_next (\(columns.joined(separator: ", "))) VALUES "
        var result: [SQLQueryString] = []
        for s in stride(from: slice.startIndex, to: slice.endIndex, by: perStatement) {
            var sql: [UInt8] = []
            sql.reserveCapacity(head.utf8.count + 140 * perStatement)
            sql.append(contentsOf: head.utf8)
            for (k, c) in slice[s..<min(s + perStatement, slice.endIndex)].enumerated() {
                if k > 0 { sql.append(UInt8(ascii: ",")) }
                appendLiteralRow(c, runID: runID, currency: currency, to: &sql)
            }
            result.append("\(unsafeRaw: String(decoding: sql, as: UTF8.self))")
        }
        return result
    }

    /// One row of results as SQL literals. A million rows of binds cost more in encoding
    /// than the database spends storing them; every value here is a number, a boolean, NULL
    /// or one of the analysis's own enum names (never user text), so literals are safe.
    /// Written as bytes into the statement: a string per field was most of the cost.
    static func appendLiteralRow(_ c: CustomerAnalysis, runID: Int64, currency: String, to sql: inout [UInt8]) {
        func null() { sql.append(contentsOf: [UInt8(ascii: "N"), UInt8(ascii: "U"), UInt8(ascii: "L"), UInt8(ascii: "L")]) }
        func text(_ v: String?) {
            guard let v else { return null() }
            sql.append(UInt8(ascii: "'"))
            sql.append(contentsOf: v.utf8)
            sql.append(UInt8(ascii: "'"))
        }
        func int(_ v: Int64?) {
            guard let v else { return null() }
            sql.append(contentsOf: String(v).utf8)
        }
        func double(_ v: Double?) {
            guard let v, v.isFinite else { return null() }
            sql.append(contentsOf: v.description.utf8)
        }
        func comma() { sql.append(UInt8(ascii: ",")) }
        sql.append(UInt8(ascii: "("))
        int(c.id); comma(); int(runID); comma(); sql.append(contentsOf: currency.utf8); comma()
        text(c.tier.rawValue); comma(); text(c.valueLevel.rawValue); comma(); text(c.loyaltyStage.rawValue); comma()
        text(c.buyingType?.rawValue); comma(); text(c.trajectory.rawValue); comma()
        int(c.recencyScore.map(Int64.init)); comma(); int(c.frequencyScore.map(Int64.init)); comma()
        int(c.monetaryScore.map(Int64.init)); comma(); text(c.rfmSegment?.rawValue); comma()
        double(c.expectedPurchases); comma(); double(c.probabilityAlive); comma(); int(c.clvMinor); comma()
        text(c.churnRisk?.rawValue); comma(); sql.append(contentsOf: (c.silentChurn ? "TRUE" : "FALSE").utf8); comma()
        int(c.windowRevenueMinor); comma(); int(c.windowProfitMinor)
        sql.append(UInt8(ascii: ")"))
    }

    // MARK: reading results

    /// Tells the query planner how the analysis is spread (how few customers are loyal, how
    /// many are lead), so a list filtered on two of its fields starts from the rarer one.
    /// SQLite samples at most 1,000 rows per index (a few milliseconds at 1M customers).
    static func refreshStatistics(_ db: any SQLDatabase, dialect: Dialect) async throws {
        switch dialect {
        case .sqlite:
            try await db.raw("PRAGMA analysis_limit = 1000").run()
            try await db.raw("ANALYZE customer_analytics").run()
        case .postgres:
            try await db.raw("ANALYZE customer_analytics").run()
        }
    }

    /// The latest finished run, or nil before the first.
    public func latestRun() async throws -> AnalyticsRun? {
        try await database.read { db in
            try await db.rows("SELECT * FROM analytics_runs WHERE seconds > 0 ORDER BY id DESC LIMIT 1") { r in
                AnalyticsRun(id: try r.int64("id"), startedAt: try r.instant("started_at"), finishedAt: try r.instant("finished_at"),
                             asOf: try r.date("as_of"),
                             settings: try JSONDecoder().decode(AnalyticsSettings.self, from: Data(try r.string("settings").utf8)),
                             dashboard: try JSONDecoder().decode(CustomerBaseDashboard.self, from: Data(try r.string("dashboard").utf8)),
                             customers: Int(try r.int64("customers")), seconds: try r.row.decode(column: "seconds", as: Double.self),
                             startedBy: try r.optionalID("started_by"))
            }.first
        }
    }

    /// The stored analyses of these customers (those analysed).
    public func analyses(of ids: [Customer.ID]) async throws -> [Customer.ID: StoredCustomerAnalysis] {
        guard !ids.isEmpty else { return [:] }
        return try await database.read { db in
            try await Self.analyses(db, ids)
        }
    }

    static func analyses(_ db: any SQLDatabase, _ ids: [Customer.ID]) async throws -> [Customer.ID: StoredCustomerAnalysis] {
        var out: [Customer.ID: StoredCustomerAnalysis] = [:]
        for s in stride(from: 0, to: ids.count, by: 500) {
            let slice = ids[s..<min(s + 500, ids.count)].map { SQLBind($0.rawValue) as any SQLExpression }
            let rows = try await db.select().column("*").from("customer_analytics")
                .where(SQLIdentifier("customer_id"), .in, SQLGroupExpression(slice)).all()
            for row in rows {
                let r = Row(row)
                let stored = try decode(r)
                out[Customer.ID(stored.analysis.id)] = stored
            }
        }
        return out
    }

    static func decode(_ r: Row) throws -> StoredCustomerAnalysis {
        func double(_ c: String) throws -> Double? { try r.row.decodeNil(column: c) ? nil : try r.row.decode(column: c, as: Double.self) }
        return StoredCustomerAnalysis(runID: try r.int64("run_id"), currency: try r.string("currency"), analysis: CustomerAnalysis(
            id: try r.int64("customer_id"), tier: try r.enumValue("tier"), valueLevel: try r.enumValue("value_level"),
            loyaltyStage: try r.enumValue("loyalty_stage"), buyingType: try r.optionalEnum("buying_type"),
            trajectory: try r.enumValue("trajectory"),
            recencyScore: try r.optionalInt64("recency_score").map(Int.init), frequencyScore: try r.optionalInt64("frequency_score").map(Int.init),
            monetaryScore: try r.optionalInt64("monetary_score").map(Int.init), rfmSegment: try r.optionalEnum("rfm_segment"),
            expectedPurchases: try double("expected_purchases"), probabilityAlive: try double("p_alive"), clvMinor: try r.optionalInt64("clv"),
            churnRisk: try r.optionalEnum("churn_risk"), silentChurn: try r.bool("silent_churn"),
            windowRevenueMinor: try r.int64("window_revenue"), windowProfitMinor: try r.int64("window_profit")))
    }

    /// A customer's tier and stage changes, newest first.
    public func history(of id: Customer.ID, limit: Int = 100) async throws -> [AnalyticsChange] {
        try await database.read { db in
            try await Self.history(db, id, limit: limit)
        }
    }

    static func history(_ db: any SQLDatabase, _ id: Customer.ID, limit: Int) async throws -> [AnalyticsChange] {
        try await db.rows("SELECT * FROM analytics_history WHERE customer_id = \(bind: id.rawValue) ORDER BY id DESC LIMIT \(bind: limit)") { r in
            AnalyticsChange(customerID: try r.id("customer_id"), runID: try r.int64("run_id"), changedOn: try r.date("changed_on"),
                            measure: try r.enumValue("measure"), before: try r.optionalString("before_value"), after: try r.string("after_value"))
        }
    }
}
