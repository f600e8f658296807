import BrokerWire
import Foundation
import NIOCore
import Shared
import SharedJSON
import Testing

@testable import TickerService

/// The two wire protocols behind one connection type: what each writes for a change, and how Dhan packets become the
/// same tick-stream entries as Kite ticks.
@Suite("Feed wire protocols: Kite and Dhan")
struct FeedWireTests {
    @Test("Kite resubscribe: subscribe everything, then modes grouped and batched")
    func kiteResubscribe() throws {
        var desired: [UInt32: KiteMode] = [:]
        for token in UInt32(1)...1200 { desired[token] = token % 3 == 0 ? .full : (token % 3 == 1 ? .ltp : .quote) }
        let requests = try KiteFeedWire(batchSize: 500).resubscribe(desired).map { try KiteRequest.decode(jsonText: $0.text) }
        let subscribes = requests.compactMap { if case let .subscribe(t) = $0 { t } else { nil } }
        #expect(subscribes.map(\.count) == [500, 500, 200])
        let modes = requests.compactMap { if case let .mode(m, t) = $0 { (m, t.count) } else { nil } }
        #expect(modes.map(\.0) == [.ltp, .quote, .full])
        #expect(modes.map(\.1) == [400, 400, 400])
        if case .subscribe = requests.first {} else { Issue.record("subscribe must come first") }
        #expect(KiteFeedWire(batchSize: 500).url(root: "ws://h:1", credentials: BrokerCredentials(apiKey: "k", accessToken: "a+b")) == "ws://h:1/?api_key=k&access_token=a%2Bb")
    }

    static let equity = KiteSegment.token(exchangeToken: 2885, segment: .nse)

    @Test("Dhan requests: one per mode and at most 100 instruments, with the mode's codes; unmappable tokens never sent")
    func dhanRequests() throws {
        let wire = Broker.dhan.wire(batchSize: 500)
        var items = (1...250).map { FeedInstrument(token: KiteSegment.token(exchangeToken: UInt32($0), segment: .nse), mode: .full) }
        items += (1...30).map { FeedInstrument(token: KiteSegment.token(exchangeToken: UInt32($0), segment: .nfo), mode: .ltp) }
        items.append(FeedInstrument(token: KiteSegment.token(exchangeToken: 7, segment: .nco), mode: .full))
        let messages = wire.messages(for: .subscribe(items))
        let requests = try messages.map { try DhanRequest.decode(jsonText: $0.text) }
        var counts: [Int: [Int]] = [:]
        for request in requests {
            guard case let .subscribe(mode, list) = request else { Issue.record("expected subscribes only"); continue }
            counts[mode.subscribeCode, default: []].append(list.count)
            #expect(list.count <= DhanRequest.maxInstrumentsPerMessage)
        }
        #expect(counts == [15: [30], 21: [100, 100, 50]])
        #expect(messages.map(\.subscribes) == [30, 100, 100, 50])
        let first = try #require(requests.first)
        guard case let .subscribe(_, list) = first else { return }
        #expect(list.first == DhanInstrument(.nseFNO, "1"))

        let remove = try wire.messages(for: .unsubscribe([FeedInstrument(token: Self.equity, mode: .quote), FeedInstrument(token: 256_265, mode: .full)]))
            .map { try DhanRequest.decode(jsonText: $0.text) }
        #expect(remove == [.unsubscribe(.quote, [DhanInstrument(.nseEQ, "2885")]), .unsubscribe(.full, [DhanInstrument(.idxI, "13")])])
        let mode = try wire.messages(for: .setMode(.ltp, [Self.equity])).map { try DhanRequest.decode(jsonText: $0.text) }
        #expect(mode == [.subscribe(.ticker, [DhanInstrument(.nseEQ, "2885")])], "Dhan changes mode by subscribing in the new one")
        #expect(wire.messages(for: .setMode(.ltp, [Self.equity])).map(\.subscribes) == [0])

        #expect(wire.url(root: "ws://127.0.0.1:9/dhan", credentials: BrokerCredentials(apiKey: "1000", accessToken: "t/k")) == "ws://127.0.0.1:9/dhan?version=2&token=t%2Fk&clientId=1000&authType=2")
        #expect(wire.refusal(of: KiteSegment.token(exchangeToken: 7, segment: .nco)) != nil)
        #expect(wire.refusal(of: Self.equity) == nil)
        #expect(KiteFeedWire(batchSize: 500).refusal(of: KiteSegment.token(exchangeToken: 7, segment: .nco)) == nil)
    }

