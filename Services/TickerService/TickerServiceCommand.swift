import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceRuntime
import Shared
import SharedPostgres

/// `TickerService`: owns the broker sessions and the subscriptions; publishes events and ticks on Redis.
@main
struct TickerServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "TickerService",
        abstract: "Broker WebSocket sessions, subscriptions and subscription events.",
        subcommands: [Serve.self, Migrate.self, PrintConfig.self],
        defaultSubcommand: Serve.self
    )
}

/// The arguments `buildApplication` needs; tests pass their own.
protocol AppArguments: Sendable {
    /// Flags shared by every service.
    var common: CommonOptions { get }
}

extension TickerServiceCommand {
    /// Runs the service (the default subcommand).
    struct Serve: AsyncParsableCommand, AppArguments {
        static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the service.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await exitOnStartupFailure(service: TickerConfiguration.serviceName) {
                AllocatorArenas.limit()
                let app = try await buildApplication(self)
                try await app.runService()
            }
        }
    }

    /// Applies the database migrations and exits.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Apply database migrations and exit.")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await exitOnStartupFailure(service: TickerConfiguration.serviceName) {
                let config = try TickerConfiguration(source: common.configSource())
                Observability.bootstrap(service: TickerConfiguration.serviceName, logLevel: config.common.logLevel, logFormat: config.common.logFormat)
                let logger = Logger(label: TickerConfiguration.serviceName)
                let postgres = try await StoreConnections.postgres(
                    url: config.common.databaseURL, poolSize: 1, applicationName: "\(TickerConfiguration.serviceName)-migrate", logger: logger
                )
                do {
                    let applied = try await StoreConnections.migrate(postgres, logger: logger)
                    logger.info("migrations applied", metadata: ["migrations.applied": "\(applied)"])
                    await postgres.close()
                } catch {
                    await postgres.close()
                    throw error
                }
            }
        }
    }

    /// Prints the effective configuration, secrets masked.
    struct PrintConfig: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "print-config", abstract: "Print the configuration (secrets masked).")
        @OptionGroup var common: CommonOptions

        func run() async throws {
            try await exitOnStartupFailure(service: TickerConfiguration.serviceName) {
                let loaded = try TickerConfiguration.load(source: common.configSource())
                for (key, value) in loaded.printable { print("\(key)=\(value)") }
                print("# accounts: \(loaded.feed.accountsSummary)")
            }
        }
    }
}
