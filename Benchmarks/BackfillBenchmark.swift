import ArgumentParser
import BrokerWire
import Foundation
import Shared
import SharedPostgres
import TestSupport

/// The whole chain as real release binaries (simulator, TickerService with three accounts, BackendService):
/// subscription event → immediate backfill through TickerService's paced `/history` → bars queryable.
struct BackfillBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Event → backfilled bars queryable (p50/p99), a burst of 500 subscriptions vs the rate-limit bound, bars/s by backfill."
    )

    @Option(help: "Subscriptions timed one at a time.")
    var singles = 30

    @Option(help: "Subscriptions in the burst.")
    var burst = 500

    func run() async throws {
        let accountsFile = try SimulatorAccounts.writeFile()
        defer { try? FileManager.default.removeItem(atPath: accountsFile) }
        let redis = try await RedisServer.start()
        defer { redis.stop() }
        try await Platform.with(
            redis: redis,
            environment: [
                .ticker: ["ACCOUNTS_FILE": accountsFile, "LOG_LEVEL": "warning"],
                .backend: ["LOG_LEVEL": "warning", "TICK_BARS_ENABLED": "false"],
            ],
            arguments: [.simulator: ["--tick-interval-ms", "1000", "--log-level", "warning"]]
        ) { platform in
            let options = try await platform.instruments(exchange: "NFO").filter { $0.instrumentType == "PE" }
            guard options.count >= singles + burst else { throw PlatformError("only \(options.count) options") }
            var next = options.makeIterator()

            // 1. One at a time: POST → first backfilled bar visible through GET /bars.
            var latency = LatencySample()
            for _ in 0..<singles {
                guard let token = next.next()?.instrumentToken else { break }
                let start = ContinuousClock.now
                let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token":\#(token),"requested_mode":"QUOTE"}"#)
                guard reply.statusCode == 201 else { throw PlatformError("subscribe: \(reply.statusCode) \(reply.text)") }
                try await waitUntil("bars for \(token) are queryable", timeout: .seconds(60), every: .milliseconds(10)) {
                    let bars = try await platform.get(.backend, "/bars?instrument_token=\(token)&timeframe=1min").json()
                    return (bars["count"] as? Int ?? 0) > 0
                }
                latency.add(ContinuousClock.now - start)
            }
            print(latency.describe("subscription → backfilled bars queryable via GET /bars"))

            // 2. A burst: one batch POST, then until every instrument has its backfilled history.
            let tokens = (0..<burst).compactMap { _ in next.next()?.instrumentToken }
            let barsBefore = try await Self.backfilledBars(platform)
            let start = ContinuousClock.now
            let body = #"{"instruments":[\#(tokens.map { #"{"instrument_token":\#($0),"requested_mode":"QUOTE"}"# }.joined(separator: ","))]}"#
            let reply = try await platform.post(.ticker, "/subscriptions", json: body)
            guard reply.statusCode == 201 else { throw PlatformError("burst: \(reply.statusCode) \(reply.text)") }
            try await waitUntil("all \(tokens.count) instruments are backfilled", timeout: .seconds(900), every: .milliseconds(100)) {
                let rows = try await platform.postgres.query(
                    "SELECT count(DISTINCT instrument_token) AS n FROM bars_1m WHERE source = 'backfill' AND instrument_token = ANY($1::bigint[])",
                    ["{" + tokens.map(String.init).joined(separator: ",") + "}"]
                )
                return try rows.first?.decode(Int.self, "n") == tokens.count
            }
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let bars = try await Self.backfilledBars(platform) - barsBefore
            // One /history request per instrument (a two-hour window), at 3 requests/s per account.
            let bound = Double(tokens.count) / (3.0 * Double(SimulatorAccounts.count))
            print(String(format: "burst of %d subscriptions: all backfilled after %.1f s; rate-limit lower bound %.1f s (%d requests ÷ (3/s × %d accounts)); %.2f× the bound",
                         tokens.count, seconds, bound, tokens.count, SimulatorAccounts.count, seconds / bound))
            print(String(format: "bars written by backfill: %d in %.1f s = %.0f bars/s", bars, seconds, Double(bars) / seconds))
        }
    }

    static func backfilledBars(_ platform: Platform) async throws -> Int {
        try await platform.postgres.query("SELECT count(*) AS n FROM bars_1m WHERE source = 'backfill'").first?.decode(Int.self, "n") ?? 0
    }
}
