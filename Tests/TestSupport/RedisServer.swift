import Foundation
import Synchronization

/// A real `redis-server` on a free loopback port, in its own temporary directory, for tests and benchmarks.
///
/// Started with `--bind 127.0.0.1 --port P --dir TMP --save "" --appendonly no|yes`; ready once it answers `PING`.
/// Every instance is killed at process exit (via ``ChildProcess``), and ``stop()`` removes its directory.
public final class RedisServer: Sendable {
    /// The TCP port on 127.0.0.1; it stays the same across ``restart()``.
    public let port: Int
    /// The server's working directory (AOF/RDB files, `redis.log`).
    public let directory: String
    /// Whether the append-only file is on, so data survives ``restart()``.
    public let appendOnly: Bool
    /// Arguments added after the fixture's own (e.g. `--replicaof 127.0.0.1 PORT`), kept across ``restart()``.
    public let extraArguments: [String]
    private let executable: String
    private let process: Mutex<ChildProcess?>

    /// `redis://127.0.0.1:PORT`.
    public var url: String { "redis://127.0.0.1:\(port)" }

    /// A process-wide server, started on first use and killed at exit, for tests that do not stop or restart it.
    public static let shared: RedisServer = {
        do {
            return try RedisServer.startBlocking(appendOnly: false)
        } catch {
            fatalError("RedisServer.shared: \(error)")
        }
    }()

    private init(executable: String, port: Int, directory: String, appendOnly: Bool, extraArguments: [String], process: ChildProcess) {
        self.executable = executable
        self.extraArguments = extraArguments
        self.port = port
        self.directory = directory
        self.appendOnly = appendOnly
        self.process = Mutex(process)
    }

    deinit {
        stop()
    }

    /// Starts a new server and waits until it answers `PING`.
    /// - Parameters:
    ///   - appendOnly: Turn on the append-only file so data survives ``restart()``.
    ///   - arguments: More `redis-server` arguments, e.g. `["--replicaof", "127.0.0.1", "6380"]`.
    /// - Returns: The running server.
    /// - Throws: ``ChildProcessError`` when `redis-server` is missing or does not come up.
    public static func start(appendOnly: Bool = false, arguments: [String] = []) async throws -> RedisServer {
        try startBlocking(appendOnly: appendOnly, arguments: arguments)
    }

    /// Starts a new server, blocking the calling thread until it answers `PING` (usually a few milliseconds).
    /// - Parameters:
    ///   - appendOnly: Turn on the append-only file so data survives ``restart()``.
    /// - Returns: The running server.
    /// - Throws: ``ChildProcessError`` when `redis-server` is missing or does not come up.
    public static func startBlocking(appendOnly: Bool = false, arguments: [String] = []) throws -> RedisServer {
        guard let executable = ChildProcess.which("redis-server") else {
            throw ChildProcessError(message: "redis-server not found on PATH; install it with `apt-get install redis-server`")
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        TempDirectories.register(directory)
        var lastError: (any Error)?
        for _ in 0..<5 {  // another process may grab the port between probing and binding
            let port = Ports.freeLoopbackPort()
            do {
                let process = try launch(executable: executable, port: port, directory: directory, appendOnly: appendOnly, extraArguments: arguments)
                return RedisServer(
                    executable: executable, port: port, directory: directory, appendOnly: appendOnly, extraArguments: arguments, process: process
                )
            } catch {
                lastError = error
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
        throw lastError ?? ChildProcessError(message: "redis-server did not start")
    }

    /// The server's process id while it runs.
    public var pid: Int32? { process.withLock { $0?.pid } }

    /// Whether the server process is running.
    public var isRunning: Bool { process.withLock { $0?.isRunning ?? false } }

    /// Stops the server (SIGTERM, then SIGKILL) and removes its directory. Idempotent.
    public func stop() {
        shutdownProcess(grace: .seconds(5))
        try? FileManager.default.removeItem(atPath: directory)
        TempDirectories.unregister(directory)
    }

    /// Kills the server with SIGKILL (a crash), keeping its directory so that ``restart()`` can bring it back.
    public func kill() {
        shutdownProcess(grace: .zero)
    }

    /// Freezes the server (SIGSTOP): connections stay open but nothing is answered, like a hung host.
    public func suspend() {
        process.withLock { $0?.signal(SIGSTOP) }
    }

    /// Resumes a server frozen with ``suspend()`` (SIGCONT).
    public func resume() {
        process.withLock { $0?.signal(SIGCONT) }
    }

    /// Stops the server if it runs (SIGTERM) and starts it again on the same port with the same directory.
    /// - Throws: ``ChildProcessError`` when it does not come back.
    public func restart() async throws {
        shutdownProcess(grace: .seconds(5))
        let started = try Self.launch(executable: executable, port: port, directory: directory, appendOnly: appendOnly, extraArguments: extraArguments)
        process.withLock { $0 = started }
    }

    private func shutdownProcess(grace: Duration) {
        let running = process.withLock { current -> ChildProcess? in
            defer { current = nil }
            return current
        }
        running?.signal(SIGCONT)  // a suspended server cannot handle SIGTERM
        running?.stopNow(grace: grace)
    }

    private static func launch(executable: String, port: Int, directory: String, appendOnly: Bool, extraArguments: [String]) throws -> ChildProcess {
        let arguments = [
            "--bind", "127.0.0.1", "--port", String(port), "--dir", directory, "--save", "",
            "--appendonly", appendOnly ? "yes" : "no", "--protected-mode", "yes", "--daemonize", "no",
        ] + extraArguments
        let child = try ChildProcess(
            executable: executable, arguments: arguments, workingDirectory: directory, outputPath: directory + "/redis.log")
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if !child.isRunning {
                let log = (try? String(contentsOfFile: directory + "/redis.log", encoding: .utf8)) ?? ""
                throw ChildProcessError(message: "redis-server on port \(port) exited during startup:\n\(log.suffix(2000))")
            }
            if ping(port: port) { return child }
            usleep(10_000)
        }
        child.stopNow(grace: .zero)
        throw ChildProcessError(message: "redis-server on port \(port) did not answer PING within 10 s")
    }

    /// A minimal RESP `PING` over a raw socket, so readiness does not depend on the code under test.
    static func ping(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return false }
        let request = Array("PING\r\n".utf8)
        guard write(fd, request, request.count) == request.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &buffer, buffer.count)
        return count > 0 && String(decoding: buffer[0..<count], as: UTF8.self).hasPrefix("+PONG")
    }
}

/// Temporary directories of servers still alive, removed at process exit.
enum TempDirectories {
    static let paths = Mutex<Set<String>>([])
    static let installAtExit: Void = {
        atexit {
            let remaining = TempDirectories.paths.withLock { $0 }
            for path in remaining { try? FileManager.default.removeItem(atPath: path) }
        }
    }()

    static func register(_ path: String) {
        _ = installAtExit
        paths.withLock { _ = $0.insert(path) }
    }

    static func unregister(_ path: String) {
        paths.withLock { _ = $0.remove(path) }
    }
}
