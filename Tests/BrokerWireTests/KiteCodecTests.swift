import BrokerWire
import Testing
import WireFixtures

/// Big-endian bytes of a value, for hand-built vectors.
func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xff), UInt8((v >> 8) & 0xff), UInt8(v & 0xff)] }
func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xff)] }

/// Wraps packets in a frame: u16 count, then u16 length + packet for each.
func kiteFrame(_ packets: [[UInt8]]) -> [UInt8] {
    var out = be16(UInt16(packets.count))
    for p in packets { out += be16(UInt16(p.count)) + p }
    return out
}

@Suite("Kite ticker codec")
struct KiteCodecTests {
    @Test("segment map, divisors and tokens match ticker.py")
    func segments() {
        #expect(KiteSegment.allCases.map(\.rawValue) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 12])
        #expect(KiteSegment.cds.priceDivisor == 10_000_000)
        #expect(KiteSegment.bcd.priceDivisor == 10_000 && KiteSegment.nco.priceDivisor == 10_000)
        for segment in KiteSegment.allCases where segment != .cds && segment != .bcd && segment != .nco {
            #expect(segment.priceDivisor == 100)
        }
        let token = KiteSegment.token(exchangeToken: 2885, segment: .nse)
        #expect(token == 738_561)  // RELIANCE in the ticker.py docstring
        #expect(KiteSegment(token: token) == .nse)
        #expect(KiteSegment(token: 0x1234_5600) == nil)
        #expect(KiteSegment.priceDivisor(forToken: 0x1234_5600) == 100)
        #expect(KiteSegment.exchangeToken(of: token) == 2885)
        #expect(KiteMode.ltp < .quote && KiteMode.quote < .full)
        #expect(KiteTickerCodec.packetLength(mode: .ltp, isIndex: false) == 8)
        #expect(KiteTickerCodec.packetLength(mode: .ltp, isIndex: true) == 8)
        #expect(KiteTickerCodec.packetLength(mode: .quote, isIndex: true) == 28)
        #expect(KiteTickerCodec.packetLength(mode: .full, isIndex: true) == 32)
        #expect(KiteTickerCodec.packetLength(mode: .quote, isIndex: false) == 44)
        #expect(KiteTickerCodec.packetLength(mode: .full, isIndex: false) == 184)
    }

    @Test("round trip for every mode, layout and segment", arguments: KiteSegment.allCases)
    func roundTrip(segment: KiteSegment) {
        var rng = WireRandom(seed: UInt64(segment.rawValue))
        var ticks: [KiteTick] = []
        for mode in KiteMode.allCases {
            for isIndex in [false, true] where mode != .ltp || isIndex == (segment == .indices) {
                for _ in 0..<20 {
                    var t = WireSamples.kiteTick(&rng, mode: mode, nonNegativePrices: false)
                    t.instrumentToken = KiteSegment.token(exchangeToken: t.instrumentToken >> 8, segment: segment)
                    if t.isIndex != isIndex { continue }
                    ticks.append(t)
                }
            }
        }
        let frame = KiteTickerCodec.encodeFrame(ticks)
        let decoded = KiteTickerCodec.decodeFrame(frame)
        #expect(decoded.errors.isEmpty)
        #expect(!decoded.isHeartbeat)
        #expect(decoded.ticks == ticks)
        for tick in decoded.ticks {
            #expect(tick.priceDivisor == segment.priceDivisor)
            #expect(tick.lastPriceValue == Double(tick.lastPrice) / segment.priceDivisor)
            #expect(tick.tradable == (segment != .indices))
        }
        // Slices and non-contiguous collections decode the same.
        #expect(KiteTickerCodec.decodeFrame(frame[...]).ticks == ticks)
        #expect(KiteTickerCodec.decodeFrame(frame.reversed().reversed()).ticks == ticks)
    }

    @Test("prices divide by the segment divisor")
    func divisors() {
        let cds = KiteTick(instrumentToken: KiteSegment.token(exchangeToken: 1, segment: .cds), mode: .ltp, lastPrice: 834_512_50)
        #expect(cds.lastPriceValue == 8.345125)
        let bcd = KiteTick(instrumentToken: KiteSegment.token(exchangeToken: 1, segment: .bcd), mode: .ltp, lastPrice: 834_512)
        #expect(bcd.lastPriceValue == 83.4512)
        let nse = KiteTick(instrumentToken: KiteSegment.token(exchangeToken: 1, segment: .nse), mode: .ltp, lastPrice: 408_400)
        #expect(nse.lastPriceValue == 4084.0)
        #expect(KiteTick.rawPrice(4084.05, token: nse.instrumentToken) == 408_405)
        #expect(KiteTick.rawPrice(8.345125, token: cds.instrumentToken) == 83_451_250)
        #expect(KiteTick.rawPrice(.infinity, token: 1) == 0)
        #expect(KiteTick.rawPrice(1e300, token: 1) == .max)
    }

