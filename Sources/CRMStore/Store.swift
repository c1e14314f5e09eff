import CRMCore
import Foundation
import Logging
import SQLKit

/// Everything about one customer that a salesperson wants before a call, in one read.
public struct Customer360: Sendable {
    public var customer: Customer
    public var contacts: [ContactLink]
    public var summaries: [PurchaseSummary]
    public var recentOrders: [Order]
    public var interactions: [Interaction]
    public var openTasks: [FollowUpTask]
    public var consents: [Consent]
    /// The latest analysis of this customer (nil before the first analytics run).
    public var analysis: StoredCustomerAnalysis?
    /// Tier and loyalty-stage changes, newest first.
    public var analyticsHistory: [AnalyticsChange]
}

/// The repositories over one database, built once and passed to whoever needs them.
public struct Store: Sendable {
    public let database: any StoreDatabase
    public let customers: CustomerRepository
    public let contacts: ContactRepository
    public let products: ProductRepository
    public let orders: OrderRepository
    public let summaries: PurchaseSummaryRepository
    public let interactions: InteractionRepository
    public let tasks: TaskRepository
    public let consents: ConsentRepository
    public let users: UserRepository
    public let customFields: CustomFieldRepository
    public let audit: AuditLog
    public let analytics: AnalyticsRepository
    public let customerImport: CustomerImporter
    public let orderImport: OrderImporter
    public let productImport: ProductImporter
    public let interactionImport: InteractionImporter
    public let customerExport: CustomerExporter
    public let duplicates: DuplicateFinder
    public let merges: CustomerMergeRepository
    public let importProfiles: ImportProfileRepository
    public let savedViews: SavedViewRepository

    public init(database: any StoreDatabase, defaultCountryCode: String = "86") {
        self.database = database
        customers = CustomerRepository(database: database, defaultCountryCode: defaultCountryCode)
        contacts = ContactRepository(database: database)
        products = ProductRepository(database: database)
        orders = OrderRepository(database: database)
        summaries = PurchaseSummaryRepository(database: database)
        interactions = InteractionRepository(database: database)
        tasks = TaskRepository(database: database)
        consents = ConsentRepository(database: database)
        users = UserRepository(database: database)
        customFields = CustomFieldRepository(database: database)
        audit = AuditLog(database: database)
        analytics = AnalyticsRepository(database: database)
        customerImport = CustomerImporter(database: database)
        orderImport = OrderImporter(database: database)
        productImport = ProductImporter(database: database)
        interactionImport = InteractionImporter(database: database)
        customerExport = CustomerExporter(database: database, customers: customers)
        duplicates = DuplicateFinder(database: database)
        merges = CustomerMergeRepository(database: database, defaultCountryCode: defaultCountryCode)
        importProfiles = ImportProfileRepository(database: database)
        savedViews = SavedViewRepository(database: database)
    }

    /// Applies pending migrations.
    public func migrate(logger: Logger) async throws {
        try await Migrator(database: database, logger: logger).migrate()
    }

    /// A customer with their latest analysis, read on one connection.
    public func customerWithAnalysis(_ id: Customer.ID) async throws -> (Customer, StoredCustomerAnalysis?) {
        // One query, not two: the API's most frequent read pays one hand-off to the
        // database's thread and one statement preparation instead of two. The two tables
        // share no column name (the analysis has `customer_id`, not `id`); a column added
        // to both would have to be selected by alias here.
        let found = try await database.lookup { db in
            try await db.rows("""
                SELECT c.*, a.* FROM customers c LEFT JOIN customer_analytics a ON a.customer_id = c.id WHERE c.id = \(bind: id.rawValue)
                """) { r -> (Customer, StoredCustomerAnalysis?) in
                (try CustomerRepository.decode(r), try r.optionalInt64("run_id") == nil ? nil : try AnalyticsRepository.decode(r))
            }.first
        }
        guard let found else { throw DomainError.notFound(entity: CustomerRepository.entity, id: "\(id)") }
        return found
    }

    /// The customer 360 view: profile, contacts, summaries, the last orders and
    /// interactions, open tasks and current consents: a handful of reads by key.
    public func customer360(_ id: Customer.ID, recent: Int = 10) async throws -> Customer360 {
        let view = try await database.lookup { db -> Customer360? in
            guard let customer = try await CustomerRepository.fetch(db, id) else { return nil }
            return Customer360(
                customer: customer,
                contacts: try await ContactRepository.links(db, id),
                summaries: try await db.rows("SELECT * FROM purchase_summaries WHERE customer_id = \(bind: id.rawValue) ORDER BY currency", PurchaseSummaries.decode),
                recentOrders: try await OrderRepository.fetchMany(db, "SELECT * FROM orders WHERE customer_id = \(bind: id.rawValue) ORDER BY order_date DESC, id DESC LIMIT \(bind: recent)"),
                interactions: try await db.rows("SELECT * FROM interactions WHERE customer_id = \(bind: id.rawValue) ORDER BY occurred_at DESC, id DESC LIMIT \(bind: recent)", InteractionRepository.decode),
                openTasks: try await db.rows("SELECT * FROM tasks WHERE customer_id = \(bind: id.rawValue) AND status = 'open' ORDER BY due_date, id LIMIT 50", TaskRepository.decode),
                consents: try await ConsentRepository.current(db, id),
                analysis: try await AnalyticsRepository.analyses(db, [id])[id],
                analyticsHistory: try await AnalyticsRepository.history(db, id, limit: 20))
        }
        guard let view else { throw DomainError.notFound(entity: CustomerRepository.entity, id: "\(id)") }
        return view
    }
}
