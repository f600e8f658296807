import ArgumentParser
import Foundation
import Logging
import SharedRedis
import TestSupport

/// Pipelined `XADD ... MAXLEN ~` through ``RedisClient`` versus `redis-benchmark`, against the same fresh redis-server.
struct RedisBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis",
        abstract: "Pipelined XADD MAXLEN ~ rate through the hiredis wrapper vs redis-benchmark on the same server."
    )

    @Option(name: .shortAndLong, help: "XADD commands per measurement.")
    var requests = 1_000_000

    @Option(name: .shortAndLong, help: "Commands per pipeline (redis-benchmark -P).")
    var pipeline = 64

    @Option(name: .shortAndLong, help: "Parallel connections, the same for both sides (redis-benchmark -c).")
    var clients = 1

    @Option(help: "Concurrent tasks issuing pipelines through each RedisClient (its connection still has one pipeline on the wire at a time).")
    var callers = 4

    @Option(help: "Measurement rounds; medians are reported.")
    var rounds = 5

    @Option(help: "Approximate stream cap (MAXLEN ~).")
    var maxLength = 100_000

    func run() async throws {
        guard let redisBenchmark = ChildProcess.which("redis-benchmark") else {
            throw ValidationError("redis-benchmark not found; install it with `apt-get install redis-tools`")
        }
        let server = try await RedisServer.start()
        defer { server.stop() }
        var logger = Logger(label: "redis-benchmark")
        logger.logLevel = .warning
        let configuration = try RedisConfiguration(url: server.url)
        let connections = (0..<clients).map { _ in RedisClient(configuration: configuration, logger: logger) }
        for connection in connections { try await connection.connect() }

        print("redis-server \(server.url), \(requests) XADD per round, pipeline \(pipeline), \(clients) connection(s), \(callers) caller(s) per wrapper connection, \(rounds) round(s)")
        _ = try await measureWrapper(connections, requests: min(requests, 100_000), stream: "bench-warmup")

        // Alternate which side goes first and compare within a round: the machine may be shared, so the median of
        // per-round ratios is steadier than best-vs-best.
        var wrapperRates: [Double] = []
        var toolRates: [Double] = []
        for round in 1...rounds {
            var wrapper = 0.0
            var tool = 0.0
            if round % 2 == 1 {
                tool = try await measureRedisBenchmark(executable: redisBenchmark, port: server.port)
                wrapper = try await measureWrapper(connections, requests: requests, stream: "bench-swift")
            } else {
                wrapper = try await measureWrapper(connections, requests: requests, stream: "bench-swift")
                tool = try await measureRedisBenchmark(executable: redisBenchmark, port: server.port)
            }
            print(String(format: "round %d: wrapper %.0f XADD/s, redis-benchmark %.0f XADD/s, ratio %.2f", round, wrapper, tool, wrapper / tool))
            wrapperRates.append(wrapper)
            toolRates.append(tool)
        }
        for connection in connections { await connection.close() }

        let ratios = zip(wrapperRates, toolRates).map { $0 / $1 }.sorted()
        print(String(format: "RedisClient (hiredis wrapper): %.0f XADD/s (median of rounds)", median(wrapperRates)))
        print(String(format: "redis-benchmark:               %.0f XADD/s (median of rounds)", median(toolRates)))
        print(String(format: "ratio wrapper/redis-benchmark: %.2f median of per-round ratios (target >= 0.70)", median(ratios)))
    }

    private func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Each connection sends its share of `requests` in pipelines of `pipeline` commands; returns commands per second.
    private func measureWrapper(_ connections: [RedisClient], requests: Int, stream: String) async throws -> Double {
        let perCaller = requests / (connections.count * callers)
        let maxLength = self.maxLength
        let pipeline = self.pipeline
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in connections {
                for _ in 0..<callers {
                group.addTask {
                    // Like redis-benchmark, which formats its command once and resends it, build the batch once.
                    let command = RedisClient.xaddArguments(stream, maxLength: maxLength, fields: [("f", "v")])
                    let fullBatch = Array(repeating: command, count: pipeline)
                    var remaining = perCaller
                    while remaining > 0 {
                        let batch = min(pipeline, remaining)
                        let replies = try await connection.pipeline(batch == pipeline ? fullBatch : Array(fullBatch.prefix(batch)))
                        if case .error(let message) = replies.first { throw RedisError(.server, message: message) }
                        remaining -= batch
                    }
                }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = ContinuousClock.now - start
        return Double(perCaller * callers * connections.count) / elapsed.seconds
    }

    /// Runs `redis-benchmark ... --csv XADD bench MAXLEN ~ N * f v` and parses its requests-per-second figure.
    private func measureRedisBenchmark(executable: String, port: Int) async throws -> Double {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("redis-benchmark-\(UUID().uuidString).csv").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let arguments = [
            "-h", "127.0.0.1", "-p", String(port), "-c", String(clients), "-P", String(pipeline), "-n", String(requests), "--csv",
            "XADD", "bench-tool", "MAXLEN", "~", String(maxLength), "*", "f", "v",
        ]
        let child = try ChildProcess(executable: executable, arguments: arguments, outputPath: output)
        guard await child.waitForExit(timeout: .seconds(600)), child.exitStatus == 0 else {
            throw ValidationError("redis-benchmark failed: \((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")")
        }
        let text = try String(contentsOfFile: output, encoding: .utf8)
        // CSV: "test","rps","avg_latency_ms",...  then  "XADD ...","123456.79",...
        for line in text.split(whereSeparator: \.isNewline).reversed() {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if fields.count >= 2, fields[0].hasPrefix("XADD"), let rps = Double(fields[1]) { return rps }
        }
        throw ValidationError("could not parse redis-benchmark output: \(text)")
    }
}