    @Test("Dhan's disconnect packet is recognised with its code; data packets are data")
    func dhanInspect() {
        let wire = DhanFeedWire(batchSize: 100)
        let disconnect = DhanFeedCodec.encode(.disconnect(DhanInstrumentID(exchangeSegment: 0, securityId: 0), code: 808))
        #expect(wire.inspect(binary: ByteBuffer(bytes: disconnect)) == .disconnect(code: 808))
        let ticker = DhanFeedCodec.encode(.ticker(DhanTicker(instrument: DhanInstrumentID(.nseEQ, 2885), lastPrice: 1, lastTradeTime: 1)))
        #expect(wire.inspect(binary: ByteBuffer(bytes: ticker)) == .data)
        #expect(DhanDisconnectReason(code: 808) == .credentials)
        #expect(DhanDisconnectReason(code: 805) == .tooManyConnections)
        #expect(DhanDisconnectReason(code: 804) == .tooManyInstruments)
    }

    @Test("a Dhan full packet becomes the entry a Kite full tick would: prices in paise, quantities, OI and 5-level depth")
    func dhanFullEntry() throws {
        let id = DhanInstrumentID(.nseEQ, 2885)
        let quote = DhanQuote(
            instrument: id, lastPrice: 1523.45, lastTradedQuantity: 12, lastTradeTime: 1_732_262_399, averagePrice: 1519.8, volume: 120_034,
            totalSellQuantity: 4800, totalBuyQuantity: 5100, open: 1510, close: 1508.5, high: 1530, low: 1505.1
        )
        let bids: [Float] = [1523.40, 1523.35, 1523.30, 1523.25, 1523.20]
        let asks: [Float] = [1523.50, 1523.55, 1523.60, 1523.65, 1523.70]
        var depth: [DhanDepthLevel] = []
        for level in 0..<5 {
            let bidQuantity = UInt32(100 + level), askQuantity = UInt32(200 + level)
            let bidOrders = UInt16(3 + level), askOrders = UInt16(1 + level)
            depth.append(
                DhanDepthLevel(bidQuantity: bidQuantity, askQuantity: askQuantity, bidOrders: bidOrders, askOrders: askOrders, bidPrice: bids[level], askPrice: asks[level])
            )
        }
        let packet = DhanPacket.full(DhanFull(quote: quote, oi: 7, oiDayHigh: 9, oiDayLow: 5, depth: depth))
        // Through the codec, as the socket delivers it.
        let decoded = try DhanFeedCodec.decodePacket(DhanFeedCodec.encode(packet)).get()
        let entry = try #require(TickStreamEntry(dhan: decoded, token: Self.equity, memo: DhanInstrumentMemo(previousClose: 1508), receivedAtMillis: 42))
        let pairs: [(String, String)] = entry.fields()
        var fields: [String: String] = [:]
        for (name, value) in pairs { fields[name] = value }
        #expect(fields["tk"] == "\(Self.equity)")
        #expect(fields["m"] == "full" && fields["br"] == "dhan" && fields["rt"] == "42")
        #expect(fields["lp"] == "1523.45" && fields["atp"] == "1519.80" && fields["o"] == "1510.00" && fields["h"] == "1530.00" && fields["l"] == "1505.10")
        #expect(fields["c"] == "1508.00", "the previous-close packet, not the quote's close")
        #expect(fields["ltq"] == "12" && fields["v"] == "120034" && fields["tbq"] == "5100" && fields["tsq"] == "4800" && fields["ltt"] == "1732262399")
        #expect(fields["oi"] == "7" && fields["oih"] == "9" && fields["oil"] == "5")
        let book = try #require(entry.depth)
        #expect(book.buy.map { $0.price.description } == ["1523.40", "1523.35", "1523.30", "1523.25", "1523.20"])
        #expect(book.sell.map { $0.quantity } == [200, 201, 202, 203, 204])
        #expect(book.buy.map { $0.orders } == [3, 4, 5, 6, 7])
        // Field order is the stream's, with Kite's names: the backend reads both brokers' entries alike.
        let expected = TickStreamEntry.Field.all.filter { $0 != TickStreamEntry.Field.change && $0 != TickStreamEntry.Field.exchangeTimestamp }
        #expect(pairs.map { $0.0 } == expected)
    }

