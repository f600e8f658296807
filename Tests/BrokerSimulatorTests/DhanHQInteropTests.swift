import BrokerWire
import Foundation
import Testing

@testable import BrokerSimulator

/// Dhan's own Python client (`dhanhq`) against the simulator: its market-feed client (`MarketFeed`, formerly `DhanFeed`)
/// and its `intraday_minute_data`, each pointed at the simulator, prove that the packets and the charts API are Dhan's.
@Suite("dhanhq interoperability")
struct DhanHQInteropTests {
    struct FeedProbe: Decodable {
        struct Packet: Decodable {
            var raw: String
            var parsed: [String: Value]?
        }

        var connected: Bool
        var packets: [Packet]
        var errors: [String]
    }

    /// dhanhq's parsed values: numbers, strings (prices are "%.2f" text) and the depth list.
    enum Value: Decodable, Equatable {
        case number(Double), text(String), list([[String: Value]]), other
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Double.self) { self = .number(number) }
            else if let text = try? container.decode(String.self) { self = .text(text) }
            else if let list = try? container.decode([[String: Value]].self) { self = .list(list) }
            else { self = .other }
        }
    }

    static var python: String { KiteTickerInteropTests.repoRoot.appendingPathComponent(".venv/bin/python3").path }
    static func script(_ name: String) -> String { KiteTickerInteropTests.repoRoot.appendingPathComponent("scripts/sim/\(name)").path }

    static func price(_ value: Float) -> Value { .text(String(format: "%.2f", Double(value))) }
    static func time(_ epoch: UInt32) -> Value {
        let seconds = Int(epoch) % 86_400
        return .text(String(format: "%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60))
    }
    static func int<T: BinaryInteger>(_ value: T) -> Value { .number(Double(value)) }

    /// What dhanhq's parser must have made of a packet our codec decoded, field by field.
    static func expected(_ packet: DhanPacket) -> [String: Value]? {
        func header(_ type: String, _ id: DhanInstrumentID) -> [String: Value] {
            ["type": .text(type), "exchange_segment": int(id.exchangeSegment), "security_id": int(id.securityId)]
        }
        func quoteFields(_ q: DhanQuote) -> [String: Value] {
            [
                "LTP": price(q.lastPrice), "LTQ": int(q.lastTradedQuantity), "LTT": time(q.lastTradeTime), "avg_price": price(q.averagePrice),
                "volume": int(q.volume), "total_sell_quantity": int(q.totalSellQuantity), "total_buy_quantity": int(q.totalBuyQuantity),
                "open": price(q.open), "close": price(q.close), "high": price(q.high), "low": price(q.low),
            ]
        }
        switch packet {
        case .ticker(let t):
            return header("Ticker Data", t.instrument).merging(["LTP": price(t.lastPrice), "LTT": time(t.lastTradeTime)]) { $1 }
        case .previousClose(let id, let close, let oi):
            return header("Previous Close", id).merging(["prev_close": price(close), "prev_OI": int(oi)]) { $1 }
        case .quote(let q):
            return header("Quote Data", q.instrument).merging(quoteFields(q)) { $1 }
        case .full(let f):
            let depth = f.depth.map { level -> [String: Value] in
                [
                    "bid_quantity": int(level.bidQuantity), "ask_quantity": int(level.askQuantity), "bid_orders": int(level.bidOrders),
                    "ask_orders": int(level.askOrders), "bid_price": price(level.bidPrice), "ask_price": price(level.askPrice),
                ]
            }
            return header("Full Data", f.instrument).merging(quoteFields(f.quote)) { $1 }
                .merging(["OI": int(f.oi), "oi_day_high": int(f.oiDayHigh), "oi_day_low": int(f.oiDayLow), "depth": .list(depth)]) { $1 }
        default:
            return nil
        }
    }

    @Test("dhanhq's MarketFeed subscribes indices, equities and options in ticker, quote and full and parses what our codec decodes")
    func marketFeedAgreesWithOurDecoder() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            Issue.record("The project venv is missing (\(Self.python)): run `make venv`.")
            return
        }
        try await withSimulator(TestArguments(tickIntervalMilliseconds: 300)) { sim in
            let instruments = sim.universe.instruments
            let indices = [256_265, 260_105, 257_801].map(UInt32.init)  // NIFTY 50, NIFTY BANK, NIFTY FIN SERVICE: IDX_I 13, 25, 27
            let equities = instruments.filter { KiteSegment(token: $0.instrumentToken) == .nse && $0.instrumentType == "EQ" }.prefix(3).map(\.instrumentToken)
            let options = instruments.filter { KiteSegment(token: $0.instrumentToken) == .nfo && $0.isOption }.prefix(3).map(\.instrumentToken)
            let modes: [DhanFeedMode] = [.ticker, .quote, .full]
            // Each kind in each mode: instrument i of a kind goes in mode i.
            var wanted: [DhanInstrumentID: DhanFeedMode] = [:]
            var tokenOf: [DhanInstrumentID: UInt32] = [:]
            for group in [indices, Array(equities), Array(options)] {
                for (token, mode) in zip(group, modes) {
                    let id = try DhanInstrumentMap.dhanInstrument(forKiteToken: token).get()
                    wanted[id] = mode
                    tokenOf[id] = token
                }
            }
            #expect(wanted.keys.contains(DhanInstrumentID(.idxI, 13)), "NIFTY 50 is IDX_I 13")
            let spec = wanted.map { "\($0.key.exchangeSegment):\($0.key.securityId):\($0.value.subscribeCode)" }.joined(separator: ",")
            let output = try await runProcess(Self.python, [Self.script("dhanfeed_probe.py"), "--url", "\(sim.kiteRoot)/dhan", "--instruments", spec, "--seconds", "2"])
            let probe = try JSONDecoder().decode(FeedProbe.self, from: Data(output.stdout.utf8))
            #expect(probe.connected, "MarketFeed did not connect: \(output.stdout) \(output.stderr)")
            #expect(probe.errors.isEmpty, "MarketFeed reported errors: \(probe.errors)")

            let market = MarketModel(universe: sim.universe, seed: TestArguments().seed, sessionMode: .always)
            var seen: [DhanInstrumentID: Set<String>] = [:]
            for packet in probe.packets {
                let bytes = try #require(Self.bytes(hex: packet.raw))
                let decoded = try #require(try? DhanFeedCodec.decode(bytes).first?.get(), "our codec could not decode \(packet.raw)")
                let expected = try #require(Self.expected(decoded), "unexpected packet \(decoded)")
                #expect(packet.parsed == expected, "dhanhq parsed \(packet.parsed ?? [:]), our codec \(expected)")
                let id = decoded.instrument
                let token = try #require(tokenOf[id], "a packet for \(id), which was not subscribed")
                #expect(DhanInstrumentMap.kiteToken(for: id) == token)
                if case .text(let type) = expected["type"] { seen[id, default: []].insert(type) }
                if case .previousClose(_, let close, _) = decoded {
                    let snapshot = try #require(market.snapshot(token: token, at: Date()))
                    #expect(close == Float(snapshot.close), "previous close of \(token)")
                }
            }
            let packetType: [DhanFeedMode: String] = [.ticker: "Ticker Data", .quote: "Quote Data", .full: "Full Data"]
            for (id, mode) in wanted {
                #expect(seen[id]?.contains(packetType[mode]!) == true, "\(id) in \(mode): dhanhq saw \(seen[id] ?? [])")
                #expect(seen[id]?.contains("Previous Close") == true, "\(id): no previous-close packet")
            }
        }
    }

    @Test("dhanhq's intraday_minute_data gets the Kite historical API's candles for the same instrument and minutes")
    func intradayMinuteDataMatchesKiteCandles() async throws {
        guard FileManager.default.isExecutableFile(atPath: Self.python) else {
            Issue.record("The project venv is missing (\(Self.python)): run `make venv`.")
            return
        }
        try await withSimulator { sim in
            let sample = sim.sampleTokens()
            // Yesterday (IST) from 09:15 to 11:15: complete candles whatever the time of day.
            let yesterday = TradingDate.todayIST().calendarDate.daysSinceEpoch - 1
            let day = KiteCalendarDate(daysSinceEpoch: yesterday).iso
            for (token, oi) in [(sample.index, false), (sample.equity, false), (sample.option, true)] {
                let id = try DhanInstrumentMap.dhanInstrument(forKiteToken: token).get()
                let row = try #require(sim.universe.instrument(token: token))
                let underlyingIsIndex = sim.universe.underlyingToken(of: token).flatMap { KiteSegment(token: $0) } == .indices
                let instrument = DhanInstrumentMap.chartInstrument(forKiteToken: token, instrumentType: row.instrumentType, underlyingIsIndex: underlyingIsIndex)
                var arguments = [
                    Self.script("dhan_intraday_probe.py"), "--base", "http://127.0.0.1:\(sim.port)", "--security-id", String(id.securityId),
                    "--segment", id.segment!.name, "--instrument", instrument, "--from", "\(day) 09:15:00", "--to", "\(day) 11:15:00",
                ]
                if oi { arguments.append("--oi") }
                let output = try await runProcess(Self.python, arguments)
                let answer = try #require(try JSONSerialization.jsonObject(with: Data(output.stdout.utf8)) as? [String: Any], "\(output.stdout) \(output.stderr)")
                #expect(answer["status"] as? String == "success", "\(token): \(output.stdout)")
                let data = try JSONSerialization.data(withJSONObject: answer["data"] ?? [:])
                let candles = try DhanChartsJSON.parse(String(decoding: data, as: UTF8.self))
                // The Kite API's candles for [09:15, 11:14:59]: Dhan's toDate is exclusive.
                let kite = try await sim.http(
                    .get, "/instruments/historical/\(token)/minute?from=\(day)+09:15:00&to=\(day)+11:14:59\(oi ? "&oi=1" : "")",
                    headers: [.authorization: "token sim_api_key:sim_access_token"]
                )
                let expected = try KiteHistoricalJSON.parse(kite.body)
                #expect(expected.count == 120, "\(token): \(expected.count) Kite candles")
                #expect(candles == expected, "\(token): dhanhq's candles differ from Kite's")
            }
            let counts = try JSONSerialization.jsonObject(with: Data(try await sim.http(.get, "/admin/historical").body.utf8)) as? [String: Any]
            #expect(counts?["by_broker"] as? [String: Int] == ["kite": 3, "dhan": 3])
        }
    }

    static func bytes(hex: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) ?? hex.endIndex
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
    }
}
