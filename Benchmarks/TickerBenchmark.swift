import ArgumentParser
import BrokerWire
import Foundation
import Logging
import Shared
import SharedRedis
import TestSupport

/// TickerService through its real release binary against the simulator: subscribe latency, a 500-instrument
/// batch, 25,000 subscriptions (memory, list latency) and sustained ticks into Redis with 9,000 full-mode instruments.
struct TickerBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ticker",
        abstract: "TickerService: subscribe latency, 25k subscriptions, sustained ticks/s into Redis and CPU share."
    )

    @Option(help: "Single subscriptions timed one after another.")
    var singles = 200

    @Option(help: "Subscriptions for the memory and list-latency figure.")
    var many = 25_000

    @Option(help: "Full-mode instruments for the tick-rate figure.")
    var streaming = 9_000

    @Option(help: "Seconds the tick rate is measured over.")
    var seconds = 15

    @Option(name: .customLong("ticker-env"), help: "KEY=VALUE added to TickerService's environment (repeatable), to compare settings.")
    var tickerEnvironment: [String] = []

    func run() async throws {
        var extraEnvironment: [String: String] = [:]
        for pair in tickerEnvironment {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--ticker-env takes KEY=VALUE, not \(pair)") }
            extraEnvironment[String(parts[0])] = String(parts[1])
        }
        let accountsFile = try SimulatorAccounts.writeFile()
        defer { try? FileManager.default.removeItem(atPath: accountsFile) }
        let redisServer = try await RedisServer.start()
        defer { redisServer.stop() }

        try await Platform.with(
            [.simulator, .ticker], redis: redisServer,
            environment: [.ticker: extraEnvironment.merging(["ACCOUNTS_FILE": accountsFile, "LOG_LEVEL": "warning"]) { _, fixed in fixed }],
            arguments: [.simulator: ["--tick-interval-ms", "1000", "--log-level", "warning"]]
        ) { platform in
            let redis = try platform.redisClient()
            let options = try await platform.instruments(exchange: "NFO").filter { $0.instrumentType == "CE" || $0.instrumentType == "PE" }
            guard options.count >= many + singles + 500 else { throw PlatformError("the universe has only \(options.count) options") }
            var next = options.makeIterator()
            func take(_ count: Int) -> [UInt32] { (0..<count).compactMap { _ in next.next()?.instrumentToken } }

            // 1. Single subscriptions: HTTP round trip (the feed sends the subscribe frame before answering), and until the event is on the stream.
            var http = LatencySample()
            var toStream = LatencySample()
            var lastID = "0-0"
            if let tail = try await redis.send(["XREVRANGE", platform.channels.eventsStream, "+", "-", "COUNT", "1"]).array?.first?.array?.first?.string {
                lastID = tail
            }
            for token in take(singles) {
                let start = ContinuousClock.now
                let reply = try await platform.post(.ticker, "/subscriptions", json: #"{"instrument_token":\#(token),"requested_mode":"FULL"}"#)
                guard reply.statusCode == 201 else { throw PlatformError("subscribe \(token): \(reply.statusCode) \(reply.text)") }
                http.add(ContinuousClock.now - start)
                let deadline = ContinuousClock.now + .seconds(30)
                while true {
                    guard ContinuousClock.now < deadline else { throw PlatformError("the event for \(token) never reached the stream") }
                    let read = try await redis.send(["XREAD", "BLOCK", "1000", "STREAMS", platform.channels.eventsStream, lastID])
                    guard let entries = read.array?.first?.array?.last?.array, let last = entries.last?.array?.first?.string else { continue }
                    lastID = last
                    break
                }
                toStream.add(ContinuousClock.now - start)
            }
            print(http.describe("subscribe, HTTP request → response (subscribe frame sent, row + outbox committed)"))
            print(toStream.describe("subscribe, HTTP request → event on the stream"))

            // 2. A batch of 500.
            let batch = take(500)
            let batchStart = ContinuousClock.now
            let body = #"{"instruments":[\#(batch.map { #"{"instrument_token":\#($0),"requested_mode":"QUOTE"}"# }.joined(separator: ","))]}"#
            let batchReply = try await platform.post(.ticker, "/subscriptions", json: body)
            guard batchReply.statusCode == 201 else { throw PlatformError("batch: \(batchReply.statusCode) \(batchReply.text)") }
            let batchHTTP = ContinuousClock.now - batchStart
            let before = singles
            try await waitUntil("all 500 batch events are on the stream", timeout: .seconds(120), every: .milliseconds(20)) {
                (try await redis.send(["XLEN", platform.channels.eventsStream]).int ?? 0) >= before + 500
            }
            print("batch of 500: HTTP \(batchHTTP), all 500 events on the stream after \(ContinuousClock.now - batchStart)")

            // 3. Up to `many` subscriptions in batches of 5,000: resident memory and list latency.
            var total = singles + 500
            var someToken: UInt32?
            while total < many {
                let chunk = take(min(5_000, many - total))
                someToken = someToken ?? chunk.first
                let json = #"{"instruments":[\#(chunk.map { #"{"instrument_token":\#($0),"requested_mode":"LTP"}"# }.joined(separator: ","))]}"#
                let reply = try await platform.post(.ticker, "/subscriptions", json: json)
                guard reply.statusCode == 201 else { throw PlatformError("bulk: \(reply.statusCode) \(reply.text)") }
                total += chunk.count
            }
            // The whole list right after a change (built afresh: a holder added to one instrument before each read) and
            // read again with nothing changed (kept from the previous answer).
            var changed = LatencySample()
            if let someToken {
                for round in 0..<20 {
                    let holder = #"{"instrument_token":\#(someToken),"requested_mode":"LTP","holder":"bench:\#(round)"}"#
                    guard [200, 201].contains(try await platform.post(.ticker, "/subscriptions", json: holder).statusCode) else { throw PlatformError("holder \(round) refused") }
                    let start = ContinuousClock.now
                    _ = try await platform.get(.ticker, "/subscriptions?status=active")
                    changed.add(ContinuousClock.now - start)
                }
            }
            var list = LatencySample()
            var listed = 0
            for _ in 0..<50 {
                let start = ContinuousClock.now
                let reply = try await platform.get(.ticker, "/subscriptions?status=active")
                list.add(ContinuousClock.now - start)
                listed = try reply.json()["count"] as? Int ?? 0
            }
            // Pages of 1,000, walked from the first to the last five times.
            var pages = LatencySample()
            var paged = 0
            for _ in 0..<5 {
                var cursor: String?
                paged = 0
                repeat {
                    let start = ContinuousClock.now
                    let reply = try await platform.get(.ticker, "/subscriptions?status=active&limit=1000" + (cursor.map { "&cursor=\($0)" } ?? ""))
                    pages.add(ContinuousClock.now - start)
                    let body = try reply.json()
                    paged += body["count"] as? Int ?? 0
                    cursor = body["next_cursor"] as? String
                } while cursor != nil
            }
            let rss = platform.pid(.ticker).flatMap(ProcessStats.residentBytes) ?? 0
            print("\(listed) active subscriptions: TickerService resident memory \(rss / 1_048_576) MiB")
            print(changed.describe("GET /subscriptions?status=active with \(listed) rows, right after a change (built afresh)"))
            print(list.describe("GET /subscriptions?status=active with \(listed) rows, unchanged since the last read (kept)"))
            print(pages.describe("GET /subscriptions?status=active&limit=1000 (\(paged) rows in pages of 1,000; the first walk built, the next four kept)"))

            // 4. Sustained ticks: the first `streaming` instruments in full mode (the rest unsubscribed), measured over `seconds`.
            let all = try (try await platform.get(.ticker, "/subscriptions?status=active").json()["subscriptions"] as? [[String: Any]] ?? [])
                .compactMap { $0["instrument_token"] as? Int }
            let keep = Array(all.prefix(streaming))
            for token in all.dropFirst(streaming) { _ = try await platform.delete(.ticker, "/subscriptions/\(token)") }
            let upgrade = #"{"instruments":[\#(keep.map { #"{"instrument_token":\#($0),"requested_mode":"FULL"}"# }.joined(separator: ","))]}"#
            _ = try await platform.post(.ticker, "/subscriptions", json: upgrade)
            try await Task.sleep(for: .seconds(5))  // warm-up: every connection streaming full frames
            guard let pid = platform.pid(.ticker) else { throw PlatformError("no ticker pid") }
            let ticksBefore = try await Self.publishedTicks(platform)
            let cpuBefore = ProcessStats.cpuSeconds(pid: pid) ?? 0
            let wallStart = ContinuousClock.now
            try await Task.sleep(for: .seconds(seconds))
            let ticksAfter = try await Self.publishedTicks(platform)
            let cpuAfter = ProcessStats.cpuSeconds(pid: pid) ?? 0
            let wall = ContinuousClock.now - wallStart
            let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
            print(String(
                format: "%d full-mode instruments: %.0f ticks/s into Redis; TickerService CPU %.1f%% of one core (%.2f s over %.1f s)",
                keep.count, (ticksAfter - ticksBefore) / wallSeconds, (cpuAfter - cpuBefore) / wallSeconds * 100, cpuAfter - cpuBefore, wallSeconds
            ))
        }
    }

    /// `ticker_ticks_published_total` from the service's /metrics.
    static func publishedTicks(_ platform: Platform) async throws -> Double {
        try await MetricsScrape.sum(platform, .ticker, "ticker_ticks_published_total")
    }
}
