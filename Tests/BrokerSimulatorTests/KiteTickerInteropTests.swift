import BrokerWire
import Foundation
import Testing

@testable import BrokerSimulator

/// Zerodha's own Python client (`kiteconnect.KiteTicker`) against the simulator: the real proof that the wire format,
/// the handshake and the request messages are Kite's.
@Suite("KiteTicker interoperability")
struct KiteTickerInteropTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct ProbeOutput: Decodable {
        struct Tick: Decodable {
            struct OHLC: Decodable { var open: Double; var high: Double; var low: Double; var close: Double }
            struct Level: Decodable { var quantity: Int; var price: Double; var orders: Int }
            struct Depth: Decodable { var buy: [Level]; var sell: [Level] }
            var instrument_token: UInt32
            var mode: String
            var tradable: Bool
            var last_price: Double
            var ohlc: OHLC?
            var depth: Depth?
            var exchange_timestamp: Double?
            var last_trade_time: Double?
            var volume_traded: Int?
            var oi: Int?
        }

        var connected: Bool
        var ticks: [Tick]
        var errors: [[String: AnyCodableValue]]
    }

    /// Enough of JSON to read error entries without caring about their shape.
    enum AnyCodableValue: Decodable {
        case string(String), number(Double), other
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) { self = .string(text) }
            else if let number = try? container.decode(Double.self) { self = .number(number) }
            else { self = .other }
        }
    }

    @Test("KiteTicker connects, subscribes an index, an equity and an option in full mode, and parses sane ticks")
    func kiteTickerReceivesFullTicks() async throws {
        let python = Self.repoRoot.appendingPathComponent(".venv/bin/python3").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("The project venv is missing (\(python)): run `make venv` (python3 -m venv .venv && .venv/bin/pip install kiteconnect dhanhq).")
            return
        }
        let script = Self.repoRoot.appendingPathComponent("scripts/sim/kiteticker_probe.py").path
        try await withSimulator(TestArguments(tickIntervalMilliseconds: 500)) { sim in
            let sample = sim.sampleTokens()
            let tokens = [sample.index, sample.equity, sample.option]
            let output = try await runProcess(
                python,
                [script, "--root", sim.kiteRoot, "--tokens", tokens.map(String.init).joined(separator: ","), "--mode", "full", "--seconds", "3"]
            )
            let probe = try JSONDecoder().decode(ProbeOutput.self, from: Data(output.stdout.utf8))
            #expect(probe.connected, "KiteTicker did not connect: \(output.stdout) \(output.stderr)")
            #expect(probe.errors.isEmpty, "KiteTicker reported errors: \(output.stdout)")
            let received = Set(probe.ticks.map(\.instrument_token))
            #expect(received == Set(tokens), "ticks for \(received), wanted \(tokens)")

            let now = Date().timeIntervalSince1970
            for token in tokens {
                // The first ticks may predate the mode change (quote is the default); the last one must be full.
                let tick = try #require(probe.ticks.last { $0.instrument_token == token })
                #expect(tick.mode == "full", "token \(token) mode \(tick.mode)")
                #expect(tick.last_price > 0)
                let ohlc = try #require(tick.ohlc, "ohlc missing for \(token)")
                #expect(ohlc.high >= ohlc.low && ohlc.close > 0)
                let exchangeTime = try #require(tick.exchange_timestamp, "exchange_timestamp missing for \(token)")
                #expect(abs(exchangeTime - now) < 120, "exchange_timestamp \(exchangeTime) is not near now \(now)")
                if token == sample.index {
                    #expect(!tick.tradable)
                } else {
                    #expect(tick.tradable)
                    let depth = try #require(tick.depth, "depth missing for \(token)")
                    #expect(depth.buy.count == 5 && depth.sell.count == 5)
                    #expect(depth.buy.allSatisfy { $0.price > 0 } && depth.sell.allSatisfy { $0.price > 0 })
                    #expect(depth.buy[0].price < depth.sell[0].price)
                    #expect(zip(depth.buy, depth.buy.dropFirst()).allSatisfy { $0.price >= $1.price })
                    #expect(zip(depth.sell, depth.sell.dropFirst()).allSatisfy { $0.price <= $1.price })
                    let lastTrade = try #require(tick.last_trade_time, "last_trade_time missing for \(token)")
                    #expect(abs(lastTrade - now) < 24 * 3600)
                }
            }
        }
    }
}

/// Runs a program to completion and returns its output.
///
/// Output goes to temporary files rather than pipes: reading a pipe blocks a thread, and blocking the cooperative pool
/// (two threads on a 2-core machine) would starve the in-process simulator the child is talking to.
func runProcess(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> (stdout: String, stderr: String, status: Int32) {
    let directory = FileManager.default.temporaryDirectory
    let stdoutURL = directory.appendingPathComponent("probe-\(UUID().uuidString).out")
    let stderrURL = directory.appendingPathComponent("probe-\(UUID().uuidString).err")
    FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
    FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
    defer {
        try? FileManager.default.removeItem(at: stdoutURL)
        try? FileManager.default.removeItem(at: stderrURL)
    }
    let stdoutHandle = try FileHandle(forWritingTo: stdoutURL)
    let stderrHandle = try FileHandle(forWritingTo: stderrURL)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardOutput = stdoutHandle
    process.standardError = stderrHandle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let deadline = ContinuousClock.now + timeout
    while process.isRunning {
        if ContinuousClock.now > deadline {
            process.terminate()
            break
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
    try? stdoutHandle.close()
    try? stderrHandle.close()
    let out = (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? ""
    let err = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
    return (out, err, process.terminationStatus)
}
