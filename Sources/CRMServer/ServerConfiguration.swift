import CRMStore
import Logging

/// Everything `crm serve` can be told, by flag, environment or file.
public struct ServerConfiguration: Sendable {
    public var hostname: String
    public var port: Int
    public var database: DatabaseLocation
    /// Mark the session cookie Secure (set when served over HTTPS, directly or behind a proxy).
    public var secureCookies: Bool
    /// How long a browser session lasts without use.
    public var sessionTimeout: Duration
    /// Country code for phone numbers written without one (86 = China).
    public var defaultCountryCode: String
    /// Failed sign-ins in a row before an account is locked, and for how long.
    public var signInFailureLimit: Int64
    public var signInLockSeconds: Double
    /// bcrypt cost for new passwords (12 in production; tests use less).
    public var bcryptCost: UInt8
    public var logLevel: Logger.Level

    public init(hostname: String = "127.0.0.1", port: Int = 8080, database: DatabaseLocation = .sqlite(path: "crm.sqlite"),
                secureCookies: Bool = false, sessionTimeout: Duration = .seconds(8 * 3600), defaultCountryCode: String = "86",
                signInFailureLimit: Int64 = 5, signInLockSeconds: Double = 300, bcryptCost: UInt8 = 12, logLevel: Logger.Level = .info) {
        self.hostname = hostname; self.port = port; self.database = database; self.secureCookies = secureCookies
        self.sessionTimeout = sessionTimeout; self.defaultCountryCode = defaultCountryCode
        self.signInFailureLimit = signInFailureLimit; self.signInLockSeconds = signInLockSeconds
        self.bcryptCost = bcryptCost; self.logLevel = logLevel
    }
}
