import ArgumentParser
import CRMServer
import CRMStore
import Configuration
import Foundation
import Logging
import SystemPackage

/// Options every command that touches the database shares.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "A SQLite file path or a postgres:// URL (env CRM_DATABASE; default crm.sqlite in the working directory).")
    var database: String?

    @Option(help: "A JSON configuration file (env CRM_CONFIG), e.g. {\"database\": \"…\", \"http\": {\"port\": 8080}}.")
    var config: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error (env CRM_LOG_LEVEL).")
    var logLevel: String?
}

/// Resolves settings with swift-configuration: flags first, then CRM_* environment
/// variables, then the JSON file, then defaults.
struct Settings {
    let reader: ConfigReader

    init(options: DatabaseOptions, flags: [String: String] = [:]) async throws {
        var given: [AbsoluteConfigKey: ConfigValue] = [:]
        var all = flags
        if let d = options.database { all["database"] = d }
        if let l = options.logLevel { all["log.level"] = l }
        for (k, v) in all { given[AbsoluteConfigKey(k.split(separator: ".").map(String.init))] = .init(.string(v), isSecret: k == "database") }
        var providers: [any ConfigProvider] = [
            InMemoryProvider(name: "flags", values: given),
            EnvironmentVariablesProvider(secretsSpecifier: .specific(["CRM_DATABASE"])).prefixKeys(with: "crm"),
        ]
        if let file = options.config ?? ProcessInfo.processInfo.environment["CRM_CONFIG"] {
            providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(file)))
        }
        reader = ConfigReader(providers: providers)
    }

    var database: DatabaseLocation { DatabaseLocation(reader.string(forKey: "database", isSecret: true, default: "crm.sqlite")) }

    /// Country code given to phone numbers written without one (CRM_PHONE_COUNTRY).
    var phoneCountryCode: String { reader.string(forKey: "phone.country", default: "86") }

    var logLevel: Logger.Level {
        Logger.Level(rawValue: reader.string(forKey: "log.level", default: "info").lowercased()) ?? .info
    }

    func server() throws -> ServerConfiguration {
        let portText = reader.string(forKey: "http.port", default: "8080")
        guard let port = Int(portText), (1...65535).contains(port) else {
            throw ValidationError("the port must be a number from 1 to 65535, not \(portText)")
        }
        return ServerConfiguration(
            hostname: reader.string(forKey: "http.host", default: "127.0.0.1"), port: port, database: database,
            secureCookies: ["1", "true", "yes"].contains(reader.string(forKey: "cookies.secure", default: "false").lowercased()),
            defaultCountryCode: phoneCountryCode, logLevel: logLevel)
    }

    func logger(_ label: String = "crm") -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = logLevel
        return logger
    }
}

/// Opens the database, runs `body`, and keeps PostgreSQL's pool running meanwhile.
func withStore<T: Sendable>(_ location: DatabaseLocation, logger: Logger, migrate: Bool = true,
                            _ body: @Sendable (Store) async throws -> T) async throws -> T {
    let database = try await openDatabase(location, logger: logger)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { await database.run(); return nil }
        defer { group.cancelAll() }
        let store = Store(database: database)
        do {
            if migrate { try await store.migrate(logger: logger) }
            let result = try await body(store)
            await database.close()
            return result
        } catch {
            // Closed on failure too: a command that stops with an error (no such user, a bad
            // file) must say so, not trip SQLite's check for connections left open.
            await database.close()
            throw error
        }
    }
}
