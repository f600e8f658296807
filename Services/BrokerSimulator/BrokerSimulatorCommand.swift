import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Shared

/// `BrokerSimulator`: a loopback stand-in for Zerodha Kite Connect (ticker WebSocket, instruments, historical
/// candles) and the Dhan v2 market feed. Every option is documented in docs/simulator.md.
@main
struct BrokerSimulatorCommand: AsyncParsableCommand, AppArguments {
    static let configuration = CommandConfiguration(
        commandName: "BrokerSimulator",
        abstract: "Kite Connect / Dhan v2 broker simulator for local runs and tests."
    )

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (env BROKER_SIM_PORT).")
    var port: Int = Int(ProcessInfo.processInfo.environment["BROKER_SIM_PORT"] ?? "") ?? 8090

    @Option(help: "Seed of the instrument universe and the price paths: the same seed gives the same market.")
    var seed: UInt64 = 42

    @Option(name: .customLong("trading-date"), help: "Trading date yyyy-MM-dd (default: today in IST).")
    var tradingDate: String?

    @Option(name: .customLong("tick-interval-ms"), help: "Milliseconds between two tick frames on a connection.")
    var tickIntervalMilliseconds: Int = 1000

    @Option(help: "Accepted credentials, \"api_key:access_token,...\" (default: sim_api_key:sim_access_token and _2, _3).")
    var credentials: String?

    @Option(name: .customLong("max-connections-per-key"), help: "Ticker connections allowed per API key (Kite: 3).")
    var maxConnectionsPerKey: Int = 3

    @Option(name: .customLong("max-instruments-per-connection"), help: "Instruments allowed per ticker connection (Kite: 3000).")
    var maxInstrumentsPerConnection: Int = 3000

    @Option(name: .customLong("dhan-max-instruments-per-connection"), help: "Instruments allowed per Dhan feed connection (Dhan: 5000); more gets disconnect code 804.")
    var dhanMaxInstrumentsPerConnection: Int = 5000

    @Option(
        name: .customLong("historical-requests-per-second"),
        help: "Kite historical-candle requests allowed per API key per second (Kite: 3); more get 429."
    )
    var historicalRequestsPerSecond: Int = 3

    @Option(name: .customLong("session-mode"), help: "always: ticks every minute of every day; exchange: only in NSE hours.")
    var sessionMode: SessionMode = .always

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(name: .customLong("log-format"), help: "human or json.")
    var logFormat: LogFormat = .human

    func run() async throws {
        let app = try await buildApplication(self)
        try await app.runService()
    }
}

extension SessionMode: ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}