    @Test("LTP packet bytes: token then last price")
    func ltpVector() {
        let packet = be32(738_561) + be32(408_400)
        let tick = KiteTickerCodec.decodePacket(packet)
        #expect(tick == KiteTick(instrumentToken: 738_561, mode: .ltp, lastPrice: 408_400))
        #expect(KiteTickerCodec.encodePacket(tick!) == packet)
    }

    @Test("index quote/full bytes: high, low, open, close (that order), change, timestamp")
    func indexVector() {
        let token = KiteSegment.token(exchangeToken: 256_265 >> 8, segment: .indices)
        let quote = be32(token) + be32(2_400_050) + be32(2_410_000) + be32(2_390_000) + be32(2_395_000) + be32(2_380_000)
            + be32(UInt32(bitPattern: -12_345))
        let full = quote + be32(1_767_225_600)
        #expect(quote.count == 28 && full.count == 32)
        let q = KiteTickerCodec.decodePacket(quote)!
        #expect(q.mode == .quote && q.isIndex && !q.tradable)
        #expect(q.lastPrice == 2_400_050 && q.high == 2_410_000 && q.low == 2_390_000)
        #expect(q.open == 2_395_000 && q.close == 2_380_000 && q.change == -12_345)
        #expect(q.exchangeTimestamp == 0 && q.depth == nil)
        #expect(q.changePercent == (24_000.50 - 23_800.0) * 100 / 23_800.0)
        let f = KiteTickerCodec.decodePacket(full)!
        #expect(f.mode == .full && f.isIndex && f.exchangeTimestamp == 1_767_225_600)
        #expect(KiteTickerCodec.encodePacket(q) == quote)
        #expect(KiteTickerCodec.encodePacket(f) == full)
    }

