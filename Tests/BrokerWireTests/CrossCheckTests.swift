import BrokerWire
import Foundation
import Testing
import TestSupport
import WireFixtures

/// Runs the brokers' official Python parsers (pip `kiteconnect`, `dhanhq`) over frames our encoder wrote and
/// requires every field they report to equal our decoder's result.
enum PythonTools {
    /// The package root, from this file's path (Tests/BrokerWireTests/<file>).
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// `$PROJECT_VENV/bin/python3`, else `<root>/.venv/bin/python3`.
    static var python: String {
        if let venv = ProcessInfo.processInfo.environment["PROJECT_VENV"], !venv.isEmpty {
            return venv + "/bin/python3"
        }
        return root.appendingPathComponent(".venv/bin/python3").path
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs scripts/wire/<script> on the frames and returns its stdout lines.
    static func run(script: String, arguments: [String] = [], frames: [[UInt8]]) throws -> [String] {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Failure(description: "no Python at \(python): run `make venv` (creates .venv with kiteconnect and dhanhq)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wire-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("frames.bin")
        let output = dir.appendingPathComponent("out.jsonl")
        let errors = dir.appendingPathComponent("err.txt")
        try FrameFile.write(frames, to: input)
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [root.appendingPathComponent("scripts/wire/\(script)").path] + arguments + [input.path]
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
            let hint = stderr.contains("ModuleNotFoundError") ? " — run `make venv` (pip install kiteconnect dhanhq)" : ""
            throw Failure(description: "\(script) exited \(process.terminationStatus)\(hint):\n\(stderr.suffix(2000))")
        }
        let text = try String(contentsOf: output, encoding: .utf8)
        return text.split(separator: "\n").map(String.init)
    }

    static func object(_ line: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw Failure(description: "not a JSON object: \(line)")
        }
        return object
    }
}

@Suite("Cross-check against the official Python parsers", .serialized)
struct CrossCheckTests {
    static func int(_ any: Any?) -> Int? { (any as? NSNumber)?.intValue }
    static func double(_ any: Any?) -> Double? { (any as? String).flatMap(Double.init) }

