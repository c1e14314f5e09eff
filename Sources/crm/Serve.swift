import ArgumentParser
import CRMServer
import CRMStore
import Foundation
import Logging
import Metrics
import Prometheus

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP server (API at /api/v1, spec at /openapi.yaml).")

    @OptionGroup var options: DatabaseOptions

    @Option(help: "Address to listen on (env CRM_HTTP_HOST; default 127.0.0.1).")
    var hostname: String?

    @Option(help: "Port to listen on (env CRM_HTTP_PORT; default 8080).")
    var port: Int?

    @Flag(help: "Mark the session cookie Secure, for HTTPS (env CRM_COOKIES_SECURE).")
    var secureCookies = false

    @Flag(help: "Load the demo company first if the database is empty.")
    var demo = false

    @Option(help: "Customers in the demo company (with --demo).")
    var demoCustomers = 3_000

    func run() async throws {
        var flags: [String: String] = [:]
        if let hostname { flags["http.host"] = hostname }
        if let port { flags["http.port"] = String(port) }
        if secureCookies { flags["cookies.secure"] = "true" }
        let settings = try await Settings(options: options, flags: flags)
        let configuration = try settings.server()
        let logLevel = settings.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let logger = settings.logger()

        let database = try await openDatabase(configuration.database, logger: logger)
        // PostgreSQL's pool must run before the migrations can use it; the server's own
        // database service takes over once the application starts.
        let store = Store(database: database, defaultCountryCode: configuration.defaultCountryCode)
        let dependencies = ApplicationDependencies(store: store, metrics: registry, logger: logger)
        let app = try buildApplication(configuration: configuration, dependencies: dependencies, logger: logger,
                                       beforeServing: {
            try await store.migrate(logger: logger)
            if demo, try await store.users.list().isEmpty {
                print("Loading the demo company (\(demoCustomers) customers)…")
                let hash = try await Authenticator.hashPassword(DemoCompany.password, cost: 10)
                let report = try await DemoCompany(customers: demoCustomers).load(into: store, passwordHash: hash, logger: logger)
                print(String(format: "Loaded %d customers, %d orders, %d order lines in %.1f s.", report.customers, report.orders, report.orderLines, report.seconds))
                let (run, _) = try await dependencies.analytics.run(by: nil)
                print(String(format: "Analysed %d customers (tiers, loyalty, RFM, CLV, churn risk) in %.1f s.", run.customers, run.seconds))
                printDemoSignIns()
            }
            print("CRM is serving at http://\(configuration.hostname):\(configuration.port)/ (API: /api/v1, spec: /openapi.yaml) on \(configuration.database)")
        })
        try await app.runService()
    }
}

func printDemoSignIns() {
    print("Demo sign-ins (password \(DemoCompany.password) for each):")
    for u in DemoCompany.users { print("  \(u.username.padding(toLength: 10, withPad: " ", startingAt: 0)) \(u.role.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(u.name)") }
}