    @Test("Dhan quote, ticker and index packets carry the fields of Kite's quote, ltp and index ticks; OI comes from OI packets")
    func dhanSmallerEntries() throws {
        let quote = DhanPacket.quote(DhanQuote(instrument: DhanInstrumentID(.nseFNO, 35_001), lastPrice: 101.5, volume: 10, close: 99))
        let option = KiteSegment.token(exchangeToken: 35_001, segment: .nfo)
        let entry = try #require(TickStreamEntry(dhan: quote, token: option, memo: DhanInstrumentMemo(openInterest: 1234), receivedAtMillis: 1))
        #expect(entry.mode == .quote && entry.openInterest == 1234 && entry.close?.description == "99.00" && entry.depth == nil)

        let ticker = DhanPacket.ticker(DhanTicker(instrument: DhanInstrumentID(.nseEQ, 2885), lastPrice: 2450.05, lastTradeTime: 1_700_000_000))
        let ltp = try #require(TickStreamEntry(dhan: ticker, token: Self.equity, memo: DhanInstrumentMemo(), receivedAtMillis: 1))
        #expect(ltp.fields().map(\.0) == ["tk", "m", "lp", "rt", "ltt", "br"])
        #expect(ltp.lastPrice.description == "2450.05")

        let index = DhanPacket.quote(DhanQuote(instrument: DhanInstrumentID(.idxI, 13), lastPrice: 25_910.5, open: 25_900, close: 25_880, high: 25_950, low: 25_870))
        let nifty = try #require(TickStreamEntry(dhan: index, token: 256_265, memo: DhanInstrumentMemo(previousClose: 25_800), receivedAtMillis: 1))
        #expect(nifty.volume == nil && nifty.lastTradedQuantity == nil && nifty.openInterest == nil)
        #expect(nifty.change?.description == "110.50", "an index's change is from the previous close, as Kite's index packets carry it")
        #expect(TickStreamEntry(dhan: .previousClose(DhanInstrumentID(.nseEQ, 2885), price: 1, oi: 0), token: Self.equity, memo: DhanInstrumentMemo(), receivedAtMillis: 1) == nil)
    }

    @Test("the tick buffer coalesces a burst of Dhan messages of one connection into one frame, and counts its packets")
    func dhanCoalescing() async {
        let sink = TickSink(capacity: 4)
        func message(_ securityID: UInt32, connection: Int, at millis: Int64) -> TickFrame {
            let bytes = DhanFeedCodec.encode(.ticker(DhanTicker(instrument: DhanInstrumentID(.nseEQ, securityID), lastPrice: 1, lastTradeTime: 1)))
            return TickFrame(bytes: ByteBuffer(bytes: bytes), receivedAtMillis: millis, broker: .dhan, accountID: "d", connectionID: connection)
        }
        for id in UInt32(1)...300 { sink.push(message(id, connection: 1, at: 5_000)) }
        sink.push(message(9, connection: 2, at: 5_000))
        sink.push(message(10, connection: 1, at: 6_000))
        sink.finish()
        var frames: [TickFrame] = []
        for await frame in sink.frames { frames.append(frame) }
        #expect(sink.framesDropped == 0)
        #expect(frames.map(\.packetCount) == [300, 1, 1])
        #expect(frames[0].packetTokens == (UInt32(1)...300).map { KiteSegment.token(exchangeToken: $0, segment: .nse) })
        #expect(frames.map(\.connectionID) == [1, 2, 1])
    }
}