    @Test("kiteconnect KiteTicker._parse_binary agrees on every field")
    func kite() throws {
        var rng = WireRandom(seed: 20_240_601)
        var frames: [[UInt8]] = []
        var packets = 0
        while packets < 30_000 {
            let n = Int(rng.next() % 60) + 1
            frames.append(KiteTickerCodec.encodeFrame((0..<n).map { _ in WireSamples.kiteTick(&rng) }))
            packets += n
        }
        let lines = try PythonTools.run(script: "crosscheck_kite.py", frames: frames)
        let ours = frames.enumerated().flatMap { index, frame in
            let decoded = KiteTickerCodec.decodeFrame(frame)
            #expect(decoded.errors.isEmpty)
            return decoded.ticks.map { (index, $0) }
        }
        #expect(lines.count == packets && ours.count == packets)
        var modes: [String: Int] = [:]
        for (line, (frameIndex, t)) in zip(lines, ours) {
            let p = try PythonTools.object(line)
            let context = Comment(rawValue: "\(t) vs \(line)")
            modes["\(t.mode)/\(t.isIndex)", default: 0] += 1
            #expect(Self.int(p["f"]) == frameIndex, context)
            #expect(Self.int(p["token"]) == Int(t.instrumentToken), context)
            #expect(p["mode"] as? String == t.mode.rawValue, context)
            #expect((p["tradable"] as? Bool) == t.tradable, context)
            #expect(Self.double(p["last_price"]) == t.lastPriceValue, context)
            var expectedKeys: Set<String> = ["f", "token", "mode", "tradable", "last_price"]
            if t.mode != .ltp {
                expectedKeys.formUnion(["open", "high", "low", "close", "change"])
                #expect(Self.double(p["open"]) == t.openValue, context)
                #expect(Self.double(p["high"]) == t.highValue, context)
                #expect(Self.double(p["low"]) == t.lowValue, context)
                #expect(Self.double(p["close"]) == t.closeValue, context)
                #expect(Self.double(p["change"]) == t.changePercent, context)
            }
            if t.mode != .ltp, t.isIndex, t.mode == .full {
                expectedKeys.insert("exchange_timestamp")
                #expect(Self.int(p["exchange_timestamp"]) == Int(t.exchangeTimestamp), context)
            }
            if t.mode != .ltp, !t.isIndex {
                expectedKeys.formUnion(["last_traded_quantity", "average_traded_price", "volume_traded",
                                        "total_buy_quantity", "total_sell_quantity"])
                #expect(Self.int(p["last_traded_quantity"]) == Int(t.lastTradedQuantity), context)
                #expect(Self.double(p["average_traded_price"]) == t.averageTradedPriceValue, context)
                #expect(Self.int(p["volume_traded"]) == Int(t.volumeTraded), context)
                #expect(Self.int(p["total_buy_quantity"]) == Int(t.totalBuyQuantity), context)
                #expect(Self.int(p["total_sell_quantity"]) == Int(t.totalSellQuantity), context)
            }
            if t.mode == .full, !t.isIndex {
                expectedKeys.formUnion(["last_trade_time", "oi", "oi_day_high", "oi_day_low", "exchange_timestamp", "depth"])
                #expect(Self.int(p["last_trade_time"]) == Int(t.lastTradeTime), context)
                #expect(Self.int(p["oi"]) == Int(t.oi), context)
                #expect(Self.int(p["oi_day_high"]) == Int(t.oiDayHigh), context)
                #expect(Self.int(p["oi_day_low"]) == Int(t.oiDayLow), context)
                #expect(Self.int(p["exchange_timestamp"]) == Int(t.exchangeTimestamp), context)
                let depth = p["depth"] as? [String: Any]
                for (side, levels) in [("buy", t.depth?.buy ?? []), ("sell", t.depth?.sell ?? [])] {
                    let theirs = depth?[side] as? [[Any]] ?? []
                    #expect(theirs.count == 5 && levels.count == 5, context)
                    for (level, entry) in zip(levels, theirs) where entry.count == 3 {
                        #expect(Self.int(entry[0]) == Int(level.quantity), context)
                        #expect(Self.double(entry[1]) == t.price(level.price), context)
                        #expect(Self.int(entry[2]) == Int(level.orders), context)
                    }
                }
            }
            #expect(Set(p.keys) == expectedKeys, context)
        }
        // The sample set covers every layout.
        #expect(modes.count >= 5, "\(modes)")
    }

    static func format2(_ value: Float) -> String { String(format: "%.2f", Double(value)) }
    static func hms(_ epoch: UInt32) -> String {
        let s = Int(epoch) % 86_400
        return String(format: "%02d:%02d:%02d", s / 3600, s % 3600 / 60, s % 60)
    }

