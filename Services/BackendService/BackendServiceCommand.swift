import ArgumentParser
import Hummingbird
import ServiceRuntime
import Shared

/// `BackendService`: consumes subscription events, backfills candles, builds bars, serves the user APIs.
@main
struct BackendServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "BackendService",
        abstract: "Event-driven backfill, bars from ticks and the user-facing market-data APIs.",
        subcommands: [Serve.self, Backfill.self],
        defaultSubcommand: Serve.self
    )
}

extension BackendServiceCommand {
    /// Runs the service (the default subcommand: `BackendService --port 8081` is `BackendService serve --port 8081`).
    struct Serve: AsyncParsableCommand, AppArguments {
        static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the service.")

        @OptionGroup var common: CommonOptions

        @Flag(name: .customLong("print-config"), help: "Print the configuration (secrets masked) and exit.")
        var printConfig = false

        func run() async throws {
            try await exitOnStartupFailure(service: BackendConfiguration.serviceName) {
                if printConfig {
                    let loaded = try BackendConfiguration.load(source: common.configSource())
                    for (key, value) in loaded.printable { print("\(key)=\(value)") }
                    return
                }
                AllocatorArenas.limit()
                let app = try await buildApplication(self)
                try await app.runService()
            }
        }
    }
}

/// The arguments `buildApplication` needs; tests pass their own.
protocol AppArguments: Sendable {
    /// Flags shared by every service.
    var common: CommonOptions { get }
}
