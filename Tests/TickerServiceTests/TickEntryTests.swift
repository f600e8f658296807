import BrokerWire
import NIOCore
import Shared
import Testing

@testable import TickerService

@Suite("Ticks: compact entries and the bounded buffer")
struct TickEntryTests {
    @Test("prices are exact decimals in the segment's scale")
    func decimals() {
        func decimal(_ raw: Int32, scale: Int) -> String { TickPrice(units: Int64(raw), decimalPlaces: scale).description }
        #expect(decimal(2_451_235, scale: 2) == "24512.35")
        #expect(decimal(5, scale: 2) == "0.05")
        #expect(decimal(-5, scale: 2) == "-0.05")
        #expect(decimal(0, scale: 2) == "0.00")
        #expect(decimal(832_512_345, scale: 7) == "83.2512345")
        #expect(decimal(Int32.min, scale: 4) == "-214748.3648")
        #expect(KiteSegment.priceDecimalPlaces(forToken: 3) == 7)
        #expect(KiteSegment.priceDecimalPlaces(forToken: 256_265) == 2)
    }

    @Test("fields per mode")
    func fieldsPerMode() {
        let token = KiteSegment.token(exchangeToken: 2885, segment: .nse)
        let ltp = TickStreamEntry(KiteTick(instrumentToken: token, mode: .ltp, lastPrice: 100_050), receivedAtMillis: 1).fields()
        #expect(ltp.map(\.0) == ["tk", "m", "lp", "rt", "br"])
        #expect(ltp[2].1 == "1000.50")
        let depth = KiteDepth(
            buy: (0..<5).map { KiteDepthEntry(quantity: 10, price: 100_000 - Int32($0) * 5, orders: 2) },
            sell: (0..<5).map { KiteDepthEntry(quantity: 7, price: 100_100 + Int32($0) * 5, orders: 1) }
        )
        let full = TickStreamEntry(
            KiteTick(instrumentToken: token, mode: .full, lastPrice: 100_050, volumeTraded: 9, exchangeTimestamp: 1_700_000_000, depth: depth),
            receivedAtMillis: 2
        ).fields()
        let dict = Dictionary(uniqueKeysWithValues: full)
        #expect(dict["v"] == "9")
        #expect(dict["ets"] == "1700000000")
        #expect(dict["d"]?.hasPrefix("{\"b\":[[1000.00,10,2],[999.95,10,2]") == true)
        let index = TickStreamEntry(
            KiteTick(instrumentToken: 256_265, mode: .quote, isIndex: true, lastPrice: 2_400_000, change: -1_000), receivedAtMillis: 3
        ).fields()
        #expect(Dictionary(uniqueKeysWithValues: index)["ch"] == "-10.00")
        #expect(Set(index.map(\.0)).isSubset(of: Set(TickStreamEntry.Field.all)))
        #expect(Set(full.map(\.0)).isSubset(of: Set(TickStreamEntry.Field.all)))
    }

    @Test("the stream keeps the field order and value formats it always had, per mode")
    func fieldOrderPerMode() {
        let token = KiteSegment.token(exchangeToken: 2885, segment: .nse)
        let depth = KiteDepth(buy: [KiteDepthEntry(quantity: 10, price: 100_000, orders: 2)], sell: [])
        let tick = KiteTick(
            instrumentToken: token, mode: .full, lastPrice: 100_050, lastTradedQuantity: 3, averageTradedPrice: 99_990, volumeTraded: 9,
            totalBuyQuantity: 4, totalSellQuantity: 5, open: 99_000, high: 101_000, low: 98_500, close: 99_500, lastTradeTime: 1_699_999_999,
            oi: 7, oiDayHigh: 8, oiDayLow: 6, exchangeTimestamp: 1_700_000_000, depth: depth
        )
        let full = TickStreamEntry(tick, receivedAtMillis: 1_700_000_000_123).fields()
        #expect(full.map { "\($0.0)=\($0.1)" } == [
            "tk=738561", "m=full", "lp=1000.50", "rt=1700000000123", "ltq=3", "atp=999.90", "v=9", "tbq=4", "tsq=5", "o=990.00",
            "h=1010.00", "l=985.00", "c=995.00", "ltt=1699999999", "oi=7", "oih=8", "oil=6", "ets=1700000000", #"d={"b":[[1000.00,10,2]],"s":[]}"#, "br=kite",
        ])
        var quote = tick
        quote.mode = .quote
        #expect(TickStreamEntry(quote, receivedAtMillis: 1).fields().map(\.0) == ["tk", "m", "lp", "rt", "ltq", "atp", "v", "tbq", "tsq", "o", "h", "l", "c", "br"])
        let index = KiteTick(instrumentToken: 256_265, mode: .full, isIndex: true, lastPrice: 2_400_000, exchangeTimestamp: 5)
        #expect(TickStreamEntry(index, receivedAtMillis: 1).fields().map(\.0) == ["tk", "m", "lp", "rt", "o", "h", "l", "c", "ch", "ets", "br"])
    }

    @Test("a full buffer drops the oldest frame and counts its ticks")
    func dropOldest() async {
        let sink = TickSink(capacity: 2)
        func frame(_ ticks: Int, _ marker: Int64) -> TickFrame {
            let encoded = KiteTickerCodec.encodeFrame((0..<ticks).map { KiteTick(instrumentToken: UInt32($0 + 1) << 8 | 1, mode: .ltp) })
            return TickFrame(bytes: ByteBuffer(bytes: encoded), receivedAtMillis: marker, accountID: "a", connectionID: 1)
        }
        sink.push(frame(3, 1))
        sink.push(frame(4, 2))
        sink.push(frame(5, 3))
        #expect(sink.ticksDropped == 3)
        #expect(sink.framesDropped == 1)
        sink.finish()
        var kept: [Int64] = []
        for await frame in sink.frames { kept.append(frame.receivedAtMillis) }
        #expect(kept == [2, 3])
    }
}
