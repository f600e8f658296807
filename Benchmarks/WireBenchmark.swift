import ArgumentParser
import BrokerWire
import Foundation
import TestSupport
import WireFixtures

/// Decode throughput of the broker wire codecs against the brokers' own Python parsers, and a fuzz run of both.
///
/// `Benchmarks wire` builds a seeded set of full-mode Kite frames (default 200,000 packets in frames of 100),
/// times our decoder over it (best of several passes), then runs the same frames through kiteconnect's
/// `KiteTicker._parse_binary` (scripts/wire/crosscheck_kite.py --bench) and prints both rates and the ratio.
/// The same is done for Dhan full packets with dhanhq's `MarketFeed.process_data`.
///
/// `Benchmarks wire --fuzz 2000000` instead sends that many random and mutated frames per codec through our
/// decoders and the Python parsers, and reports crashes (a trap would kill this process) and typed errors.
struct WireBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wire",
        abstract: "Kite/Dhan decode rate vs the official Python parsers; --fuzz N runs N random/mutated frames through both."
    )

    @Option(help: "Packets in the decode benchmark.")
    var packets = 200_000

    @Option(help: "Packets per Kite frame.")
    var perFrame = 100

    @Option(help: "Timed passes of our decoder (the best is reported).")
    var passes = 5

    @Option(help: "Run the fuzz mode with this many frames per codec instead of the benchmark.")
    var fuzz = 0

    @Option(help: "Seed for the sample data.")
    var seed: UInt64 = 2024

    @Option(help: "Python interpreter (default $PROJECT_VENV/bin/python3 or <root>/.venv/bin/python3).")
    var python: String?

    @Option(help: "Package root holding scripts/wire (default: derived from this source file's path).")
    var root: String?

    @Flag(help: "Skip the Python side.")
    var skipPython = false

    var packageRoot: URL {
        if let root { return URL(fileURLWithPath: root) }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    }

    var pythonPath: String {
        if let python { return python }
        if let venv = ProcessInfo.processInfo.environment["PROJECT_VENV"], !venv.isEmpty { return venv + "/bin/python3" }
        return packageRoot.appendingPathComponent(".venv/bin/python3").path
    }

    func run() async throws {
        if fuzz > 0 {
            try runFuzz()
        } else {
            try runBenchmark()
        }
    }

    // MARK: Benchmark

    func runBenchmark() throws {
        var rng = WireRandom(seed: seed)
        var kiteFrames: [[UInt8]] = []
        var remaining = packets
        while remaining > 0 {
            let n = min(perFrame, remaining)
            kiteFrames.append(KiteTickerCodec.encodeFrame((0..<n).map { _ in WireSamples.kiteFullTick(&rng) }))
            remaining -= n
        }
        let kiteBytes = kiteFrames.reduce(0) { $0 + $1.count }
        print("kite: \(packets) full packets in \(kiteFrames.count) frames, \(kiteBytes) bytes")
        let kiteSwift = measure(passes: passes, packets: packets) {
            var checksum: UInt64 = 0
            for frame in kiteFrames {
                let decoded = KiteTickerCodec.decodeFrame(frame)
                for tick in decoded.ticks { checksum &+= UInt64(UInt32(bitPattern: tick.lastPrice)) }
            }
            return checksum
        }
        print(String(format: "kite swift:  %12.0f packets/s  (best of %d, %.1f ns/packet)", kiteSwift, passes, 1e9 / kiteSwift))

        let dhanPackets = (0..<packets).map { _ in DhanPacket.full(Self.dhanFull(&rng)) }
        let dhanMessages = dhanPackets.map { DhanFeedCodec.encode($0) }
        let dhanSwift = measure(passes: passes, packets: packets) {
            var checksum: UInt64 = 0
            for message in dhanMessages {
                for case let .success(packet) in DhanFeedCodec.decode(message) { checksum &+= UInt64(packet.instrument.securityId) }
            }
            return checksum
        }
        print(String(format: "dhan swift:  %12.0f packets/s  (one full packet per message)", dhanSwift))

        guard !skipPython else { return }
        let kitePython = try pythonRate(script: "crosscheck_kite.py", frames: kiteFrames, expected: packets)
        print(String(format: "kite python: %12.0f packets/s  (kiteconnect KiteTicker._parse_binary)", kitePython))
        print(String(format: "kite ratio:  %12.1fx", kiteSwift / kitePython))
        let dhanPython = try pythonRate(script: "crosscheck_dhan.py", frames: dhanMessages, expected: packets)
        print(String(format: "dhan python: %12.0f packets/s  (dhanhq MarketFeed.process_data)", dhanPython))
        print(String(format: "dhan ratio:  %12.1fx", dhanSwift / dhanPython))
    }

    static func dhanFull(_ rng: inout WireRandom) -> DhanFull {
        let ltp = Float(Int.random(in: 10_000...500_000, using: &rng)) / 100
        let quote = DhanQuote(
            instrument: DhanInstrumentID(.nseFNO, UInt32.random(in: 1...200_000, using: &rng)), lastPrice: ltp,
            lastTradedQuantity: 75, lastTradeTime: 1_767_225_600, averagePrice: ltp, volume: 1_000_000,
            totalSellQuantity: 5_000, totalBuyQuantity: 6_000, open: ltp - 1, close: ltp - 2, high: ltp + 3, low: ltp - 4)
        return DhanFull(
            quote: quote, oi: 100_000, oiDayHigh: 120_000, oiDayLow: 90_000,
            depth: (0..<5).map { i in
                DhanDepthLevel(bidQuantity: 100, askQuantity: 120, bidOrders: 3, askOrders: 4,
                               bidPrice: ltp - Float(i) * 0.05, askPrice: ltp + Float(i + 1) * 0.05)
            })
    }

    /// Best packets/s over `passes` runs of `body`.
    func measure(passes: Int, packets: Int, _ body: () -> UInt64) -> Double {
        var best = Duration.seconds(1_000_000)
        var sink: UInt64 = 0
        let clock = ContinuousClock()
        for _ in 0..<max(1, passes) {
            let start = clock.now
            sink &+= body()
            best = min(best, clock.now - start)
        }
        if sink == 42 { print("") }  // keeps the work observable
        let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
        return Double(packets) / seconds
    }

    func pythonRate(script: String, frames: [[UInt8]], expected: Int) throws -> Double {
        let output = try runPython(script: script, arguments: ["--bench"], frames: frames)
        guard let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              let count = (object["packets"] as? NSNumber)?.intValue,
              let seconds = (object["seconds"] as? NSNumber)?.doubleValue, seconds > 0
        else { throw ValidationError("unexpected output from \(script): \(output)") }
        if count != expected { print("warning: \(script) parsed \(count) packets, expected \(expected)") }
        return Double(count) / seconds
    }

    func runPython(script: String, arguments: [String], frames: [[UInt8]]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: pythonPath) else {
            throw ValidationError("no Python at \(pythonPath): run `make venv` (kiteconnect, dhanhq), or pass --skip-python")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wirebench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("frames.bin")
        try FrameFile.write(frames, to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: pythonPath)
        process.arguments = [packageRoot.appendingPathComponent("scripts/wire/\(script)").path] + arguments + [input.path]
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(script) exited with status \(process.terminationStatus)")
        }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    // MARK: Fuzz

    func runFuzz() throws {
        let batch = 250_000
        let clock = ContinuousClock()

        var kiteErrors: [String: Int] = [:]
        var kiteTicks = 0
        var kitePythonExceptions = 0
        var kitePythonFrames = 0
        var rng = WireRandom(seed: seed)
        var kiteTime = Duration.zero
        var dhanTime = Duration.zero
        var done = 0
        while done < fuzz {
            let n = min(batch, fuzz - done)
            let frames = (0..<n).map { _ in WireSamples.kiteFuzzFrame(&rng) }
            let decodeStart = clock.now
            for frame in frames {
                let decoded = KiteTickerCodec.decodeFrame(frame)
                kiteTicks += decoded.ticks.count
                for error in decoded.errors { kiteErrors["\(error.code)", default: 0] += 1 }
            }
            kiteTime += clock.now - decodeStart
            if !skipPython {
                let (frames, exceptions) = try pythonFuzz(script: "crosscheck_kite.py", frames: frames)
                kitePythonFrames += frames
                kitePythonExceptions += exceptions
            }
            done += n
        }
        print("kite fuzz: \(fuzz) frames through KiteTickerCodec (decode time \(kiteTime)): 0 crashes, \(kiteTicks) ticks, typed errors \(kiteErrors.sorted { $0.key < $1.key })")
        if !skipPython {
            print("kite fuzz: \(kitePythonFrames) frames through kiteconnect _parse_binary: 0 crashes, \(kitePythonExceptions) raised Python exceptions")
        }

        var dhanErrors: [String: Int] = [:]
        var dhanPackets = 0
        var dhanPythonExceptions = 0
        var dhanPythonFrames = 0
        done = 0
        while done < fuzz {
            let n = min(batch, fuzz - done)
            let messages = (0..<n).map { _ in WireSamples.dhanFuzzMessage(&rng) }
            let decodeStart = clock.now
            for message in messages {
                for result in DhanFeedCodec.decode(message) {
                    switch result {
                    case .success: dhanPackets += 1
                    case let .failure(error): dhanErrors["\(error.code)", default: 0] += 1
                    }
                }
            }
            dhanTime += clock.now - decodeStart
            if !skipPython {
                let (frames, exceptions) = try pythonFuzz(script: "crosscheck_dhan.py", frames: messages)
                dhanPythonFrames += frames
                dhanPythonExceptions += exceptions
            }
            done += n
        }
        print("dhan fuzz: \(fuzz) messages through DhanFeedCodec (decode time \(dhanTime)): 0 crashes, \(dhanPackets) packets, typed errors \(dhanErrors.sorted { $0.key < $1.key })")
        if !skipPython {
            print("dhan fuzz: \(dhanPythonFrames) messages through dhanhq process_data: 0 crashes, \(dhanPythonExceptions) raised Python exceptions")
        }
    }

    func pythonFuzz(script: String, frames: [[UInt8]]) throws -> (Int, Int) {
        let output = try runPython(script: script, arguments: ["--fuzz"], frames: frames)
        guard let object = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any],
              let count = (object["frames"] as? NSNumber)?.intValue,
              let exceptions = (object["exceptions"] as? NSNumber)?.intValue
        else { throw ValidationError("unexpected output from \(script): \(output)") }
        return (count, exceptions)
    }
}
