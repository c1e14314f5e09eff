import CRMAPI
import CRMCore
import CRMStore
import Foundation
import Hummingbird
import HummingbirdAuth
import Logging
import OpenAPIHummingbird
import OpenAPIRuntime
import Prometheus
import ServiceLifecycle

/// What the application needs from outside, passed in so tests can build it in-process.
public struct ApplicationDependencies: Sendable {
    public var store: Store
    public var metrics: PrometheusCollectorRegistry
    public var persist: any PersistDriver
    public var analytics: CustomerBaseRefresh

    public init(store: Store, metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), persist: any PersistDriver = MemoryPersistDriver(),
                logger: Logger = Logger(label: "crm")) {
        self.store = store
        self.metrics = metrics
        self.persist = persist
        self.analytics = CustomerBaseRefresh(store: store, logger: logger)
    }
}

/// Builds the HTTP application: health and metrics, the OpenAPI document, the API under
/// /api/v1, and the browser pages. The database's own service (PostgreSQL's pool) runs beside it, and
/// shuts down after the server has finished its in-flight requests.
/// `beforeServing` runs once the database service is up (migrations, demo data) and
/// before the port opens.
public func buildApplication(configuration: ServerConfiguration, dependencies: ApplicationDependencies, logger: Logger,
                             beforeServing: @escaping @Sendable () async throws -> Void = {}) throws -> some ApplicationProtocol {
    let router = try buildRouter(configuration: configuration, dependencies: dependencies, logger: logger)
    var services: [any Service] = [DatabaseService(database: dependencies.store.database),
                                   ScheduledAnalyticsRefresh(refresh: dependencies.analytics, store: dependencies.store, logger: logger)]
    if let memory = dependencies.persist as? MemoryPersistDriver<ContinuousClock> { services.append(memory) }
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.hostname, port: configuration.port), serverName: "crm"),
        services: services,
        logger: logger)
    app.beforeServerStarts(perform: beforeServing)
    return app
}

/// `expressOperations: false` leaves every operation to the generated handlers (for tests
/// that compare the two).
public func buildRouter(configuration: ServerConfiguration, dependencies: ApplicationDependencies, logger: Logger,
                        expressOperations: Bool = true) throws -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: LogRequestsMiddleware(.debug))

    router.get("/healthz") { _, _ in "ok" }
    router.get("/metrics") { _, _ -> Response in
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; version=0.0.4"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: dependencies.metrics.emitToBuffer())))
    }
    let specification = try OpenAPIDocument.contents()
    router.get("/openapi.yaml") { _, _ -> Response in
        var headers = HTTPFields()
        headers[.contentType] = "application/yaml; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: specification)))
    }

    let authenticator = Authenticator(store: dependencies.store, persist: dependencies.persist, configuration: configuration)
    // Hashed now rather than by the first sign-in with an unknown name, on an event loop.
    _ = Authenticator.decoyHash
    let api = router.group("api/v1").add(middleware: AuthenticationMiddleware(authenticator: authenticator))
    let imports = ImportJobs(store: dependencies.store, logger: logger)
    let implementation = APIImplementation(store: dependencies.store, authenticator: authenticator, analytics: dependencies.analytics,
                                           imports: imports, configuration: configuration, logger: logger)
    // The group already carries the /api/v1 prefix.
    try implementation.register(on: api, express: expressOperations)
    WebApp(store: dependencies.store, authenticator: authenticator, analytics: dependencies.analytics, imports: imports,
           configuration: configuration, logger: logger).register(on: router)
    return router
}

/// Runs the database's background work (PostgreSQL's connection pool) as a service.
struct DatabaseService: Service {
    let database: any StoreDatabase

    /// Services shut down in reverse order, so by the time this one is told to stop the
    /// HTTP server has finished its in-flight requests and the database can close.
    func run() async throws {
        if database.dialect == .postgres {
            await cancelWhenGracefulShutdown { await database.run() }
        } else {
            try? await gracefulShutdown()
        }
        await database.close()
    }
}
