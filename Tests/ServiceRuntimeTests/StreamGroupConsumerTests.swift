import Foundation
import Logging
import ServiceLifecycle
import ServiceRuntime
import SharedBasics
import SharedRedis
import Synchronization
import Testing
import TestSupport

/// What the test handler saw and what it is told to do, shared with the test body.
final class HandlerScript: Sendable {
    struct Seen: Sendable {
        var deliveries: [String: [Int]] = [:]
        var deadLetters: [(id: String, reason: String, code: String, deliveries: Int?)] = []
        var finished = 0
    }

    enum Mode: Sendable {
        /// Every entry succeeds at once.
        case succeed
        /// Every entry fails with this error.
        case fail(String)
        /// Entries are held until `commit` is set; `poll` and `finish` then succeed them.
        case hold
    }

    let mode: Mode
    let seen = Mutex(Seen())
    let commit = Atomic(false)

    init(_ mode: Mode) { self.mode = mode }

    func deliveries(_ id: String) -> [Int] { seen.withLock { $0.deliveries[id] ?? [] } }
    var deadLetters: [(id: String, reason: String, code: String, deliveries: Int?)] { seen.withLock { $0.deadLetters } }
    var finished: Int { seen.withLock { $0.finished } }
}

struct ScriptedHandler: StreamBatchHandler {
    let script: HandlerScript
    var held: [String] = []

    mutating func handle(_ batch: [StreamDelivery]) async throws -> StreamBatchVerdict {
        script.seen.withLock { seen in
            for delivery in batch { seen.deliveries[delivery.entry.id, default: []].append(delivery.deliveries) }
        }
        switch script.mode {
        case .succeed: return StreamBatchVerdict(succeeded: batch.map(\.entry.id))
        case .fail(let error): return StreamBatchVerdict(retry: batch.map { ($0.entry.id, error) })
        case .hold:
            held += batch.map(\.entry.id)
            return .none
        }
    }

    mutating func poll() async throws -> StreamBatchVerdict {
        guard script.commit.load(ordering: .acquiring), !held.isEmpty else { return .none }
        defer { held.removeAll() }
        return StreamBatchVerdict(succeeded: held)
    }

    mutating func finish() async -> StreamBatchVerdict {
        script.seen.withLock { $0.finished += 1 }
        defer { held.removeAll() }
        return StreamBatchVerdict(succeeded: held)
    }

    func deadLetter(_ dead: StreamBatchVerdict.Dead, deliveries: Int?) async {
        script.seen.withLock { $0.deadLetters.append((dead.delivery.entry.id, dead.reason, dead.code, deliveries)) }
    }
}

/// Runs a consumer as a service, so that a test can shut it down gracefully.
struct ConsumerService: Service {
    let consumer: StreamGroupConsumer<ScriptedHandler>
    func run() async throws { await consumer.run() }
}

@Suite("Stream group consumer against redis-server", .serialized)
struct StreamGroupConsumerTests {
    let redis: RedisClient
    let blocking: RedisClient
    let stream = "test:consumer:\(UUID().uuidString.prefix(8))"
    let group = "workers"
    var logger: Logger {
        var logger = Logger(label: "tests.stream-consumer")
        logger.logLevel = .warning
        return logger
    }

    init() throws {
        let url = RedisServer.shared.url
        redis = RedisClient(configuration: try RedisConfiguration(url: url), logger: Logger(label: "tests.redis"))
        blocking = RedisClient(configuration: try RedisConfiguration(url: url), logger: Logger(label: "tests.redis"))
    }

    func consumer(_ script: HandlerScript, name: String = "live", claimMinIdle: Duration = .milliseconds(100), maxDeliveries: Int? = nil,
                  block: Duration = .milliseconds(200), removeIdleConsumersAfter: Duration? = .seconds(600),
                  redis client: RedisClient? = nil) -> StreamGroupConsumer<ScriptedHandler> {
        StreamGroupConsumer(
            redis: client ?? blocking,
            settings: .init(
                stream: stream, group: group, consumer: name, startID: "0", readCount: 100, block: block, claimMinIdle: claimMinIdle,
                claimEvery: .milliseconds(100), maxDeliveries: maxDeliveries, failureBackoff: Backoff(base: .milliseconds(50), cap: .milliseconds(200)),
                removeIdleConsumersAfter: removeIdleConsumersAfter,
                messages: .init(failed: "failed", groupCreateFailed: "group failed", acknowledgeFailed: "ack failed")
            ),
            handler: ScriptedHandler(script: script),
            logger: logger
        )
    }

