import ArgumentParser
import BrokerWire
import Foundation
import Synchronization
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Sustained tick output of the broker simulator to one client: 9,000 instruments in full mode over 3 Kite
/// connections (3 × 3,000), measured after a warm-up.
///
/// Benchmarks cannot import the `BrokerSimulator` executable target, so this launches the built `BrokerSimulator`
/// binary from the same build folder as a child process (or `--simulator` PATH) on a free loopback port, and reads
/// its frames with a minimal blocking WebSocket client (one thread per connection, off the cooperative pool).
struct SimulatorBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulator",
        abstract: "Ticks/s the broker simulator sustains to one client with 9,000 full-mode instruments."
    )

    @Option(help: "Path of the BrokerSimulator binary (default: next to this executable).")
    var simulator: String?

    @Option(help: "Instruments in total, spread over connections of at most --per-connection.")
    var instruments = 9000

    @Option(help: "Instruments per connection (Kite's cap is 3,000; more raises the simulator's cap).")
    var perConnection = 3000

    @Option(help: "Streaming mode: ltp, quote or full.")
    var mode = "full"

    @Option(help: "Simulator tick interval in milliseconds (1000 = one tick per instrument per second).")
    var tickIntervalMs = 1000

    @Option(help: "Warm-up seconds before measuring.")
    var warmup = 3.0

    @Option(help: "Measured seconds.")
    var seconds = 10.0

    func run() async throws {
        guard let kiteMode = KiteMode(rawValue: mode) else { throw ValidationError("--mode must be ltp, quote or full") }
        let binary = simulator ?? Self.siblingBinary("BrokerSimulator")
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ValidationError("no BrokerSimulator binary at \(binary): run `swift build -c release --product BrokerSimulator` first")
        }
        let connectionCount = (instruments + perConnection - 1) / perConnection
        let port = Ports.freeLoopbackPort()
        let logPath = FileManager.default.temporaryDirectory.appendingPathComponent("simulator-bench-\(port).log").path
        let child = try ChildProcess(
            executable: binary,
            arguments: [
                "--port", String(port), "--tick-interval-ms", String(tickIntervalMs), "--log-level", "warning",
                "--max-instruments-per-connection", String(max(perConnection, 3000)),
                "--max-connections-per-key", String(max(connectionCount, 3)),
            ],
            outputPath: logPath
        )
        defer { child.stopNow(grace: .seconds(2)) }
        try await Self.waitForPort(port, child: child, logPath: logPath)

        let tokens = try Self.fetchTokens(port: port, count: instruments)
        guard tokens.count == instruments else {
            throw ValidationError("the simulator's universe has only \(tokens.count) instruments, \(instruments) requested")
        }
        print("BrokerSimulator \(binary) on port \(port): \(instruments) instruments, \(mode) mode, \(connectionCount) connection(s), tick interval \(tickIntervalMs) ms")

        let counters = BenchCounters()
        var clients: [RawWebSocket] = []
        for index in 0..<connectionCount {
            let slice = Array(tokens[(index * perConnection)..<min(tokens.count, (index + 1) * perConnection)])
            let client = try RawWebSocket(port: port, path: "/?api_key=sim_api_key&access_token=sim_access_token")
            try client.sendText(KiteRequest.subscribe(slice).jsonText())
            try client.sendText(KiteRequest.mode(kiteMode, slice).jsonText())
            clients.append(client)
        }
        let threads = clients.map { client in
            let thread = Thread { client.readLoop(counters) }
            thread.start()
            return thread
        }
        _ = threads

        try await Task.sleep(for: .milliseconds(Int64(warmup * 1000)))
        let start = counters.snapshot()
        let cpuStart = Self.cpuSeconds(pid: child.pid)
        let clock = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        let end = counters.snapshot()
        let cpuEnd = Self.cpuSeconds(pid: child.pid)
        let elapsed = ContinuousClock.now - clock
        let elapsedSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18

        for client in clients { client.shutdown() }

        let ticks = Double(end.packets - start.packets)
        let frames = Double(end.frames - start.frames)
        let bytes = Double(end.bytes - start.bytes)
        let ticksPerSecond = ticks / elapsedSeconds
        let expected = Double(instruments) * 1000 / Double(tickIntervalMs)
        print(String(format: "ticks/s:   %.0f (configured rate %.0f/s)", ticksPerSecond, expected))
        print(String(format: "frames/s:  %.1f (data frames; %d heartbeats)", frames / elapsedSeconds, end.heartbeats - start.heartbeats))
        print(String(format: "bandwidth: %.2f MB/s", bytes / elapsedSeconds / 1_000_000))
        if let cpuStart, let cpuEnd {
            print(String(format: "simulator CPU: %.1f%% of one core", (cpuEnd - cpuStart) / elapsedSeconds * 100))
        }
        let keptUp = ticksPerSecond >= expected * 0.95
        print("kept up with configured rate: \(keptUp ? "yes" : "NO") (\(String(format: "%.1f", ticksPerSecond / expected * 100))%)")
    }

    static func siblingBinary(_ name: String) -> String {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent(name).path
    }

    static func waitForPort(_ port: Int, child: ChildProcess, logPath: String) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let fd = try? RawWebSocket.connectSocket(port: port) {
                close(fd)
                return
            }
            guard child.isRunning else {
                let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw ValidationError("BrokerSimulator exited: \(log)")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ValidationError("BrokerSimulator did not listen on port \(port) within 60 s")
    }

    /// The first `count` instrument tokens of `GET /instruments` (CSV, token in the first column).
    static func fetchTokens(port: Int, count: Int) throws -> [UInt32] {
        let fd = try RawWebSocket.connectSocket(port: port)
        defer { close(fd) }
        let request = "GET /instruments HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        try RawWebSocket.writeAll(fd, Array(request.utf8))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let bodyStart = text.range(of: "\r\n\r\n") else { throw ValidationError("bad /instruments response") }
        var tokens: [UInt32] = []
        for line in text[bodyStart.upperBound...].split(separator: "\n").dropFirst() {
            guard let first = line.split(separator: ",", maxSplits: 1).first, let token = UInt32(first) else { continue }
            tokens.append(token)
            if tokens.count == count { break }
        }
        return tokens
    }

    /// utime + stime of a process from /proc (Linux), in seconds.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command name: state is field 3, utime 14, stime 15 (1-based in proc(5)).
        guard fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return nil }
        return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

