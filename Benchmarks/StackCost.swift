import Foundation
import Logging
import Shared
import SharedRedis
import TestSupport

/// What the local stack costs over a window: each process's CPU share (of one core) and resident memory, Redis's
/// memory, and how fast both services still answer `/health` meanwhile (p50/p99, sampled every 200 ms).
struct StackCost {
    var seconds: Double
    var cpu: [(name: String, share: Double, residentMiB: Double)]
    var redisMiB: Double
    var health: [(name: String, sample: LatencySample)]
    /// What the caller's counter advanced by over the window.
    var counted: Double

    static func measure(_ platform: Platform, redis: RedisServer, seconds: Int, counter: @Sendable () -> Int) async throws -> StackCost {
        var pids: [(String, Int32)] = []
        for component in [Platform.Component.simulator, .ticker, .backend] {
            if let pid = platform.pid(component) { pids.append((component.rawValue, pid)) }
        }
        if let pid = redis.pid { pids.append(("redis-server", pid)) }
        let before = pids.map { ProcessStats.cpuSeconds(pid: $0.1) ?? 0 }
        let countBefore = counter()
        let start = ContinuousClock.now
        var ticker = LatencySample()
        var backend = LatencySample()
        while ContinuousClock.now - start < .seconds(seconds) {
            for (component, index) in [(Platform.Component.ticker, 0), (.backend, 1)] {
                let asked = ContinuousClock.now
                _ = try await platform.get(component, "/health")
                if index == 0 { ticker.add(ContinuousClock.now - asked) } else { backend.add(ContinuousClock.now - asked) }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let elapsed = (ContinuousClock.now - start).seconds
        let cpu = pids.enumerated().map { offset, entry in
            (entry.0, ((ProcessStats.cpuSeconds(pid: entry.1) ?? 0) - before[offset]) / elapsed, Double(ProcessStats.residentBytes(pid: entry.1) ?? 0) / 1_048_576)
        }
        let client = RedisClient(configuration: try RedisConfiguration(url: platform.redisURL), logger: Logger(label: "bench.redis"))
        defer { Task { await client.close() } }
        let info = try await client.send(["INFO", "memory"]).string ?? ""
        let used = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory:") }.flatMap { Double($0.split(separator: ":")[1]) } ?? 0
        return StackCost(
            seconds: elapsed, cpu: cpu, redisMiB: used / 1_048_576, health: [("TickerService", ticker), ("BackendService", backend)],
            counted: Double(counter() - countBefore)
        )
    }

    func describe() -> String {
        var lines = cpu.map { String(format: "  %@: %.0f%% of a core, %.0f MiB resident", $0.name, $0.share * 100, $0.residentMiB) }
        lines.append(String(format: "  redis used_memory: %.0f MiB; all processes together: %.0f%% of the machine's 2 cores", redisMiB, cpu.reduce(0) { $0 + $1.share } * 50))
        for (name, sample) in health { lines.append("  " + sample.describe("\(name) GET /health meanwhile")) }
        return lines.joined(separator: "\n")
    }
}

extension Duration {
    /// Seconds as a `Double`.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
