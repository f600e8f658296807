import ArgumentParser
import Foundation
import Logging
import SharedPostgres
import SharedRedis
import TestSupport

/// Bars written per second by BackendService's tick consumer, measured through the **built binary** (Benchmarks cannot
/// import an executable target): a throwaway redis-server and PostgreSQL cluster, the real `BackendService` process, and
/// synthetic ticks in docs/feed.md's full-mode format XADDed to `{prefix}:ticks`; the clock runs from the first XADD
/// until every entry is acknowledged and every bar is stored.
struct BarsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bars",
        abstract: "Tick consumer throughput: ticks folded and 1-minute bars written per second (through the BackendService binary)."
    )

    @Option(help: "Instruments ticking.")
    var instruments = 9_000

    @Option(help: "Minutes of ticks.")
    var minutes = 5

    @Option(help: "Ticks per instrument per minute.")
    var ticksPerMinute = 6

    @Option(help: "Entries per XADD pipeline.")
    var batch = 2_000

    func run() async throws {
        var logger = Logger(label: "bars-benchmark")
        logger.logLevel = .warning
        let redisServer = try await RedisServer.start()
        defer { redisServer.stop() }
        let cluster = try await PostgresCluster.start()
        defer { cluster.stop() }
        let databaseURL = try await cluster.createDatabase()
        let prefix = "bench:\(UUID().uuidString.prefix(6))"
        let stream = "\(prefix):ticks"
        let backend = try ChildProcess(
            executable: try BuiltProducts.executable("BackendService"),
            arguments: ["--redis-url", redisServer.url, "--database-url", databaseURL, "--port", "\(Ports.freeLoopbackPort())",
                        "--env-file", "/nonexistent/.env", "--log-level", "warning"],
            environment: ["REDIS_CHANNEL_PREFIX": prefix, "SUBSCRIPTION_EVENTS_ENABLED": "false", "TICKER_URL": "http://127.0.0.1:1",
                          "BACKFILL_SUBSCRIPTION_AWARE": "false", "BACKFILL_IMMEDIATE_ON_SUBSCRIBE": "false"],
            outputPath: FileManager.default.temporaryDirectory.appendingPathComponent("bars-benchmark-backend.log").path
        )
        defer { backend.stopNow() }
        let redis = RedisClient(configuration: try RedisConfiguration(url: redisServer.url), logger: logger)
        let postgres = PostgresClient(configuration: PostgresConfiguration(connectionString: databaseURL, poolSize: 1, applicationName: "bars-benchmark"), logger: logger)

        // The consumer is up once its group exists on the stream.
        var ready = false
        for _ in 0..<600 where !ready {
            if let groups = try? await redis.send(["XINFO", "GROUPS", stream]), let list = groups.array, !list.isEmpty { ready = true } else {
                guard backend.isRunning else { throw ValidationError("BackendService exited; see its log in the temporary folder") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        guard ready else { throw ValidationError("no consumer group on \(stream) after 60 s: is TickBarConsumer wired into buildApplication?") }

        let start0: Int64 = 1_763_610_300
        let total = instruments * minutes * ticksPerMinute
        print("BackendService binary, \(instruments) instruments × \(minutes) min × \(ticksPerMinute) ticks = \(total) entries (full mode)")
        let clock = ContinuousClock()
        let began = clock.now
        var commands: [[String]] = []
        commands.reserveCapacity(batch)
        var lastID = ""
        for minute in 0..<minutes {
            for tick in 0..<ticksPerMinute {
                let ets = start0 + Int64(minute * 60 + tick * (60 / max(1, ticksPerMinute)))
                for n in 0..<instruments {
                    let token = 10_000_000 + Int64(n) * 256 + 9
                    let step: Int = (n * 7 + minute * 13 + tick * 3) % 500
                    let paise: Int = 10_000 + step * 5
                    let price = "\(paise / 100).\(paise % 100 < 10 ? "0" : "")\(paise % 100)"
                    let volume = String(Int64(minute * ticksPerMinute + tick + 1) * 25)
                    let time = String(ets)
                    var fields: [(String, String)] = [("tk", String(token)), ("m", "full"), ("lp", price), ("rt", time + "000")]
                    fields += [("ltq", "1"), ("atp", price), ("v", volume), ("tbq", "10"), ("tsq", "10")]
                    fields += [("o", price), ("h", price), ("l", price), ("c", price)]
                    fields += [("ltt", time), ("oi", "100"), ("oih", "100"), ("oil", "100"), ("ets", time)]
                    commands.append(RedisClient.xaddArguments(stream, maxLength: nil, fields: fields))
                    if commands.count == batch {
                        lastID = try await redis.pipeline(commands).last?.string ?? lastID
                        commands.removeAll(keepingCapacity: true)
                    }
                }
            }
        }
        if !commands.isEmpty { lastID = try await redis.pipeline(commands).last?.string ?? lastID }
        let added = clock.now - began

        let expectedBars = instruments * minutes
        var stored = 0
        for _ in 0..<6_000 {
            let pending = try await redis.xpending(stream, group: "backend-bars").count
            let groups = try await redis.send(["XINFO", "GROUPS", stream])
            let delivered = groups.array?.first?.array.flatMap { fields -> String? in
                var index = 0
                while index + 1 < fields.count {
                    if fields[index].string == "last-delivered-id" { return fields[index + 1].string }
                    index += 2
                }
                return nil
            }
            if pending == 0 && delivered == lastID {
                stored = try await postgres.query("SELECT count(*) AS n FROM bars_1m").first?.decode(Int.self, "n") ?? 0
                if stored >= expectedBars { break }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = clock.now - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "XADD of all entries took %.2f s", Double(added.components.seconds) + Double(added.components.attoseconds) / 1e18))
        print(String(format: "consumed and acked in %.2f s: %.0f ticks/s, %.0f bars/s (%d of %d bars stored)",
                     seconds, Double(total) / seconds, Double(stored) / seconds, stored, expectedBars))
        await redis.close()
        await postgres.close()
        await backend.terminate()
    }
}
