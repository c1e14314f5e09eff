import ArgumentParser
import CRMServer

/// `crm`: the CRM server and its administration, one executable. Each subcommand is a thin
/// shell over CRMServer and CRMStore.
@main
enum Main {
    /// Runs on the main thread before any other task, which is when the server's executor
    /// may be swapped (see `ServerExecutor`). Only `serve` swaps it: the other commands
    /// are batch work with no event loops to spare a hop to.
    static func main() async {
        if CommandLine.arguments.dropFirst().first == "serve" && !ServerExecutor.runTasksOnEventLoops() {
            print("note: Swift's own executor is in use (NIO's event loops could not take over)")
        }
        await CRMCommand.main()
    }
}

struct CRMCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crm",
        abstract: "An open-source CRM: the shared customer database, its API, and the tools around it.",
        discussion: """
            Settings come from flags, then environment variables (CRM_DATABASE, CRM_HTTP_HOST, CRM_HTTP_PORT, \
            CRM_COOKIES_SECURE, CRM_LOG_LEVEL, CRM_PHONE_COUNTRY), then a JSON file named by --config or CRM_CONFIG, \
            then defaults. Try: crm serve --demo
            """,
        subcommands: [Serve.self, Migrate.self, Demo.self, UserCommand.self, TokenCommand.self, Backup.self, Summaries.self,
                      ImportCommand.self, ExportCommand.self, Duplicates.self, AnalyticsCommand.self, Staffing.self, Bench.self])
}
