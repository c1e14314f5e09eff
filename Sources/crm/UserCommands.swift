import ArgumentParser
import CRMCore
import CRMServer
import CRMStore
import Foundation

/// The command line acts as the system itself (no signed-in actor), as an administrator
/// at the machine would; what it does is still audited.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Manage users.", subcommands: [Add.self, List.self, ResetPassword.self, Disable.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user.")
        @OptionGroup var options: DatabaseOptions
        @Option(help: "Sign-in name (lower-case).") var username: String
        @Option(help: "Display name.") var name: String
        @Option(help: "admin, manager, sales, marketing or service.") var role: String
        @Option(help: "Password (at least 10 characters); generated and printed if omitted.") var password: String?
        @Option(help: "zh-Hans or en.") var locale = "zh-Hans"

        func run() async throws {
            guard let role = UserRole(rawValue: role) else { throw ValidationError("--role must be one of \(UserRole.allCases.map(\.rawValue).joined(separator: ", "))") }
            let password = password ?? generatedPassword()
            try Authenticator.checkPasswordStrength(password)
            let settings = try await Settings(options: options)
            let hash = try await Authenticator.hashPassword(password, cost: 12)
            let (username, name, locale) = (username, name, locale)
            let user = try await withStore(settings.database, logger: settings.logger()) { store in
                try await store.users.create(username: username, displayName: name, role: role, passwordHash: hash, locale: locale, by: nil)
            }
            print("Added \(user.username) (\(user.role.rawValue)), id \(user.id).")
            if self.password == nil { print("Password: \(password)") }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let settings = try await Settings(options: options)
            let users = try await withStore(settings.database, logger: settings.logger()) { try await $0.users.list() }
            for u in users {
                print("\(String(u.id.rawValue).padding(toLength: 5, withPad: " ", startingAt: 0)) \(u.username.padding(toLength: 16, withPad: " ", startingAt: 0)) \(u.role.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(u.disabled ? "disabled" : "active  ") \(u.displayName)")
            }
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set a new password (and unlock the account).")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "The username.") var username: String
        @Option(help: "The new password; generated and printed if omitted.") var password: String?

        func run() async throws {
            let password = password ?? generatedPassword()
            try Authenticator.checkPasswordStrength(password)
            let settings = try await Settings(options: options)
            let hash = try await Authenticator.hashPassword(password, cost: 12)
            let username = username
            try await withStore(settings.database, logger: settings.logger()) { store in
                guard let user = try await store.users.credentials(username: username)?.user else { throw ValidationError("no user \(username)") }
                try await store.users.setPassword(user.id, hash: hash, by: nil)
            }
            print(self.password == nil ? "New password for \(username): \(password)" : "Password changed for \(username).")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user: they can no longer sign in, and their tokens stop working.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "The username.") var username: String

        func run() async throws {
            let settings = try await Settings(options: options)
            let username = username
            try await withStore(settings.database, logger: settings.logger()) { store in
                guard let user = try await store.users.credentials(username: username)?.user else { throw ValidationError("no user \(username)") }
                _ = try await store.users.update(user.id, displayName: user.displayName, role: user.role, locale: user.locale, disabled: true, by: nil)
            }
            print("Disabled \(username).")
        }
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage API tokens.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API token; the secret is printed once.")
        @OptionGroup var options: DatabaseOptions
        @Option(help: "The user the token acts as.") var user: String
        @Option(help: "A name to recognise it by, e.g. the integration.") var name: String
        @Option(help: "read or readWrite.") var scope = "read"

        func run() async throws {
            guard let scope = APIToken.Scope(rawValue: scope) else { throw ValidationError("--scope must be read or readWrite") }
            let settings = try await Settings(options: options)
            let secret = Authenticator.newTokenSecret()
            let (username, name) = (user, name)
            let token = try await withStore(settings.database, logger: settings.logger()) { store in
                guard let user = try await store.users.credentials(username: username)?.user else { throw ValidationError("no user \(username)") }
                return try await store.users.createToken(for: user.id, name: name, scope: scope, hash: Authenticator.tokenHash(secret), by: nil)
            }
            print("Token \(token.id) (\(token.scope.rawValue)) for \(username). Send it as: Authorization: Bearer \(secret)")
            print("It is shown only now; store it safely.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API tokens.")
        @OptionGroup var options: DatabaseOptions
        @Option(help: "Only this user's tokens.") var user: String?

        func run() async throws {
            let settings = try await Settings(options: options)
            let username = user
            let tokens = try await withStore(settings.database, logger: settings.logger()) { store in
                var id: User.ID?
                if let username {
                    guard let u = try await store.users.credentials(username: username)?.user else { throw ValidationError("no user \(username)") }
                    id = u.id
                }
                return try await store.users.tokens(of: id, by: nil)
            }
            for t in tokens {
                print("\(t.id)\tuser \(t.userID)\t\(t.scope.rawValue)\t\(t.revokedAt == nil ? "active" : "revoked")\t\(t.name)")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API token.")
        @OptionGroup var options: DatabaseOptions
        @Argument(help: "The token id.") var id: Int64

        func run() async throws {
            let settings = try await Settings(options: options)
            let id = id
            try await withStore(settings.database, logger: settings.logger()) { store in
                try await store.users.revokeToken(APIToken.ID(id), by: nil)
            }
            print("Revoked token \(id).")
        }
    }
}

func generatedPassword() -> String {
    let alphabet = Array("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    var rng = SystemRandomNumberGenerator()
    return String((0..<16).map { _ in alphabet.randomElement(using: &rng)! })
}