    func add(_ count: Int) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count { ids.append(try await redis.xadd(stream, maxLength: nil, fields: [("n", String(index))])) }
        return ids
    }

    func pending() async throws -> Int { try await redis.xpending(stream, group: group).count }

    /// Runs `consumer` until `body` returns, then shuts it down gracefully and waits for it to stop.
    func running(_ consumer: StreamGroupConsumer<ScriptedHandler>, _ body: () async throws -> Void) async throws -> Duration {
        let serviceGroup = ServiceGroup(configuration: .init(services: [ConsumerService(consumer: consumer)], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await serviceGroup.run() }
            try await body()
            let stopping = ContinuousClock.now
            await serviceGroup.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return ContinuousClock.now - stopping
        }
    }

    @Test("entries a dead consumer read and never acknowledged are claimed, handled and acknowledged")
    func claimsFromADeadConsumer() async throws {
        try await redis.xgroupCreate(stream, group: group, startID: "0")
        let ids = try await add(3)
        let stolen = try await redis.xreadgroup(group: group, consumer: "dead", streams: [stream], count: 10, block: nil)
        #expect(stolen.map(\.id) == ids)
        let script = HandlerScript(.succeed)
        _ = try await running(consumer(script)) {
            try await waitUntil("the dead consumer's entries are acknowledged", timeout: .seconds(20)) { try await pending() == 0 }
        }
        for id in ids { #expect(script.deliveries(id) == [2], "\(id)") }
        await close()
    }

    @Test("an entry that keeps failing is delivered at most max-deliveries times, then dead-lettered with its last error")
    func deadLettersAfterMaxDeliveries() async throws {
        let ids = try await add(1)
        let script = HandlerScript(.fail("database away"))
        _ = try await running(consumer(script, claimMinIdle: .milliseconds(50), maxDeliveries: 3)) {
            try await waitUntil("the entry is dead-lettered", timeout: .seconds(20)) { !script.deadLetters.isEmpty }
            try await waitUntil("and acknowledged", timeout: .seconds(20)) { try await pending() == 0 }
        }
        #expect(script.deliveries(ids[0]) == [1, 2, 3])
        let dead = script.deadLetters
        #expect(dead.count == 1)
        #expect(dead.first?.id == ids[0])
        #expect(dead.first?.code == "max_deliveries")
        #expect(dead.first?.reason == "failed after 3 deliveries: database away")
        #expect(dead.first?.deliveries == 4)
        await close()
    }

    @Test("entries are acknowledged only once the handler committed them")
    func acknowledgesOnlyAfterCommit() async throws {
        let ids = try await add(5)
        let script = HandlerScript(.hold)
        _ = try await running(consumer(script, claimMinIdle: .seconds(60))) {
            try await waitUntil("all entries handed over", timeout: .seconds(20)) { ids.allSatisfy { !script.deliveries($0).isEmpty } }
            // Held, not committed: still pending however long it takes.
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await pending() == 5)
            script.commit.store(true, ordering: .releasing)
            try await waitUntil("committed entries are acknowledged", timeout: .seconds(20)) { try await pending() == 0 }
        }
        #expect(script.finished == 1)
        await close()
    }

    @Test("graceful shutdown interrupts a blocking read, and what the handler holds is committed and acknowledged")
    func stopsPromptlyAndFinishes() async throws {
        let ids = try await add(2)
        let script = HandlerScript(.hold)
        let stopping = try await running(consumer(script, claimMinIdle: .seconds(60), block: .seconds(20))) {
            try await waitUntil("entries handed over", timeout: .seconds(20)) { ids.allSatisfy { !script.deliveries($0).isEmpty } }
            // The consumer is now blocked in XREADGROUP ... BLOCK 20000.
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await pending() == 2)
        }
        #expect(stopping < .seconds(10), "shutdown took \(stopping), the read blocks for 20 s")
        #expect(script.finished == 1)
        #expect(try await pending() == 0)
        await close()
    }

    /// The group's consumers by name, with their pending counts.
    func consumers() async throws -> [String: Int] {
        let reply = try await redis.send(["XINFO", "CONSUMERS", stream, group])
        var result: [String: Int] = [:]
        for consumer in reply.array ?? [] {
            let fields = consumer.array ?? []
            var values: [String: RESPValue] = [:]
            var index = 0
            while index + 1 < fields.count {
                values[fields[index].string ?? ""] = fields[index + 1]
                index += 2
            }
            if let name = values["name"]?.string { result[name] = Int(values["pending"]?.int ?? -1) }
        }
        return result
    }

    @Test("a dead consumer without pending entries is removed from the group; a live one and one with pending entries stay")
    func removesDeadConsumers() async throws {
        try await redis.xgroupCreate(stream, group: group, startID: "0")
        let ids = try await add(2)
        // A process that read one entry and acknowledged it, and one that read one and died before acknowledging; both
        // then were killed (`redis-cli` runs as its own process and exits, as a killed service would leave its consumer).
        let port = String(try RedisConfiguration(url: RedisServer.shared.url).port)
        let cli = try #require(ChildProcess.which("redis-cli"), "redis-cli is needed")
        for (name, acknowledge) in [("dead-empty", true), ("dead-pending", false)] {
            let read = Process()
            read.executableURL = URL(fileURLWithPath: cli)
            read.arguments = ["-p", port, "XREADGROUP", "GROUP", group, name, "COUNT", "1", "STREAMS", stream, ">"]
            read.standardOutput = FileHandle.nullDevice
            try read.run()
            read.waitUntilExit()
            if acknowledge { try await redis.xack(stream, group: group, ids: [ids[0]]) }
        }
        #expect(try await consumers() == ["dead-empty": 0, "dead-pending": 1])

        // Two live instances, each removing consumers idle for 1.5 s. Neither claims the pending entry (claim min-idle
        // one hour), so `dead-pending` keeps it. Before Redis 7.2 a consumer appears in the group only once it received
        // an entry, so entries are added until both have had one.
        let otherClient = RedisClient(configuration: try RedisConfiguration(url: RedisServer.shared.url), logger: Logger(label: "tests.redis"))
        let otherScript = HandlerScript(.succeed), liveScript = HandlerScript(.succeed)
        let limit = Duration.milliseconds(1500)
        let other = consumer(otherScript, name: "other", claimMinIdle: .seconds(3600), removeIdleConsumersAfter: limit, redis: otherClient)
        let otherGroup = ServiceGroup(configuration: .init(services: [ConsumerService(consumer: other)], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await otherGroup.run() }
            _ = try await running(consumer(liveScript, claimMinIdle: .seconds(3600), removeIdleConsumersAfter: limit)) {
                var added = 0
                while liveScript.seen.withLock({ $0.deliveries.isEmpty }) || otherScript.seen.withLock({ $0.deliveries.isEmpty }) {
                    added += 1
                    try #require(added <= 100, "both consumers should have received an entry")
                    _ = try await add(1)
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await waitUntil("the dead consumer without pending entries is removed", timeout: .seconds(30)) {
                    try await consumers()["dead-empty"] == nil
                }
                // Well past the limit with nothing new to read: the live ones and the one with a pending entry stay.
                try await Task.sleep(for: .seconds(3))
                let left = try await consumers()
                #expect(left["dead-pending"] == 1)
                #expect(left["live"] == 0)
                #expect(left["other"] == 0)
                #expect(left["dead-empty"] == nil)
            }
            await otherGroup.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        _ = try? await redis.send(["DEL", StreamGroupConsumer<ScriptedHandler>.aliveKey(stream: stream, group: group)])
        await otherClient.close()
        await close()
    }

    func close() async {
        _ = try? await redis.send(["DEL", stream])
        await redis.close()
        await blocking.close()
    }
}
