import Foundation
import Logging
import SharedPostgres
import Synchronization

/// A throwaway PostgreSQL server for tests and benchmarks: `initdb` into a temporary directory, trust
/// authentication, listening on 127.0.0.1 only on a free port, its unix socket inside the directory, `fsync=off`.
///
/// Run as root (as here), the server runs as the unprivileged `postgres` user (created if missing), because
/// `initdb` refuses root. Every cluster is stopped at process exit (`atexit`), and ``stop()`` removes its directory.
/// Tests run in parallel: give each test its own database (``createDatabase()``) or its own table names.
public final class PostgresCluster: Sendable {
    /// The TCP port on 127.0.0.1; it stays the same across ``restart()``.
    public let port: Int
    /// The temporary directory holding `data/`, `sock/` and `server.log`.
    public let directory: String
    let binDirectory: String
    let runAsUser: String?

    var dataDirectory: String { directory + "/data" }

    /// A process-wide cluster, started on first use and stopped at exit, for tests that neither stop nor restart it.
    public static var shared: PostgresCluster {
        get async throws { try await sharedStart.value }
    }

    private static let sharedStart = Task { try await PostgresCluster.start() }

    init(port: Int, directory: String, binDirectory: String, runAsUser: String?) {
        self.port = port
        self.directory = directory
        self.binDirectory = binDirectory
        self.runAsUser = runAsUser
    }

    /// A libpq URL for a database on this cluster, as the `postgres` superuser over TCP (no password: trust auth).
    /// - Parameters:
    ///   - database: The database name.
    /// - Returns: `postgresql://postgres@127.0.0.1:PORT/DATABASE`.
    public func connectionString(database: String = "postgres") -> String {
        "postgresql://postgres@127.0.0.1:\(port)/\(database)"
    }

