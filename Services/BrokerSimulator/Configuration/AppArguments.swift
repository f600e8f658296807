import Logging
import Shared

/// When the simulated market produces ticks.
enum SessionMode: String, Sendable, CaseIterable {
    /// Data every minute of every day (local runs and tests).
    case always
    /// Only during NSE trading hours (09:15–15:30 IST, Monday–Friday); outside them a subscribe gets one
    /// snapshot tick and then only heartbeats, as Kite does.
    case exchange
}

/// Everything ``buildApplication(_:onServerRunning:)`` needs; the command line and the tests each provide one.
protocol AppArguments: Sendable {
    var host: String { get }
    var port: Int { get }
    var seed: UInt64 { get }
    /// `yyyy-MM-dd`; nil means today in IST.
    var tradingDate: String? { get }
    var tickIntervalMilliseconds: Int { get }
    /// `key:token,key:token`; nil means ``SimulatorCredentials/default``.
    var credentials: String? { get }
    var maxConnectionsPerKey: Int { get }
    var maxInstrumentsPerConnection: Int { get }
    /// Dhan: instruments per connection before the 804 disconnect.
    var dhanMaxInstrumentsPerConnection: Int { get }
    /// Kite historical-candle requests allowed per API key per second.
    var historicalRequestsPerSecond: Int { get }
    var sessionMode: SessionMode { get }
    var logLevel: Logger.Level { get }
    var logFormat: LogFormat { get }
}

extension AppArguments {
    /// Dhan's own limit unless a command line lowers it.
    var dhanMaxInstrumentsPerConnection: Int { 5000 }
    /// Kite's own limit unless a command line raises it.
    var historicalRequestsPerSecond: Int { 3 }
}

/// The validated form of ``AppArguments`` that the ticker and Dhan servers read.
struct TickerSettings: Sendable {
    /// Time between two data frames on one connection.
    var tickInterval: Duration
    /// Kite: 3 connections per API key.
    var maxConnectionsPerKey: Int
    /// Kite: 3,000 instruments per connection.
    var maxInstrumentsPerConnection: Int
    /// Dhan v2: 5 connections per client id.
    var dhanMaxConnections: Int = 5
    /// Dhan v2: 5,000 instruments per connection.
    var dhanMaxInstrumentsPerConnection: Int = 5000
    /// Time without any frame after which a 1-byte heartbeat is sent.
    var heartbeatInterval: Duration = .seconds(1)
    var sessionMode: SessionMode

    init(_ args: some AppArguments) throws(SimulatorConfigError) {
        guard (1...60_000).contains(args.tickIntervalMilliseconds) else {
            throw SimulatorConfigError(.invalid, "--tick-interval-ms must be within 1...60000, got \(args.tickIntervalMilliseconds)")
        }
        guard args.maxConnectionsPerKey >= 1 else {
            throw SimulatorConfigError(.invalid, "--max-connections-per-key must be at least 1")
        }
        guard (1...Int(UInt16.max)).contains(args.maxInstrumentsPerConnection) else {
            throw SimulatorConfigError(.invalid, "--max-instruments-per-connection must be within 1...65535")
        }
        tickInterval = .milliseconds(args.tickIntervalMilliseconds)
        maxConnectionsPerKey = args.maxConnectionsPerKey
        maxInstrumentsPerConnection = args.maxInstrumentsPerConnection
        guard (1...Int(UInt16.max)).contains(args.dhanMaxInstrumentsPerConnection) else {
            throw SimulatorConfigError(.invalid, "--dhan-max-instruments-per-connection must be within 1...65535")
        }
        dhanMaxInstrumentsPerConnection = args.dhanMaxInstrumentsPerConnection
        sessionMode = args.sessionMode
    }
}

/// A simulator setting that cannot be used.
struct SimulatorConfigError: Error, CustomStringConvertible {
    struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        static let invalid = Code(name: "invalid")
        var description: String { name }
    }

    let code: Code
    let message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { "\(code): \(message)" }
}
