import BrokerWire
import NIOCore
import Testing

@testable import TickerService

@Suite("Ticks: compact entries and the bounded buffer")
struct TickEntryTests {
    @Test("prices are exact decimals in the segment's scale")
    func decimals() {
        #expect(TickEntry.decimal(2_451_235, scale: 2) == "24512.35")
        #expect(TickEntry.decimal(5, scale: 2) == "0.05")
        #expect(TickEntry.decimal(-5, scale: 2) == "-0.05")
        #expect(TickEntry.decimal(0, scale: 2) == "0.00")
        #expect(TickEntry.decimal(832_512_345, scale: 7) == "83.2512345")
        #expect(TickEntry.decimal(Int32.min, scale: 4) == "-214748.3648")
        #expect(TickEntry.priceScale(token: 3) == 7)
        #expect(TickEntry.priceScale(token: 256_265) == 2)
    }

    @Test("fields per mode")
    func fieldsPerMode() {
        let token = KiteSegment.token(exchangeToken: 2885, segment: .nse)
        let ltp = TickEntry.fields(KiteTick(instrumentToken: token, mode: .ltp, lastPrice: 100_050), receivedAtMillis: 1)
        #expect(ltp.map(\.0) == ["tk", "m", "lp", "rt"])
        #expect(ltp[2].1 == "1000.50")
        let depth = KiteDepth(
            buy: (0..<5).map { KiteDepthEntry(quantity: 10, price: 100_000 - Int32($0) * 5, orders: 2) },
            sell: (0..<5).map { KiteDepthEntry(quantity: 7, price: 100_100 + Int32($0) * 5, orders: 1) }
        )
        let full = TickEntry.fields(
            KiteTick(instrumentToken: token, mode: .full, lastPrice: 100_050, volumeTraded: 9, exchangeTimestamp: 1_700_000_000, depth: depth),
            receivedAtMillis: 2
        )
        let dict = Dictionary(uniqueKeysWithValues: full)
        #expect(dict["v"] == "9")
        #expect(dict["ets"] == "1700000000")
        #expect(dict["d"]?.hasPrefix("{\"b\":[[1000.00,10,2],[999.95,10,2]") == true)
        let index = TickEntry.fields(
            KiteTick(instrumentToken: 256_265, mode: .quote, isIndex: true, lastPrice: 2_400_000, change: -1_000), receivedAtMillis: 3
        )
        #expect(Dictionary(uniqueKeysWithValues: index)["ch"] == "-10.00")
        #expect(Set(index.map(\.0)).isSubset(of: Set(TickEntry.allFields)))
        #expect(Set(full.map(\.0)).isSubset(of: Set(TickEntry.allFields)))
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
