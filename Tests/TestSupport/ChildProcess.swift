import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started by a test fixture (redis-server, postgres, a service under test).
///
/// Every live child is registered process-wide and killed with SIGKILL from an `atexit` handler,
/// so no fixture process outlives the test run even when a test forgets to stop it.
public final class ChildProcess: Sendable {
    /// The launched executable's path.
    public let executable: String
    /// The arguments it was started with.
    public let arguments: [String]
    /// Its process id.
    public let pid: Int32
    private let state = Mutex<State>(State())

    private struct State {
        var exitStatus: Int32?
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), looked up at run time because Swift's Glibc module
    /// does not expose it; nil on older C libraries.
    private static let closeFrom3: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32).self)
    }()

    /// Starts a child process (with `posix_spawn`; this class reaps it itself with `waitpid`).
    /// - Parameters:
    ///   - executable: Absolute path of the program (see ``ChildProcess/which(_:extraDirectories:)``).
    ///   - arguments: Command-line arguments.
    ///   - environment: Extra environment variables, added to the test process's environment.
    ///   - workingDirectory: Working directory; the current one when nil.
    ///   - outputPath: File that receives the child's stdout and stderr; discarded when nil.
    /// - Throws: ``ChildProcessError`` when the program cannot be started.
    public init(
        executable: String,
        arguments: [String],
        environment: [String: String] = [:],
        workingDirectory: String? = nil,
        outputPath: String? = nil
    ) throws {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, outputPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&fileActions, 1, 2)
        // The child must not inherit the test process's other descriptors: a pipe another thread is reading to EOF
        // (Foundation's Process + Pipe) would otherwise never close while the child lives, and hang that reader.
        Self.closeFrom3?(&fileActions, 3)

        let mergedEnvironment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        // posix_spawn_file_actions_addchdir_np is not visible from Swift's Glibc module; `env -C` execs in place, so
        // the pid is still the program's.
        let commandLine = workingDirectory.map { ["/usr/bin/env", "-C", $0, executable] + arguments } ?? [executable] + arguments
        let argv = commandLine.map { strdup($0) } + [nil]
        let envp = mergedEnvironment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        // Threads of the test process (libdispatch workers) block signals; the child must not inherit that mask or
        // ignored dispositions, or SIGTERM would never reach it.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        sigdelset(&defaults, SIGKILL)
        sigdelset(&defaults, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, commandLine[0], &fileActions, &attributes, argv, envp)
        guard rc == 0 else {
            throw ChildProcessError(message: "cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        self.executable = executable
        self.arguments = arguments
        self.pid = pid
        ChildRegistry.register(pid)
    }

    /// Whether the child is still running (reaps it once it has exited).
    public var isRunning: Bool {
        state.withLock { state in
            guard state.exitStatus == nil else { return false }
            var status: Int32 = 0
            let rc = waitpid(pid, &status, WNOHANG)
            if rc == pid {
                state.exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
                ChildRegistry.unregister(pid)
                return false
            }
            if rc < 0 {
                state.exitStatus = -1
                return false
            }
            return true
        }
    }

    /// The exit status once the child has exited (128 + signal number when killed by a signal), nil while it runs.
    public var exitStatus: Int32? { isRunning ? nil : state.withLock { $0.exitStatus } }

    /// Sends a signal to the child.
    /// - Parameters:
    ///   - signal: The signal, e.g. `SIGTERM`, `SIGKILL`, `SIGSTOP`.
    public func signal(_ signal: Int32) {
        if isRunning { _ = Glibc.kill(pid, signal) }
    }

    /// Waits until the child has exited.
    /// - Parameters:
    ///   - timeout: How long to wait.
    /// - Returns: true when the child exited within `timeout`.
    @discardableResult
    public func waitForExit(timeout: Duration = .seconds(10)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        ChildRegistry.unregister(pid)
        return true
    }

    /// Stops the child: SIGTERM, then SIGKILL if it has not exited within `grace`.
    /// - Parameters:
    ///   - grace: Time allowed for a clean shutdown.
    public func terminate(grace: Duration = .seconds(5)) async {
        signal(SIGTERM)
        if await waitForExit(timeout: grace) { return }
        await kill()
    }

    /// Kills the child with SIGKILL and waits for it to exit.
    public func kill() async {
        signal(SIGKILL)
        await waitForExit(timeout: .seconds(30))
    }

    /// Synchronous stop for `defer` blocks and `deinit`s: SIGTERM, then SIGKILL after `grace`; blocks the calling thread
    /// until the child has exited.
    /// - Parameters:
    ///   - grace: Time allowed for a clean shutdown; zero sends SIGKILL at once.
    public func stopNow(grace: Duration = .seconds(5)) {
        let deadline = ContinuousClock.now + grace
        signal(grace == .zero ? SIGKILL : SIGTERM)
        while isRunning {
            if ContinuousClock.now >= deadline { signal(SIGKILL) }
            usleep(2_000)
        }
        ChildRegistry.unregister(pid)
    }

    /// Finds a program on `PATH`.
    /// - Parameters:
    ///   - name: Program name, e.g. `redis-server`.
    ///   - extraDirectories: Directories searched after `PATH` (e.g. `/usr/lib/postgresql/15/bin`).
    /// - Returns: The absolute path, or nil when not found.
    public static func which(_ name: String, extraDirectories: [String] = []) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let directories = path.split(separator: ":").map(String.init) + ["/usr/local/sbin", "/usr/sbin", "/usr/bin"] + extraDirectories
        for directory in directories {
            let candidate = directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}

/// Starting a child process failed.
public struct ChildProcessError: Error, CustomStringConvertible {
    /// What went wrong.
    public var message: String
    /// Creates an error.
    /// - Parameters:
    ///   - message: What went wrong.
    public init(message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// Process-wide set of live children, killed at exit.
private enum ChildRegistry {
    static let pids = Mutex<Set<Int32>>([])
    static let installAtExit: Void = {
        atexit {
            let survivors = ChildRegistry.pids.withLock { $0 }
            for pid in survivors { _ = Glibc.kill(pid, SIGKILL) }
        }
    }()

    static func register(_ pid: Int32) {
        _ = installAtExit
        pids.withLock { _ = $0.insert(pid) }
    }

    static func unregister(_ pid: Int32) {
        pids.withLock { _ = $0.remove(pid) }
    }
}
