import ArgumentParser
import BrokerWire
import Foundation
import Logging
import Shared
import SharedInstruments
import SharedPostgres
import SharedRedis
import TestSupport

/// Seed 004's two-tier system as real release binaries (simulator, TickerService on the simulator's three Kite keys,
/// BackendService with Tier B on): Tier B preload, search, option chains, watchlist add → streaming, the stream's
/// fan-out beside a stalled client, what the stack costs with Tier B streaming, and a rebalance of 3,000 instruments.
struct TiersBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tiers",
        abstract: "Tier B preload, search p50/p99 (in-process and HTTP), option chain p99, watchlist add → streaming, stream fan-out, stack cost, rebalance of 3,000."
    )

    @Option(help: "Stream clients in the fan-out (besides one stalled client).")
    var clients = 20

    @Option(help: "Seconds each measured phase runs.")
    var seconds = 20

    func run() async throws {
        let accountsFile = try SimulatorAccounts.writeFile()
        defer { try? FileManager.default.removeItem(atPath: accountsFile) }
        try await tiers(accountsFile: accountsFile)
        try await rebalance(accountsFile: accountsFile)
    }

    // MARK: Tier B, search, chains, watchlists, stream

    func tiers(accountsFile: String) async throws {
        let redis = try await RedisServer.start()
        defer { redis.stop() }
        let client = RedisClient(configuration: try RedisConfiguration(url: redis.url), logger: Logger(label: "bench.redis"))
        defer { Task { await client.close() } }
        try await Platform.with(
            redis: redis,
            environment: [
                .ticker: ["ACCOUNTS_FILE": accountsFile, "LOG_LEVEL": "warning"],
                .backend: ["LOG_LEVEL": "warning", "TIER_B_ENABLED": "true", "TIER_B_PRICE_TIMEOUT": "120", "EOD_ENABLED": "false", "RECONCILE_ENABLED": "false"],
            ],
            arguments: [.simulator: ["--tick-interval-ms", "1000", "--log-level", "warning"]]
        ) { platform in
            // 1. Tier B: seed 004's list with the default settings.
            try await waitUntil("Tier B is loaded", timeout: .seconds(600), every: .milliseconds(200)) {
                let status = try await platform.get(.backend, "/api/v2/subscriptions/status").json()
                return (status["tier_b"] as? [String: Any])?["state"] as? String == "loaded"
            }
            let status = try await platform.get(.backend, "/api/v2/subscriptions/status").json()
            let tierB = status["tier_b"] as? [String: Any] ?? [:]
            print("Tier B preload: \(tierB["instruments"] ?? "?") instruments; \(tierB["subscribe_ms"] ?? "?") ms from prices known to loaded (aim ≤ 2000), \(tierB["duration_ms"] ?? "?") ms from start; skipped \((tierB["skipped"] as? [Any])?.count ?? -1)")

            // 2. Search: in-process over the whole registry, then over HTTP.
            let all = try await PostgresInstrumentCatalog(postgres: platform.postgres).allInstruments()
            let built = ContinuousClock.now
            let index = InstrumentIndex(all)
            print("registry: \(index.count) instruments indexed in \(String(format: "%.0f", (ContinuousClock.now - built).seconds * 1000)) ms")
            let queries = ["REL", "RELIANCE", "NIFTY", "BANKNIFTY26", "INFY", "TCS", "GOLD", "CRUDEOIL", "HDFC", "SENSEX", "NIFTY 50", "ZZZ"]
            var inProcess = LatencySample()
            for round in 0..<100 {
                let query = queries[round % queries.count]
                let start = ContinuousClock.now
                _ = index.search(query, limit: 20)
                inProcess.add(ContinuousClock.now - start)
            }
            print(inProcess.describeFine("search in-process over \(index.count) instruments (aim p99 ≤ 1 ms)"))
            var overHTTP = LatencySample()
            for round in 0..<200 {
                let query = queries[round % queries.count].addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                let start = ContinuousClock.now
                let reply = try await platform.get(.backend, "/api/v2/instruments/search?q=\(query)&limit=20")
                guard reply.statusCode == 200 else { throw PlatformError("search: \(reply.statusCode) \(reply.text)") }
                overHTTP.add(ContinuousClock.now - start)
            }
            print(overHTTP.describe("search over HTTP (GET /api/v2/instruments/search)"))

            // 3. Option chains: 50 strikes (100 options) with live quotes, IV and delta.
            var chains = LatencySample()
            var quoted = 0
            for round in 0..<100 {
                let symbol = ["NIFTY", "BANKNIFTY", "SENSEX", "FINNIFTY"][round % 4]
                let start = ContinuousClock.now
                let reply = try await platform.get(.backend, "/api/v2/option-chain/\(symbol)?strikes=50")
                guard reply.statusCode == 200 else { throw PlatformError("chain: \(reply.statusCode) \(reply.text)") }
                chains.add(ContinuousClock.now - start)
                if round == 0 {
                    let rows = try reply.json()["strikes"] as? [[String: Any]] ?? []
                    quoted = rows.flatMap { [$0["ce"], $0["pe"]] }.compactMap { $0 as? [String: Any] }.count { $0["quote"] is [String: Any] }
                }
            }
            print(chains.describe("option chain of 50 strikes (GET /api/v2/option-chain; \(quoted) of 100 options quoted in the first)"))

            // 4. Watchlist add → every instrument of the chain ticking into Redis.
            var adds = LatencySample()
            for (offset, symbol) in ["RELIANCE", "INFY", "TCS", "HDFCBANK", "ICICIBANK", "SBIN", "AXISBANK", "ITC", "LT", "BHARTIARTL"].enumerated() {
                let start = ContinuousClock.now
                let startMillis = Int64(Date().timeIntervalSince1970 * 1000)
                let reply = try await platform.post(.backend, "/api/v2/watchlist/add", json: #"{"user_id":"bench\#(offset)","symbol":"\#(symbol)"}"#)
                guard reply.statusCode == 201, let tokens = (try reply.json()["instruments"] as? [NSNumber])?.map(\.int64Value) else {
                    print("watchlist add \(symbol): \(reply.statusCode) \(reply.text.prefix(200))")
                    continue
                }
                try await waitUntil("\(symbol)'s \(tokens.count) instruments tick", timeout: .seconds(60), every: .milliseconds(20)) {
                    let replies = try await client.pipeline(tokens.map { ["HGET", "\(platform.prefix):quote:\($0)", "rt"] })
                    return replies.allSatisfy { ($0.string.flatMap(Int64.init) ?? 0) >= startMillis }
                }
                adds.add(ContinuousClock.now - start)
            }
            print(adds.describe("watchlist add → all 51 instruments ticking into Redis"))

            // 5. Stream fan-out beside one stalled client, and what the stack costs meanwhile.
            let streamed = Array(try await Self.tierTokens(platform, tier: "B").prefix(500))
            let url = platform.url(.backend).replacingOccurrences(of: "http://", with: "ws://") + "/api/v2/stream"
            let subscribe = #"{"action":"subscribe","tokens":[\#(streamed.map(String.init).joined(separator: ","))]}"#
            let stalled = try ChildProcess(
                executable: Command.venv + "/bin/python", arguments: ["-c", StreamClient.stalledScript, url, subscribe],
                outputPath: platform.logDirectory + "/stalled-client.log"
            )
            defer { stalled.stopNow(grace: .seconds(1)) }
            let streamClients = (0..<clients).map { _ in StreamClient(url: url) }
            for client in streamClients { client.send(subscribe) }
            try await waitUntil("every stream client has quotes", timeout: .seconds(60)) { streamClients.allSatisfy { !$0.quotedTokens.isEmpty } }
            let cost = try await StackCost.measure(platform, redis: redis, seconds: seconds) { [streamClients] in
                streamClients.reduce(0) { $0 + $1.messages(type: "quotes").reduce(0) { $0 + (($1["quotes"] as? [Any])?.count ?? 0) } }
            }
            let stats = try await platform.get(.backend, "/api/v2/ws/stats").json()
            print(String(format: "stream fan-out: %d clients × %d instruments: %.0f quote updates/s delivered in all (%.0f per client), one stalled client beside them; %@ updates conflated",
                         clients, streamed.count, cost.counted / Double(seconds), cost.counted / Double(seconds) / Double(clients), "\(stats["updates_conflated"] ?? "?")"))
            print("with Tier B streaming (\(tierB["instruments"] ?? "?") instruments + 10 watchlists) and the stream clients:")
            print(cost.describe())
            for client in streamClients { client.close() }
        }
    }

    // MARK: Rebalance

    /// 4,500 instruments placed `ordered` on the first of three Kite accounts (1,500 on each of its connections), then
    /// one rebalance over all nine connections: 3,000 moves. Ticks lost: moved instruments' gaps of more than two tick
    /// intervals in the stream.
    func rebalance(accountsFile: String) async throws {
        let redis = try await RedisServer.start()
        defer { redis.stop() }
        let client = RedisClient(configuration: try RedisConfiguration(url: redis.url), logger: Logger(label: "bench.redis"))
        defer { Task { await client.close() } }
        try await Platform.with(
            [.simulator, .ticker],
            redis: redis,
            environment: [.ticker: ["ACCOUNTS_FILE": accountsFile, "LOG_LEVEL": "warning", "FEED_PLACEMENT": "ordered", "FEED_REBALANCE_OVERLAP_SECONDS": "1.2"]],
            arguments: [.simulator: ["--tick-interval-ms", "1000", "--log-level", "warning"]]
        ) { platform in
            let options = try await platform.instruments(exchange: "NFO").filter { $0.instrumentType == "CE" }.prefix(4_500).map(\.instrumentToken)
            let body = #"{"instruments":[\#(options.map { #"{"instrument_token":\#($0),"requested_mode":"QUOTE"}"# }.joined(separator: ","))]}"#
            let reply = try await platform.post(.ticker, "/subscriptions", json: body)
            guard reply.statusCode == 201 else { throw PlatformError("subscribe: \(reply.statusCode) \(reply.text.prefix(300))") }
            try await waitUntil("the simulator streams 4,500", timeout: .seconds(120)) {
                try await platform.simulatorSubscriptions().count == options.count
            }
            try await Task.sleep(for: .seconds(3))
            let mark = try await client.send(["XREVRANGE", "\(platform.prefix):ticks", "+", "-", "COUNT", "1"]).array?.first?.array?.first?.string ?? "0-0"
            let start = ContinuousClock.now
            let answer = try await platform.post(.ticker, "/admin/rebalance", json: "{}")
            let elapsed = ContinuousClock.now - start
            guard answer.statusCode == 200 else { throw PlatformError("rebalance: \(answer.statusCode) \(answer.text.prefix(300))") }
            let result = try answer.json()
            let moved = Set((result["moves"] as? [[String: Any]] ?? []).compactMap { ($0["instrument_token"] as? NSNumber)?.int64Value })
            try await Task.sleep(for: .seconds(3))
            // Every tick of the moved instruments from just before the rebalance to 3 s after it.
            var times: [Int64: [Int64]] = [:]
            var cursor = mark
            while true {
                let page = try await client.send(["XRANGE", "\(platform.prefix):ticks", "(\(cursor)", "+", "COUNT", "10000"]).array ?? []
                guard let last = page.last?.array?.first?.string else { break }
                cursor = last
                for entry in page {
                    guard let fields = entry.array?.last?.array else { continue }
                    var token: Int64?
                    var at: Int64?
                    for index in stride(from: 0, to: fields.count - 1, by: 2) {
                        switch fields[index].string {
                        case "tk": token = fields[index + 1].string.flatMap(Int64.init)
                        case "rt": at = fields[index + 1].string.flatMap(Int64.init)
                        default: break
                        }
                    }
                    if let token, let at, moved.contains(token) { times[token, default: []].append(at) }
                }
            }
            let gaps = moved.map { token -> Int64 in
                let series = (times[token] ?? []).sorted()
                return zip(series, series.dropFirst()).map { $1 - $0 }.max() ?? .max
            }
            let lost = gaps.count { $0 > 2_000 }
            print(String(format: "rebalance: %d instruments moved in %.2f s (make-before-break, 1.2 s overlap); loads %@ → %@; moved instruments with a gap > 2 tick intervals: %d (aim 0); worst gap %d ms",
                         moved.count, elapsed.seconds, "\(result["loads_before"] ?? "?")", "\(result["loads_after"] ?? "?")", lost, gaps.max() ?? 0))
        }
    }

    static func tierTokens(_ platform: Platform, tier: String) async throws -> [Int64] {
        let list = try await platform.get(.backend, "/api/v2/subscriptions?tier=\(tier)&limit=25000").json()
        return (list["subscriptions"] as? [[String: Any]] ?? []).compactMap { ($0["instrument_token"] as? NSNumber)?.int64Value }
    }
}