/// Totals across the reader threads.
final class BenchCounters: Sendable {
    struct Totals { var frames = 0; var packets = 0; var heartbeats = 0; var bytes = 0 }
    private let totals = Mutex(Totals())
    func add(frames: Int = 0, packets: Int = 0, heartbeats: Int = 0, bytes: Int) {
        totals.withLock {
            $0.frames += frames
            $0.packets += packets
            $0.heartbeats += heartbeats
            $0.bytes += bytes
        }
    }
    func snapshot() -> Totals { totals.withLock { $0 } }
}

/// A minimal blocking WebSocket client for the benchmark: handshake, masked text frames out, unmasked frames in.
final class RawWebSocket: @unchecked Sendable {
    private let fd: Int32
    private let closed = Mutex(false)

    init(port: Int, path: String) throws {
        fd = try Self.connectSocket(port: port)
        let request =
            "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        try Self.writeAll(fd, Array(request.utf8))
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !(head.count >= 4 && head.suffix(4) == [13, 10, 13, 10]) {
            guard read(fd, &byte, 1) == 1 else { throw ValidationError("connection closed during the handshake") }
            head.append(byte)
        }
        let status = String(decoding: head, as: UTF8.self)
        guard status.hasPrefix("HTTP/1.1 101") else { throw ValidationError("upgrade refused: \(status.prefix(60))") }
    }

    static func connectSocket(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("socket() failed") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw ValidationError("connect to 127.0.0.1:\(port) failed")
        }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { throw ValidationError("write failed") }
            offset += n
        }
    }

    func sendText(_ text: String) throws {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame.append(0x80 | 126)
            frame.append(UInt8(payload.count >> 8))
            frame.append(UInt8(payload.count & 0xFF))
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xFF)) }
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        frame.append(contentsOf: mask)
        for (index, byte) in payload.enumerated() { frame.append(byte ^ mask[index & 3]) }
        try Self.writeAll(fd, frame)
    }

    /// Reads frames until shut down, counting data frames, packets (the frame's 2-byte count) and heartbeats.
    func readLoop(_ counters: BenchCounters) {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var pending: [UInt8] = []
        pending.reserveCapacity(1 << 21)
        var start = 0
        while !closed.withLock({ $0 }) {
            let n = read(fd, &buffer, buffer.count)
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { continue }
            guard n > 0 else { return }
            pending.append(contentsOf: buffer[0..<n])
            // Parse as many whole frames as are buffered.
            while pending.count - start >= 2 {
                let opcode = pending[start] & 0x0F
                var length = Int(pending[start + 1] & 0x7F)
                var header = 2
                if length == 126 {
                    guard pending.count - start >= 4 else { break }
                    length = Int(pending[start + 2]) << 8 | Int(pending[start + 3])
                    header = 4
                } else if length == 127 {
                    guard pending.count - start >= 10 else { break }
                    length = (0..<8).reduce(0) { $0 << 8 | Int(pending[start + 2 + $1]) }
                    header = 10
                }
                guard pending.count - start >= header + length else { break }
                let payload = start + header
                if opcode == 2 {
                    if length == 1 {
                        counters.add(heartbeats: 1, bytes: length)
                    } else if length >= 2 {
                        let packets = Int(pending[payload]) << 8 | Int(pending[payload + 1])
                        counters.add(frames: 1, packets: packets, bytes: length)
                    }
                } else if opcode == 8 {
                    return
                }
                start += header + length
            }
            if start > 0 && start == pending.count {
                pending.removeAll(keepingCapacity: true)
                start = 0
            } else if start > (1 << 20) {
                pending.removeFirst(start)
                start = 0
            }
        }
    }

    func shutdown() {
        closed.withLock { $0 = true }
        Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    deinit { close(fd) }
}
