import ArgumentParser
import BrokerWire
import Foundation
import SharedBasics
import TestSupport

/// Ticks/s into Redis and TickerService's CPU share per broker, in one run: Kite at 9,000 full-mode instruments over the
/// simulator's three API keys, then Dhan at 25,000 over one client id's five connections. Each through the real release
/// binaries (simulator → TickerService → Redis), with the simulator's own count of ticks sent beside it.
struct FeedBrokersBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed-brokers",
        abstract: "Ticks/s into Redis and CPU share: Kite at 9,000 full-mode instruments and Dhan at 25,000, in one run."
    )

    @Option(help: "Full-mode Kite instruments.")
    var kite = 9_000

    @Option(help: "Full-mode Dhan instruments.")
    var dhan = 25_000

    @Option(help: "Seconds each rate is measured over.")
    var seconds = 15

    func run() async throws {
        let kiteFile = try SimulatorAccounts.writeFile()
        defer { try? FileManager.default.removeItem(atPath: kiteFile) }
        let kiteFigure = try await Self.measure(broker: "kite", instruments: kite, seconds: seconds, accountsFile: kiteFile)
        let dhanFile = try SimulatorAccounts.writeDhanFile()
        defer { try? FileManager.default.removeItem(atPath: dhanFile) }
        let dhanFigure = try await Self.measure(broker: "dhan", instruments: dhan, seconds: seconds, accountsFile: dhanFile)
        for figure in [kiteFigure, dhanFigure] { print(figure) }
    }

    /// Subscribes `instruments` options in full mode, waits for every connection to stream, then measures.
    static func measure(broker: String, instruments: Int, seconds: Int, accountsFile: String) async throws -> String {
        let redisServer = try await RedisServer.start()
        defer { redisServer.stop() }
        return try await Platform.with(
            [.simulator, .ticker], redis: redisServer,
            environment: [.ticker: ["ACCOUNTS_FILE": accountsFile, "LOG_LEVEL": "warning", "TICKS_BUFFER_FRAMES": "4096"]],
            arguments: [.simulator: ["--tick-interval-ms", "1000", "--log-level", "warning"]]
        ) { platform in
            let options = try await platform.instruments(exchange: "NFO").filter { $0.instrumentType == "CE" || $0.instrumentType == "PE" }
            guard options.count >= instruments else { throw PlatformError("the universe has only \(options.count) options") }
            for chunk in options.prefix(instruments).map(\.instrumentToken).chunked(5_000) {
                let json = #"{"instruments":[\#(chunk.map { #"{"instrument_token":\#($0),"requested_mode":"FULL"}"# }.joined(separator: ","))]}"#
                let reply = try await platform.post(.ticker, "/subscriptions", json: json)
                guard reply.statusCode == 201 else { throw PlatformError("subscribe: \(reply.statusCode) \(reply.text)") }
            }
            try await Task.sleep(for: .seconds(5))  // warm-up: every connection streaming full packets
            guard let pid = platform.pid(.ticker), let simulatorPID = platform.pid(.simulator) else { throw PlatformError("no pid") }
            let publishedBefore = try await TickerBenchmark.publishedTicks(platform)
            let sentBefore = try await Self.simulatorTicksSent(platform, feed: broker)
            let cpuBefore = ProcessStats.cpuSeconds(pid: pid) ?? 0
            let simulatorCPUBefore = ProcessStats.cpuSeconds(pid: simulatorPID) ?? 0
            let wallStart = ContinuousClock.now
            try await Task.sleep(for: .seconds(seconds))
            let published = try await TickerBenchmark.publishedTicks(platform) - publishedBefore
            let sent = try await Self.simulatorTicksSent(platform, feed: broker) - sentBefore
            let cpu = (ProcessStats.cpuSeconds(pid: pid) ?? 0) - cpuBefore
            let simulatorCPU = (ProcessStats.cpuSeconds(pid: simulatorPID) ?? 0) - simulatorCPUBefore
            let wall = ContinuousClock.now - wallStart
            let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
            let rss = ProcessStats.residentBytes(pid: pid) ?? 0
            return String(
                format: "%@: %d full-mode instruments: simulator sent %.0f ticks/s, TickerService wrote %.0f ticks/s into Redis; TickerService CPU %.1f%% of one core, resident %d MiB (simulator CPU %.1f%%)",
                broker, instruments, sent / wallSeconds, published / wallSeconds, cpu / wallSeconds * 100, rss / 1_048_576, simulatorCPU / wallSeconds * 100
            )
        }
    }

    /// `broker_sim_ws_ticks_sent_total{feed=...}` from the simulator's /metrics.
    static func simulatorTicksSent(_ platform: Platform, feed: String) async throws -> Double {
        try await MetricsScrape.sum(platform, .simulator, "broker_sim_ws_ticks_sent_total", label: "\"\(feed)\"")
    }
}
