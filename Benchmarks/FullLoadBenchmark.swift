import ArgumentParser
import BrokerWire
import Foundation
import SharedBasics
import TestSupport

/// Seed 004's load end to end on this machine: simulator → TickerService → Redis → BackendService → PostgreSQL at
/// 25,000 instruments over the simulator's three Kite keys and one Dhan client id, two ticks per instrument per second.
/// After a warm-up it measures for `seconds`, then stalls the feed, lets the pipeline drain and counts every stage from
/// the processes' own counters: what the simulator sent, TickerService decoded, dropped in its buffer and wrote to the
/// stream, BackendService folded into bars and the bars it wrote, and the difference at each stage. Beside them each
/// process's CPU share and resident memory, and Redis's memory.
///
/// Subscription backfill is off for the run (`BACKFILL_IMMEDIATE_ON_SUBSCRIBE=false`, `BACKFILL_SUBSCRIPTION_AWARE=false`):
/// 25,000 backfills at the broker's 3 requests a second would be the figure instead of the ticks.
struct FullLoadBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "full-load",
        abstract: "25,000 instruments at 2 ticks/s through simulator → TickerService → Redis → BackendService → PostgreSQL; losses per stage."
    )

    @Option(help: "Instruments subscribed (options of the simulator's universe).")
    var instruments = 25_000

    @Option(help: "Milliseconds between two frames on a broker connection (500 = two ticks per instrument per second).")
    var tickIntervalMs = 500

    @Option(help: "Mode requested for every instrument: LTP, QUOTE or FULL.")
    var mode = "QUOTE"

    @Option(help: "Seconds measured, after the warm-up.")
    var seconds = 60

    /// One reading of every stage's counter.
    struct Stages {
        var sent = 0.0, decoded = 0.0, dropped = 0.0, published = 0.0, folded = 0.0, trimmed = 0.0, bars = 0.0

        /// - Parameter sent: The simulator's count when it is already known (the simulator has stopped).
        static func read(_ platform: Platform, sent: Double? = nil) async throws -> Stages {
            var simulatorSent = sent ?? 0
            if sent == nil { simulatorSent = try await MetricsScrape.sum(platform, .simulator, "broker_sim_ws_ticks_sent_total") }
            return Stages(
                sent: simulatorSent,
                decoded: try await MetricsScrape.sum(platform, .ticker, "ticker_ticks_received_total"),
                dropped: try await MetricsScrape.sum(platform, .ticker, "ticker_ticks_dropped_total"),
                published: try await MetricsScrape.sum(platform, .ticker, "ticker_ticks_published_total"),
                folded: try await MetricsScrape.sum(platform, .backend, "backend_ticks_consumed_total"),
                trimmed: try await MetricsScrape.sum(platform, .backend, "backend_tick_trims_skipped_total"),
                bars: try await MetricsScrape.sum(platform, .backend, "backend_tick_bars_written_total")
            )
        }
    }

    func run() async throws {
        let accountsFile = FileManager.default.temporaryDirectory.appendingPathComponent("bench-full-load-\(UUID().uuidString).json").path
        try """
        [{"id":"primary","api_key":"sim_api_key","access_token":"sim_access_token"},
         {"id":"secondary","api_key":"sim_api_key_2","access_token":"sim_access_token_2"},
         {"id":"tertiary","api_key":"sim_api_key_3","access_token":"sim_access_token_3"},
         {"id":"dhan","broker":"dhan","client_id":"sim_api_key","access_token":"sim_access_token"}]
        """.write(toFile: accountsFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: accountsFile) }
        let redisServer = try await RedisServer.start()
        defer { redisServer.stop() }
        try await Platform.with(
            redis: redisServer,
            environment: [
                .ticker: ["ACCOUNTS_FILE": accountsFile, "LOG_LEVEL": "warning", "TICKS_BUFFER_FRAMES": "4096"],
                .backend: [
                    "LOG_LEVEL": "warning", "BACKFILL_IMMEDIATE_ON_SUBSCRIBE": "false", "BACKFILL_SUBSCRIPTION_AWARE": "false",
                    "TIER_B_ENABLED": "false",
                ],
            ],
            arguments: [.simulator: ["--tick-interval-ms", String(tickIntervalMs), "--log-level", "warning"]]
        ) { platform in
            let options = try await platform.instruments(exchange: "NFO").filter { $0.instrumentType == "CE" || $0.instrumentType == "PE" }
            guard options.count >= instruments else { throw PlatformError("the universe has only \(options.count) options") }
            for chunk in options.prefix(instruments).map(\.instrumentToken).chunked(5_000) {
                let json = #"{"instruments":[\#(chunk.map { #"{"instrument_token":\#($0),"requested_mode":"\#(mode)"}"# }.joined(separator: ","))]}"#
                let reply = try await platform.post(.ticker, "/subscriptions", json: json)
                guard reply.statusCode == 201 else { throw PlatformError("subscribe: \(reply.statusCode) \(reply.text)") }
            }
            var ticker: [String: Any] = [:]
            try await waitUntil("every subscribed instrument is on a streaming connection", timeout: .seconds(120), every: .milliseconds(500)) {
                ticker = try await platform.get(.ticker, "/health").json()["ticker"] as? [String: Any] ?? [:]
                return ticker["feed_streaming"] as? Bool == true
            }
            let connections = (ticker["connections"] as? [[String: Any]] ?? []).filter { ($0["instruments"] as? Int ?? 0) > 0 }
            let byBroker = Dictionary(grouping: connections) { $0["broker"] as? String ?? "?" }.mapValues { $0.reduce(0) { $0 + ($1["instruments"] as? Int ?? 0) } }
            try await Task.sleep(for: .seconds(10))  // warm-up: every connection streaming, the bar writer past its first minute

            let before = try await Stages.read(platform)
            let cost = try await StackCost.measure(platform, redis: redisServer, seconds: seconds) { 0 }
            let during = try await Stages.read(platform)

            // Stop the feed: stall every connection, count what was sent, then stop the simulator before TickerService's
            // watchdog replaces the silent connections with fresh (unstalled) ones. Then let everything in flight reach
            // PostgreSQL and count again.
            _ = try await platform.post(.simulator, "/admin/faults/stall", json: #"{"all":true}"#)
            try await Task.sleep(for: .milliseconds(300))
            let sentTotal = try await MetricsScrape.sum(platform, .simulator, "broker_sim_ws_ticks_sent_total")
            await platform.stop(.simulator)
            // Drained when every tick sent is decoded or dropped and every one written is folded, or when nothing has
            // moved for 5 s (what is left then is lost), at most 3 minutes.
            var after = try await Stages.read(platform, sent: sentTotal)
            var lastMove = ContinuousClock.now
            let drainStart = ContinuousClock.now
            while ContinuousClock.now - drainStart < .seconds(180), ContinuousClock.now - lastMove < .seconds(5) {
                try await Task.sleep(for: .milliseconds(500))
                let now = try await Stages.read(platform, sent: sentTotal)
                if now.decoded != after.decoded || now.folded != after.folded || now.dropped != after.dropped || now.trimmed != after.trimmed { lastMove = ContinuousClock.now }
                after = now
                if after.decoded + after.dropped >= sentTotal, after.folded >= after.published { break }
            }
            let drained = ContinuousClock.now - drainStart

            let window = cost.seconds
            print("\(instruments) \(mode) instruments every \(tickIntervalMs) ms: \(byBroker.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) on \(connections.count) connections")
            print(String(
                format: "over %.0f s: simulator sent %.0f ticks/s, TickerService decoded %.0f/s and wrote %.0f/s to the stream, BackendService folded %.0f/s and wrote %.0f bars/s",
                window, (during.sent - before.sent) / window, (during.decoded - before.decoded) / window, (during.published - before.published) / window,
                (during.folded - before.folded) / window, (during.bars - before.bars) / window
            ))
            print(String(
                format: "whole run, %.0f s after the feed stopped: sent %.0f, dropped in TickerService's frame buffer %.0f, decoded %.0f, written to the stream %.0f, folded %.0f, bars written %.0f",
                drained.seconds, sentTotal, after.dropped, after.decoded, after.published, after.folded, after.bars
            ))
            print(String(
                format: "lost: dropped in the buffer %.0f (%.1f%%), never decoded %.0f, decoded but not written %.0f, written but not folded %.0f (BackendService saw the stream trimmed ahead of it %.0f times and marked those spans suspect)",
                after.dropped, after.dropped / max(sentTotal, 1) * 100, max(sentTotal - after.decoded - after.dropped, 0), after.decoded - after.published,
                after.published - after.folded, after.trimmed
            ))
            print(cost.describe())
        }
    }
}
