import BrokerWire
import Testing
import WireFixtures

func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xff), UInt8(v >> 8)] }
func le32(_ v: UInt32) -> [UInt8] { [UInt8(v & 0xff), UInt8((v >> 8) & 0xff), UInt8((v >> 16) & 0xff), UInt8(v >> 24)] }
func lef(_ v: Float) -> [UInt8] { le32(v.bitPattern) }
func dhanHeader(_ code: UInt8, _ length: UInt16, _ segment: UInt8, _ id: UInt32) -> [UInt8] {
    [code] + le16(length) + [segment] + le32(id)
}

@Suite("Dhan market feed codec")
struct DhanCodecTests {
    @Test("segment, request and response codes match dhanhq marketfeed.py")
    func codes() {
        #expect(DhanExchangeSegment.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5, 7, 8])
        #expect(DhanExchangeSegment.allCases.map(\.name)
            == ["IDX_I", "NSE_EQ", "NSE_FNO", "NSE_CURRENCY", "BSE_EQ", "MCX_COMM", "BSE_CURRENCY", "BSE_FNO"])
        #expect(DhanExchangeSegment(name: "MCX_COMM") == .mcxComm && DhanExchangeSegment(name: "NSE") == nil)
        #expect(DhanFeedMode.allCases.map(\.subscribeCode) == [15, 17, 21])
        #expect(DhanFeedMode.allCases.map(\.unsubscribeCode) == [16, 18, 22])
        #expect(DhanRequest.disconnect.requestCode == 12)
        #expect(DhanResponseCode.allCases.map(\.rawValue) == [2, 4, 5, 6, 7, 8, 50])
        #expect(DhanResponseCode.allCases.map(\.packetLength) == [16, 50, 12, 16, 8, 162, 10])
    }

    @Test("round trip for every packet kind, one per message and many per message")
    func roundTrip() {
        var rng = WireRandom(seed: 42)
        let packets = (0..<2_000).map { _ in WireSamples.dhanPacket(&rng) }
        var kinds = Set<UInt8>()
        for packet in packets {
            kinds.insert(packet.responseCode.rawValue)
            let bytes = DhanFeedCodec.encode(packet)
            #expect(bytes.count == packet.responseCode.packetLength)
            #expect(DhanFeedCodec.decodePacket(bytes) == .success(packet))
        }
        #expect(kinds.count == DhanResponseCode.allCases.count)
        let all = DhanFeedCodec.decode(DhanFeedCodec.encode(packets))
        #expect(all.count == packets.count)
        #expect(all == packets.map { .success($0) })
    }

    @Test("quote packet: every field at its marketfeed.py offset ('<BHBIfHIfIIIffff')")
    func quoteVector() {
        let bytes = dhanHeader(4, 50, 1, 1333) + lef(1520.5) + le16(25) + le32(1_767_225_600) + lef(1519.25) + le32(1_000_000)
            + le32(2_000) + le32(3_000) + lef(1500) + lef(1490.75) + lef(1530) + lef(1495.5)
        #expect(bytes.count == 50)
        let expected = DhanPacket.quote(DhanQuote(
            instrument: DhanInstrumentID(.nseEQ, 1333), lastPrice: 1520.5, lastTradedQuantity: 25, lastTradeTime: 1_767_225_600,
            averagePrice: 1519.25, volume: 1_000_000, totalSellQuantity: 2_000, totalBuyQuantity: 3_000,
            open: 1500, close: 1490.75, high: 1530, low: 1495.5))
        #expect(DhanFeedCodec.decodePacket(bytes) == .success(expected))
        #expect(DhanFeedCodec.encode(expected) == bytes)
    }

    @Test("full packet: OI after quantities, OHLC as open/close/high/low, depth '<IIHHff' x5")
    func fullVector() {
        var bytes = dhanHeader(8, 162, 2, 52_175) + lef(101.5) + le16(75) + le32(1_767_225_601) + lef(100.25)
            + le32(9_000) + le32(100) + le32(200) + le32(50_000) + le32(60_000) + le32(40_000)
            + lef(99) + lef(98) + lef(103) + lef(97)
        for i in 0..<5 {
            bytes += le32(UInt32(10 + i)) + le32(UInt32(20 + i)) + le16(UInt16(1 + i)) + le16(UInt16(2 + i))
                + lef(101 - Float(i)) + lef(102 + Float(i))
        }
        #expect(bytes.count == 162)
        guard case let .success(.full(full)) = DhanFeedCodec.decodePacket(bytes) else {
            Issue.record("not a full packet")
            return
        }
        #expect(full.instrument == DhanInstrumentID(.nseFNO, 52_175))
        #expect(full.lastPrice == 101.5 && full.lastTradedQuantity == 75 && full.lastTradeTime == 1_767_225_601)
        #expect(full.averagePrice == 100.25 && full.volume == 9_000)
        #expect(full.totalSellQuantity == 100 && full.totalBuyQuantity == 200)
        #expect(full.oi == 50_000 && full.oiDayHigh == 60_000 && full.oiDayLow == 40_000)
        #expect(full.open == 99 && full.close == 98 && full.high == 103 && full.low == 97)
        #expect(full.depth.count == 5)
        #expect(full.depth[4] == DhanDepthLevel(bidQuantity: 14, askQuantity: 24, bidOrders: 5, askOrders: 6, bidPrice: 97, askPrice: 106))
        #expect(DhanFeedCodec.encode(.full(full)) == bytes)
    }

    @Test("small packets: ticker, OI, previous close, market status, disconnect")
    func smallVectors() {
        let id = DhanInstrumentID(.idxI, 13)
        let cases: [([UInt8], DhanPacket)] = [
            (dhanHeader(2, 16, 0, 13) + lef(24_000.5) + le32(1_767_225_600),
             .ticker(DhanTicker(instrument: id, lastPrice: 24_000.5, lastTradeTime: 1_767_225_600))),
            (dhanHeader(5, 12, 0, 13) + le32(123_456), .oi(id, oi: 123_456)),
            (dhanHeader(6, 16, 0, 13) + lef(23_950.25) + le32(77), .previousClose(id, price: 23_950.25, oi: 77)),
            (dhanHeader(7, 8, 0, 13), .marketStatus(id)),
            (dhanHeader(50, 10, 0, 13) + le16(807), .disconnect(id, code: 807)),
        ]
        for (bytes, packet) in cases {
            #expect(DhanFeedCodec.decodePacket(bytes) == .success(packet))
            #expect(DhanFeedCodec.encode(packet) == bytes)
            #expect(packet.instrument == id)
        }
        #expect(DhanInstrumentID(exchangeSegment: 6, securityId: 1).segment == nil)
    }

    @Test("truncated, unknown and oversized packets give typed errors; good packets survive")
    func errors() {
        let tick = DhanPacket.oi(DhanInstrumentID(.nseEQ, 1), oi: 5)
        let good = DhanFeedCodec.encode(tick)
        func codes(_ results: [Result<DhanPacket, DhanWireError>]) -> [String] {
            results.map { if case let .failure(e) = $0 { "\(e.code)" } else { "ok" } }
        }
        #expect(codes(DhanFeedCodec.decode([UInt8]())) == ["truncatedHeader"])
        #expect(codes(DhanFeedCodec.decode(good + [2, 16, 0])) == ["ok", "truncatedHeader"])
        #expect(codes(DhanFeedCodec.decode(good + Array(DhanFeedCodec.encode(.quote(DhanQuote(instrument: .init(.bseEQ, 2))))[..<30])))
            == ["ok", "truncatedPacket"])
        // Unknown code with a usable length is skipped; the next packet still decodes.
        #expect(codes(DhanFeedCodec.decode(dhanHeader(99, 12, 1, 1) + [0, 0, 0, 0] + good)) == ["unknownResponseCode", "ok"])
        // Unknown code with an unusable length stops the message.
        #expect(codes(DhanFeedCodec.decode(dhanHeader(3, 0xFFFF, 1, 1) + good)) == ["unknownResponseCode"])
        // A longer declared length than the code needs skips the extra bytes.
        var long = good
        long[1] = 16
        #expect(DhanFeedCodec.decode(long + [9, 9, 9, 9] + good) == [.success(tick), .success(tick)])
        // A shorter declared length is ignored: the code decides.
        var short = good
        short[1] = 3
        #expect(DhanFeedCodec.decode(short + good) == [.success(tick), .success(tick)])
        if case let .failure(error) = DhanFeedCodec.decodePacket([1]) {
            #expect(error.code == .truncatedHeader && error.offset == 0 && error.description.hasPrefix("dhan wire: "))
        } else {
            Issue.record("one byte decoded")
        }
    }

    @Test("requests encode as dhanhq sends them and decode back")
    func requests() throws {
        let sub = DhanRequest.subscribe(.ticker, [DhanInstrument(.nseEQ, "1333"), DhanInstrument(.idxI, "13")])
        #expect(sub.jsonText() == #"{"RequestCode":15,"InstrumentCount":2,"InstrumentList":[{"ExchangeSegment":"NSE_EQ","SecurityId":"1333"},{"ExchangeSegment":"IDX_I","SecurityId":"13"}]}"#)
        #expect(DhanRequest.disconnect.jsonText() == #"{"RequestCode":12}"#)
        #expect(DhanRequest.unsubscribe(.full, []).requestCode == 22)
        let all: [DhanRequest] = [sub, .unsubscribe(.ticker, [DhanInstrument(.bseFNO, "9")]), .subscribe(.quote, []),
                                  .unsubscribe(.quote, [DhanInstrument(.mcxComm, "4")]), .subscribe(.full, [DhanInstrument(.bseCurrency, "1")]),
                                  .unsubscribe(.full, [DhanInstrument(.nseCurrency, "2")]), .disconnect]
        for request in all {
            #expect(try DhanRequest.decode(jsonText: request.jsonText()) == request)
        }
        // json.dumps output of dhanhq, with an integer SecurityId as a caller may pass.
        let python = #"{"RequestCode": 21, "InstrumentCount": 1, "InstrumentList": [{"ExchangeSegment": "NSE_FNO", "SecurityId": 52175}]}"#
        #expect(try DhanRequest.decode(jsonText: python) == .subscribe(.full, [DhanInstrument(.nseFNO, "52175")]))
        let bad: [(String, DhanWireError.Code)] = [
            ("{", .invalidJSON), (#"{"RequestCode":19,"InstrumentList":[]}"#, .unknownMessage), ("{}", .unknownMessage),
            (#"{"RequestCode":15}"#, .invalidField),
            (#"{"RequestCode":15,"InstrumentList":[{"ExchangeSegment":"NSE","SecurityId":"1"}]}"#, .invalidField),
            (#"{"RequestCode":15,"InstrumentList":[{"ExchangeSegment":"NSE_EQ"}]}"#, .invalidField),
            (#"{"RequestCode":15,"InstrumentCount":2,"InstrumentList":[{"ExchangeSegment":"NSE_EQ","SecurityId":"1"}]}"#, .invalidField),
        ]
        for (text, code) in bad {
            do {
                _ = try DhanRequest.decode(jsonText: text)
                Issue.record("\(text) decoded")
            } catch {
                #expect(error.code == code, "\(text): \(error)")
            }
        }
    }
}
