import Foundation
import Logging
import SharedRedis
import Synchronization

/// A master, one replica and three sentinels on loopback, as a Redis deployment with Sentinel runs them, for failover
/// tests: quorum 2, the master deemed down after 1 s, every process in its own temporary directory and killed at the end.
public final class RedisSentinelGroup: Sendable {
    /// The name the sentinels monitor.
    public let masterName = "platform"
    /// The server that is master at the start.
    public let master: RedisServer
    /// Its replica, promoted when the master dies.
    public let replica: RedisServer
    /// The sentinels' ports on 127.0.0.1.
    public let sentinelPorts: [Int]
    private let sentinels: [ChildProcess]
    private let directory: String

    /// `host:port,...` of the sentinels, as `REDIS_SENTINELS` takes them.
    public var sentinelList: String { sentinelPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",") }
    /// `redis+sentinel://…/platform`, as `REDIS_URL` takes it.
    public var url: String { "redis+sentinel://\(sentinelList)/\(masterName)" }

    private init(master: RedisServer, replica: RedisServer, sentinelPorts: [Int], sentinels: [ChildProcess], directory: String) {
        self.master = master
        self.replica = replica
        self.sentinelPorts = sentinelPorts
        self.sentinels = sentinels
        self.directory = directory
    }

    /// Starts the group and returns once the replica is in sync and every sentinel knows the master and the replica.
    /// - Throws: ``ChildProcessError`` when a process does not come up or the group does not form within 30 s.
    public static func start() async throws -> RedisSentinelGroup {
        let master = try await RedisServer.start()
        let replica = try await RedisServer.start(arguments: ["--replicaof", "127.0.0.1", String(master.port)])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sentinels-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        TempDirectories.register(directory)
        var ports: [Int] = []
        var processes: [ChildProcess] = []
        do {
            for index in 0..<3 {
                let port = Ports.freeLoopbackPort()
                let config = directory + "/sentinel-\(index).conf"
                // Sentinel rewrites its configuration file as it learns the group, so each has its own.
                try """
                    bind 127.0.0.1
                    port \(port)
                    daemonize no
                    dir \(directory)
                    sentinel monitor platform 127.0.0.1 \(master.port) 2
                    sentinel down-after-milliseconds platform 1000
                    sentinel failover-timeout platform 10000
                    sentinel parallel-syncs platform 1

                    """.write(toFile: config, atomically: true, encoding: .utf8)
                let (executable, arguments) = try sentinelCommand(config: config)
                processes.append(try ChildProcess(executable: executable, arguments: arguments, workingDirectory: directory, outputPath: directory + "/sentinel-\(index).log"))
                ports.append(port)
            }
        } catch {
            for process in processes { process.stopNow(grace: .zero) }
            master.stop()
            replica.stop()
            throw error
        }
        let group = RedisSentinelGroup(master: master, replica: replica, sentinelPorts: ports, sentinels: processes, directory: directory)
        do {
            try await withRedis(port: master.port) { client in
                try await waitUntil("the replica is in sync with the master", timeout: .seconds(30), every: .milliseconds(100)) {
                    let info = try await client.send(["INFO", "replication"]).string ?? ""
                    return info.contains("connected_slaves:1") && info.contains("state=online")
                }
            }
            for port in ports {
                try await withRedis(port: port) { sentinel in
                    try await waitUntil("sentinel \(port) knows the replica and the other sentinels", timeout: .seconds(30), every: .milliseconds(100)) {
                        let replicas = try await sentinel.send(["SENTINEL", "replicas", "platform"]).array ?? []
                        let others = try await sentinel.send(["SENTINEL", "sentinels", "platform"]).array ?? []
                        return replicas.count == 1 && others.count == 2
                    }
                }
            }
        } catch {
            group.stop()
            throw error
        }
        return group
    }

    /// Where the sentinels say the master is now.
    public func currentMasterPort() async throws -> Int? {
        let reply = try await Self.withRedis(port: sentinelPorts[0]) { try await $0.send(["SENTINEL", "get-master-addr-by-name", masterName]).array ?? [] }
        return reply.count == 2 ? reply[1].string.flatMap(Int.init) : nil
    }

    /// A client on one process of the group for the length of `body`.
    private static func withRedis<T: Sendable>(port: Int, _ body: (RedisClient) async throws -> T) async throws -> T {
        let client = RedisClient(configuration: RedisConfiguration(host: "127.0.0.1", port: port), logger: Logger(label: "sentinel-group"))
        do {
            let value = try await body(client)
            await client.close()
            return value
        } catch {
            await client.close()
            throw error
        }
    }

    /// Stops every process and removes the directories. Idempotent.
    public func stop() {
        for sentinel in sentinels { sentinel.stopNow(grace: .seconds(2)) }
        master.stop()
        replica.stop()
        try? FileManager.default.removeItem(atPath: directory)
        TempDirectories.unregister(directory)
    }

    /// `redis-sentinel CONFIG` when Debian's redis-sentinel is installed, else `redis-server CONFIG --sentinel`.
    private static func sentinelCommand(config: String) throws -> (String, [String]) {
        if let sentinel = ChildProcess.which("redis-sentinel") { return (sentinel, [config]) }
        guard let server = ChildProcess.which("redis-server") else {
            throw ChildProcessError(message: "neither redis-sentinel nor redis-server is on PATH; install them with `apt-get install redis-server redis-sentinel`")
        }
        return (server, [config, "--sentinel"])
    }
}