    /// Creates and starts a new cluster, waiting until it accepts connections.
    /// - Returns: The running cluster.
    /// - Throws: ``ChildProcessError`` when the PostgreSQL binaries are missing or the server does not come up.
    public static func start() async throws -> PostgresCluster {
        let binDirectory = try findBinDirectory()
        let runAsUser = getuid() == 0 ? try ensureServiceUser() : nil
        // /tmp rather than TMPDIR: the postgres user must reach it, and unix socket paths are limited to ~107 bytes.
        let directory = "/tmp/pgcluster-" + String(UUID().uuidString.prefix(8)).lowercased()
        try FileManager.default.createDirectory(atPath: directory + "/sock", withIntermediateDirectories: true)
        ClusterRegistry.register(directory)
        do {
            if let runAsUser { try chown(paths: [directory, directory + "/sock"], to: runAsUser) }
            let cluster0 = PostgresCluster(port: 0, directory: directory, binDirectory: binDirectory, runAsUser: runAsUser)
            try await cluster0.runTool(
                "initdb",
                ["-D", cluster0.dataDirectory, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-locale", "--no-sync", "--no-instructions"]
            )
            let settings = """

                # PostgresCluster (test fixture)
                listen_addresses = '127.0.0.1'
                unix_socket_directories = '\(directory)/sock'
                fsync = off
                synchronous_commit = off
                full_page_writes = off
                max_connections = 300
                log_min_messages = warning

                """
            try append(settings, toFile: cluster0.dataDirectory + "/postgresql.conf")
            var lastError: (any Error)?
            for _ in 0..<5 {  // another process may take the port between probing and binding
                let port = Ports.freeLoopbackPort()
                try append("port = \(port)\n", toFile: cluster0.dataDirectory + "/postgresql.conf")
                let cluster = PostgresCluster(port: port, directory: directory, binDirectory: binDirectory, runAsUser: runAsUser)
                do {
                    try await cluster.startServer()
                    return cluster
                } catch {
                    lastError = error
                }
            }
            throw lastError ?? ChildProcessError(message: "PostgreSQL did not start")
        } catch {
            ClusterRegistry.stopAndRemove(directory)
            throw error
        }
    }

    /// Creates a fresh, uniquely named database.
    /// - Returns: Its connection URL.
    /// - Throws: ``PostgresError`` when the server refuses.
    public func createDatabase() async throws -> String {
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let client = PostgresClient(
            configuration: PostgresConfiguration(connectionString: connectionString(), poolSize: 1, applicationName: "PostgresCluster"),
            logger: Logger(label: "TestSupport.PostgresCluster", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        do {
            // The name is generated above (letters and digits), so building the statement text is safe.
            try await client.execute("CREATE DATABASE \"\(name)\"")
            await client.close()
        } catch {
            await client.close()
            throw error
        }
        return connectionString(database: name)
    }

    /// How ``stopServer(_:)`` shuts the server down.
    public enum Shutdown: String, Sendable {
        /// Running sessions are terminated and a shutdown checkpoint is written.
        case fast
        /// The postmaster and every backend quit at once, as in a crash; the next start recovers from the WAL.
        case immediate
    }

    /// Stops the server keeping its data, port and directory.
    /// - Parameter shutdown: Fast (the default) or immediate, as in a crash.
    /// - Throws: ``ChildProcessError`` when `pg_ctl stop` fails.
    public func stopServer(_ shutdown: Shutdown = .fast) async throws {
        try await runTool("pg_ctl", ["stop", "-D", dataDirectory, "-m", shutdown.rawValue, "-w", "-t", "60", "-s"])
    }

    /// Starts the server again after ``stopServer()`` and waits until it accepts connections.
    /// - Throws: ``ChildProcessError`` when it does not come up (the tail of `server.log` is in the message).
    public func startServer() async throws {
        do {
            try await runTool("pg_ctl", ["start", "-D", dataDirectory, "-l", directory + "/server.log", "-w", "-t", "60", "-s"])
        } catch {
            let log = (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? ""
            throw ChildProcessError(message: "\(error)\nserver.log:\n\(log.suffix(2000))")
        }
    }

    /// Stops and starts the server on the same port with the same data; running sessions are terminated.
    /// - Throws: ``ChildProcessError`` when it does not come back.
    public func restart() async throws {
        try await stopServer()
        try await startServer()
    }

    /// Stops the server immediately and removes its directory. Idempotent.
    public func stop() {
        ClusterRegistry.stopAndRemove(directory)
    }

    // MARK: Helpers

    func runTool(_ tool: String, _ arguments: [String]) async throws {
        let path = binDirectory + "/" + tool
        let executable: String
        let fullArguments: [String]
        if let runAsUser {
            guard let runuser = ChildProcess.which("runuser") ?? ChildProcess.which("su") else {
                throw ChildProcessError(message: "PostgresCluster: running as root needs runuser(1) to start PostgreSQL as \(runAsUser)")
            }
            executable = runuser
            fullArguments = ["-u", runAsUser, "--", path] + arguments
        } else {
            executable = path
            fullArguments = arguments
        }
        let logPath = directory + "/\(tool).out"
        let child = try ChildProcess(executable: executable, arguments: fullArguments, workingDirectory: directory, outputPath: logPath)
        guard await child.waitForExit(timeout: .seconds(120)) else {
            child.stopNow(grace: .zero)
            throw ChildProcessError(message: "PostgresCluster: \(tool) did not finish within 120 s")
        }
        guard child.exitStatus == 0 else {
            let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw ChildProcessError(message: "PostgresCluster: \(tool) \(arguments.joined(separator: " ")) failed (status \(child.exitStatus ?? -1)): \(output.suffix(2000))")
        }
    }

    private static func findBinDirectory() throws -> String {
        var candidates: [String] = []
        if let pgConfig = ChildProcess.which("pg_config") {
            let process = Process()
            let pipe = Pipe()
            process.executableURL = URL(fileURLWithPath: pgConfig)
            process.arguments = ["--bindir"]
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            if (try? process.run()) != nil {
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                candidates.append(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            candidates.append("/usr/lib/postgresql/\(version)/bin")
        }
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate + "/initdb")
            && FileManager.default.isExecutableFile(atPath: candidate + "/pg_ctl") {
            return candidate
        }
        throw ChildProcessError(
            message: "PostgresCluster: PostgreSQL server binaries (initdb, pg_ctl) not found via `pg_config --bindir` or /usr/lib/postgresql/*/bin; install them with `apt-get install postgresql`"
        )
    }

    /// Returns the unprivileged user the server runs as when we are root, creating `postgres` if needed.
    private static func ensureServiceUser() throws -> String {
        let user = "postgres"
        if getpwnam(user) != nil { return user }
        guard let useradd = ChildProcess.which("useradd") else {
            throw ChildProcessError(message: "PostgresCluster: running as root needs a `postgres` user and useradd is missing")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: useradd)
        process.arguments = ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", user]
        try process.run()
        process.waitUntilExit()
        guard getpwnam(user) != nil else {
            throw ChildProcessError(message: "PostgresCluster: could not create the `postgres` user to run the server as")
        }
        return user
    }

    static func chown(paths: [String], to user: String) throws {
        guard let entry = getpwnam(user) else { throw ChildProcessError(message: "PostgresCluster: no user \(user)") }
        for path in paths where Foundation.chown(path, entry.pointee.pw_uid, entry.pointee.pw_gid) != 0 {
            throw ChildProcessError(message: "PostgresCluster: chown \(path) to \(user) failed (errno \(errno))")
        }
    }

    static func append(_ text: String, toFile path: String) throws {
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }
}

/// Cluster directories still alive; their servers are stopped (SIGQUIT: immediate shutdown) and the directories
/// removed at process exit, so no postgres outlives the test run.
enum ClusterRegistry {
    static let directories = Mutex<Set<String>>([])
    static let installAtExit: Void = {
        atexit {
            let remaining = ClusterRegistry.directories.withLock { $0 }
            for directory in remaining { ClusterRegistry.stopAndRemove(directory) }
        }
    }()

    static func register(_ directory: String) {
        _ = installAtExit
        directories.withLock { _ = $0.insert(directory) }
    }

    /// Synchronous and async-signal-free enough for `atexit`: signal the postmaster, wait briefly, delete.
    static func stopAndRemove(_ directory: String) {
        let pidFile = directory + "/data/postmaster.pid"
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
           let line = text.split(separator: "\n").first, let pid = Int32(line.trimmingCharacters(in: .whitespaces)), pid > 0 {
            _ = kill(pid, SIGQUIT)
            for _ in 0..<500 where kill(pid, 0) == 0 { usleep(10_000) }
            if kill(pid, 0) == 0 { _ = kill(pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: directory)
        directories.withLock { _ = $0.remove(directory) }
    }
}