    @Test("dhanhq MarketFeed.process_data agrees on every field")
    func dhan() throws {
        var rng = WireRandom(seed: 20_240_602)
        let packets = (0..<15_000).map { _ in WireSamples.dhanPacket(&rng) }
        let frames = packets.map { DhanFeedCodec.encode($0) }  // dhanhq parses one packet per message
        let lines = try PythonTools.run(script: "crosscheck_dhan.py", frames: frames)
        #expect(lines.count == frames.count)
        let reasons: [UInt16: String] = [
            805: "Disconnected: No. of active websocket connections exceeded",
            806: "Disconnected: Subscribe to Data APIs to continue",
            807: "Disconnected: Access Token is expired",
            808: "Disconnected: Invalid Client ID",
            809: "Disconnected: Authentication Failed - check",
        ]
        for (index, (line, frame)) in zip(lines, frames).enumerated() {
            let p = try PythonTools.object(line)
            let context = Comment(rawValue: line)
            #expect(Self.int(p["f"]) == index)
            guard case let .success(packet) = DhanFeedCodec.decodePacket(frame) else {
                Issue.record("our decoder failed on message \(index)")
                continue
            }
            let r = p["r"] as? [String: Any] ?? [:]
            func header(_ type: String) {
                #expect(r["type"] as? String == type, context)
                #expect(Self.int(r["exchange_segment"]) == Int(packet.instrument.exchangeSegment), context)
                #expect(Self.int(r["security_id"]) == Int(packet.instrument.securityId), context)
            }
            func depth(_ levels: [DhanDepthLevel]) {
                let theirs = r["depth"] as? [[String: Any]] ?? []
                #expect(theirs.count == 5 && levels.count == 5, context)
                for (ours, level) in zip(levels, theirs) {
                    #expect(Self.int(level["bid_quantity"]) == Int(ours.bidQuantity), context)
                    #expect(Self.int(level["ask_quantity"]) == Int(ours.askQuantity), context)
                    #expect(Self.int(level["bid_orders"]) == Int(ours.bidOrders), context)
                    #expect(Self.int(level["ask_orders"]) == Int(ours.askOrders), context)
                    #expect(level["bid_price"] as? String == Self.format2(ours.bidPrice), context)
                    #expect(level["ask_price"] as? String == Self.format2(ours.askPrice), context)
                }
            }
            switch packet {
            case let .ticker(t):
                header("Ticker Data")
                #expect(r["LTP"] as? String == Self.format2(t.lastPrice), context)
                #expect(r["LTT"] as? String == Self.hms(t.lastTradeTime), context)
            case let .quote(q):
                header("Quote Data")
                #expect(r["LTP"] as? String == Self.format2(q.lastPrice), context)
                #expect(Self.int(r["LTQ"]) == Int(q.lastTradedQuantity), context)
                #expect(r["LTT"] as? String == Self.hms(q.lastTradeTime), context)
                #expect(r["avg_price"] as? String == Self.format2(q.averagePrice), context)
                #expect(Self.int(r["volume"]) == Int(q.volume), context)
                #expect(Self.int(r["total_sell_quantity"]) == Int(q.totalSellQuantity), context)
                #expect(Self.int(r["total_buy_quantity"]) == Int(q.totalBuyQuantity), context)
                #expect(r["open"] as? String == Self.format2(q.open), context)
                #expect(r["close"] as? String == Self.format2(q.close), context)
                #expect(r["high"] as? String == Self.format2(q.high), context)
                #expect(r["low"] as? String == Self.format2(q.low), context)
            case let .oi(_, oi):
                header("OI Data")
                #expect(Self.int(r["OI"]) == Int(oi), context)
            case let .previousClose(_, price, oi):
                header("Previous Close")
                #expect(r["prev_close"] as? String == Self.format2(price), context)
                #expect(Self.int(r["prev_OI"]) == Int(oi), context)
            case let .full(f):
                header("Full Data")
                #expect(r["LTP"] as? String == Self.format2(f.lastPrice), context)
                #expect(Self.int(r["LTQ"]) == Int(f.lastTradedQuantity), context)
                #expect(r["LTT"] as? String == Self.hms(f.lastTradeTime), context)
                #expect(r["avg_price"] as? String == Self.format2(f.averagePrice), context)
                #expect(Self.int(r["volume"]) == Int(f.volume), context)
                #expect(Self.int(r["total_sell_quantity"]) == Int(f.totalSellQuantity), context)
                #expect(Self.int(r["total_buy_quantity"]) == Int(f.totalBuyQuantity), context)
                #expect(Self.int(r["OI"]) == Int(f.oi), context)
                #expect(Self.int(r["oi_day_high"]) == Int(f.oiDayHigh), context)
                #expect(Self.int(r["oi_day_low"]) == Int(f.oiDayLow), context)
                #expect(r["open"] as? String == Self.format2(f.open), context)
                #expect(r["close"] as? String == Self.format2(f.close), context)
                #expect(r["high"] as? String == Self.format2(f.high), context)
                #expect(r["low"] as? String == Self.format2(f.low), context)
                depth(f.depth)
            case .marketStatus:
                #expect(p["r"] as? String == "Markets Open", context)
            case let .disconnect(_, code):
                #expect(p["r"] is NSNull, context)
                #expect(p["printed"] as? String == reasons[code], context)
            }
        }
    }
}