    @Test("quote/full bytes: every field at its ticker.py offset, depth 5 buy then 5 sell")
    func fullVector() {
        let token: UInt32 = 53_490_439  // an MCX token from the ticker.py docstring
        var quote = be32(token) + be32(408_400) + be32(1) + be32(408_655) + be32(12_510) + be32(2_356) + be32(2_440)
        quote += be32(408_800) + be32(409_300) + be32(408_000) + be32(406_500)
        #expect(quote.count == 44)
        var full = quote + be32(1_516_022_214) + be32(21_845) + be32(30_000) + be32(20_000) + be32(1_516_022_216)
        for i in 0..<10 {
            full += be32(UInt32(43 + i)) + be32(UInt32(408_500 + i * 100)) + be16(UInt16(1 + i)) + [0xAB, 0xCD]
        }
        #expect(full.count == 184)

        let q = KiteTickerCodec.decodePacket(quote)!
        #expect(q == KiteTick(
            instrumentToken: token, mode: .quote, lastPrice: 408_400, lastTradedQuantity: 1, averageTradedPrice: 408_655,
            volumeTraded: 12_510, totalBuyQuantity: 2_356, totalSellQuantity: 2_440,
            open: 408_800, high: 409_300, low: 408_000, close: 406_500))
        #expect(q.segment == .mcx && q.tradable && !q.isIndex)
        #expect(q.averageTradedPriceValue == 4086.55 && q.openValue == 4088.0 && q.highValue == 4093.0)

        let f = KiteTickerCodec.decodePacket(full)!
        #expect(f.mode == .full)
        #expect(f.lastTradeTime == 1_516_022_214 && f.oi == 21_845 && f.oiDayHigh == 30_000 && f.oiDayLow == 20_000)
        #expect(f.exchangeTimestamp == 1_516_022_216)
        let depth = try! #require(f.depth)
        #expect(depth.buy.count == 5 && depth.sell.count == 5)
        for i in 0..<5 {
            #expect(depth.buy[i] == KiteDepthEntry(quantity: UInt32(43 + i), price: Int32(408_500 + i * 100), orders: UInt16(1 + i)))
            #expect(depth.sell[i] == KiteDepthEntry(
                quantity: UInt32(48 + i), price: Int32(409_000 + i * 100), orders: UInt16(6 + i)))
        }
        // The encoder writes zero padding where the vector has 0xABCD; everything else is identical.
        var expected = full
        for i in 0..<10 { expected[64 + i * 12 + 10] = 0; expected[64 + i * 12 + 11] = 0 }
        #expect(KiteTickerCodec.encodePacket(f) == expected)
        #expect(KiteTickerCodec.encodeFrame([q, f]) == kiteFrame([quote, expected]))
    }

    @Test("full tick without depth encodes zero depth; short depth pads; quote drops depth")
    func depthNormalisation() {
        let noDepth = KiteTick(instrumentToken: 1025, mode: .full, lastPrice: 5)
        let back = KiteTickerCodec.decodePacket(KiteTickerCodec.encodePacket(noDepth))!
        #expect(back.depth == .empty)
        var short = noDepth
        short.depth = KiteDepth(buy: [KiteDepthEntry(quantity: 1, price: 2, orders: 3)], sell: [])
        let padded = KiteTickerCodec.decodePacket(KiteTickerCodec.encodePacket(short))!.depth!
        #expect(padded.buy[0] == KiteDepthEntry(quantity: 1, price: 2, orders: 3))
        #expect(padded.buy[1...].allSatisfy { $0 == KiteDepthEntry() } && padded.sell == KiteDepth.empty.sell)
        var quote = short
        quote.mode = .quote
        #expect(KiteTickerCodec.encodePacket(quote).count == 44)
    }

    @Test("heartbeat, empty and header-only frames")
    func heartbeats() {
        #expect(KiteTickerCodec.encodeHeartbeat().count == 1)
        let hb = KiteTickerCodec.decodeFrame(KiteTickerCodec.encodeHeartbeat())
        #expect(hb.isHeartbeat && hb.ticks.isEmpty && hb.errors.isEmpty)
        let empty = KiteTickerCodec.decodeFrame([UInt8]())
        #expect(!empty.isHeartbeat && empty.errors.map(\.code) == [.truncatedFrame])
        let zero = KiteTickerCodec.decodeFrame([0, 0])
        #expect(zero == KiteDecodedFrame())
        #expect(KiteTickerCodec.encodeFrame([]) == [0, 0])
    }

    @Test("bad packets are reported and the good ones survive")
    func errorsKeepGoodPackets() {
        let a = KiteTick(instrumentToken: 738_561, mode: .ltp, lastPrice: 100)
        let b = KiteTick(instrumentToken: 5633, mode: .ltp, lastPrice: 200)
        let good = KiteTickerCodec.encodePacket(a)
        let other = KiteTickerCodec.encodePacket(b)

        // Unknown packet length in the middle: skipped, neighbours kept.
        let middle = KiteTickerCodec.decodeFrame(kiteFrame([good, [1, 2, 3, 4, 5], other]))
        #expect(middle.ticks == [a, b])
        #expect(middle.errors.map(\.code) == [.unknownPacketLength])
        #expect(middle.errors[0].offset == 12)

        // Last packet cut short.
        var cut = kiteFrame([good, other])
        cut.removeLast(3)
        let truncated = KiteTickerCodec.decodeFrame(cut)
        #expect(truncated.ticks == [a])
        #expect(truncated.errors.map(\.code) == [.truncatedPacket])

        // Count promises more packets than there are.
        var more = kiteFrame([good, other])
        more[1] = 3
        let missing = KiteTickerCodec.decodeFrame(more)
        #expect(missing.ticks == [a, b])
        #expect(missing.errors.map(\.code) == [.truncatedFrame])
        #expect(missing.errors[0].offset == 22)

        // One byte of a length prefix only.
        let half = KiteTickerCodec.decodeFrame(kiteFrame([good]) + [0] + [0])
        #expect(half.ticks == [a] && half.errors.map(\.code) == [.trailingBytes])
        let oneByte = KiteTickerCodec.decodeFrame([0, 2] + be16(8) + good + [0])
        #expect(oneByte.ticks == [a] && oneByte.errors.map(\.code) == [.truncatedFrame])

        // Oversized: announced fewer packets than present.
        let extra = KiteTickerCodec.decodeFrame(kiteFrame([good]) + be16(8) + other)
        #expect(extra.ticks == [a] && extra.errors.map(\.code) == [.trailingBytes])

        // Huge count on a short frame does not allocate or trap.
        let huge = KiteTickerCodec.decodeFrame([0xFF, 0xFF])
        #expect(huge.ticks.isEmpty && huge.errors.map(\.code) == [.truncatedFrame])
        for error in middle.errors + truncated.errors + missing.errors {
            #expect(error.description.hasPrefix("kite wire: "))
        }
    }

    @Test("requests encode as pykiteconnect sends them and decode back")
    func requests() throws {
        #expect(KiteRequest.subscribe([738_561, 5633]).jsonText() == #"{"a":"subscribe","v":[738561,5633]}"#)
        #expect(KiteRequest.unsubscribe([5633]).jsonText() == #"{"a":"unsubscribe","v":[5633]}"#)
        #expect(KiteRequest.mode(.full, [738_561]).jsonText() == #"{"a":"mode","v":["full",[738561]]}"#)
        #expect(KiteRequest.subscribe([]).jsonText() == #"{"a":"subscribe","v":[]}"#)
        for request in [KiteRequest.subscribe([1, 2, 4_294_967_295]), .unsubscribe([]), .mode(.ltp, [7]), .mode(.quote, [8, 9])] {
            #expect(try KiteRequest.decode(jsonText: request.jsonText()) == request)
        }
        // json.dumps spacing, as the Python client sends it.
        #expect(try KiteRequest.decode(jsonText: #"{"a": "mode", "v": ["full", [738561, 5633]]}"#) == .mode(.full, [738_561, 5633]))
        #expect(try KiteRequest.decode(jsonText: " {\"v\" : [1] ,\n \"a\":\"subscribe\"} ") == .subscribe([1]))

        let cases: [(String, KiteWireError.Code)] = [
            ("", .invalidJSON), ("{", .invalidJSON), (#"{"a":"subscribe","v":[1,]}"#, .invalidJSON), ("[1] x", .invalidJSON),
            (#"{"a":"quit","v":[]}"#, .unknownMessage), (#"{"v":[]}"#, .unknownMessage), ("[]", .unknownMessage),
            (#"{"a":"subscribe"}"#, .invalidField), (#"{"a":"subscribe","v":[-1]}"#, .invalidField),
            (#"{"a":"subscribe","v":[4294967296]}"#, .invalidField), (#"{"a":"subscribe","v":[1.5]}"#, .invalidField),
            (#"{"a":"subscribe","v":"1"}"#, .invalidField), (#"{"a":"mode","v":["fast",[1]]}"#, .invalidField),
            (#"{"a":"mode","v":[[1],"full"]}"#, .invalidField), (#"{"a":"mode","v":["full"]}"#, .invalidField),
        ]
        for (text, code) in cases {
            #expect(throws: KiteWireError.self, "\(text)") { try KiteRequest.decode(jsonText: text) }
            do {
                _ = try KiteRequest.decode(jsonText: text)
            } catch {
                #expect(error.code == code, "\(text): \(error)")
            }
        }
    }

    @Test("server text messages: order, error, message")
    func textMessages() throws {
        let order = #"{"order_id":"151220000000000","status":"COMPLETE","price":1.5e2,"tags":["a","\u00e9"],"x":null}"#
        let message = KiteTextMessage.order(json: order)
        #expect(message.jsonText() == #"{"type":"order","data":"# + order + "}")
        #expect(try KiteTextMessage.decode(jsonText: message.jsonText()) == message)
        #expect(try KiteTextMessage.decode(jsonText: #"{"type": "order", "data": {"a": [1, {"b": 2}]}}"#)
            == .order(json: #"{"a": [1, {"b": 2}]}"#))
        let error = KiteTextMessage.error("Invalid \"token\"\n\u{01}é")
        #expect(try KiteTextMessage.decode(jsonText: error.jsonText()) == error)
        #expect(try KiteTextMessage.decode(jsonText: #"{"type":"message","data":"hello \ud83d\ude00"}"#) == .message("hello 😀"))
        #expect(try KiteTextMessage.decode(jsonText: #"{"type":"error","data":42}"#) == .error("42"))
        #expect(KiteTextMessage.message("hi").jsonText() == #"{"type":"message","data":"hi"}"#)
        for (text, code) in [("nope", KiteWireError.Code.invalidJSON), (#"{"type":"quote","data":1}"#, .unknownMessage),
                             (#"{"data":1}"#, .unknownMessage), (#"{"type":"order"}"#, .invalidField),
                             (String(repeating: "[", count: 1000), .invalidJSON)] {
            do {
                _ = try KiteTextMessage.decode(jsonText: text)
                Issue.record("\(text) decoded")
            } catch {
                #expect(error.code == code)
            }
        }
    }
}
