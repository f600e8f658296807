import Shared
import Testing

@Suite("Tick stream entries")
struct TickStreamEntryTests {
    private static func fullEntry() -> TickStreamEntry {
        var entry = TickStreamEntry(
            instrumentToken: 408_065, mode: .full, lastPrice: TickPrice(units: 152_345, decimalPlaces: 2), receivedAtMillis: 1_732_262_400_123
        )
        func price(_ units: Int64) -> TickPrice { TickPrice(units: units, decimalPlaces: 2) }
        entry.lastTradedQuantity = 12
        entry.averageTradedPrice = price(151_980)
        entry.volume = 120_034
        entry.totalBuyQuantity = 5_100
        entry.totalSellQuantity = 4_800
        entry.open = price(151_000)
        entry.high = price(153_000)
        entry.low = price(150_510)
        entry.close = price(150_800)
        entry.lastTradeTime = 1_732_262_399
        entry.openInterest = 0
        entry.openInterestDayHigh = 0
        entry.openInterestDayLow = 0
        entry.exchangeTimestamp = 1_732_262_400
        entry.depth = TickDepth(
            buy: [TickDepth.Level(price: price(152_340), quantity: 100, orders: 3), TickDepth.Level(price: price(152_335), quantity: 7, orders: 1)],
            sell: [TickDepth.Level(price: price(152_350), quantity: 40, orders: 2)]
        )
        entry.broker = "kite"
        return entry
    }

    @Test("a full entry encodes to docs/feed.md's example and decodes back to the same entry")
    func roundTrip() throws {
        let entry = Self.fullEntry()
        let fields = entry.fields()
        #expect(fields.map { "\($0.0) \($0.1)" }.joined(separator: " ") == """
            tk 408065 m full lp 1523.45 rt 1732262400123 ltq 12 atp 1519.80 v 120034 tbq 5100 tsq 4800 o 1510.00 \
            h 1530.00 l 1505.10 c 1508.00 ltt 1732262399 oi 0 oih 0 oil 0 ets 1732262400 \
            d {"b":[[1523.40,100,3],[1523.35,7,1]],"s":[[1523.50,40,2]]} br kite
            """)
        let decoded = try TickStreamEntry(fields: Dictionary(uniqueKeysWithValues: fields))
        #expect(decoded == entry)
        // Every field but `ch` (indices only), in the order of `Field.all`.
        #expect(fields.map(\.0) == TickStreamEntry.Field.all.filter { $0 != TickStreamEntry.Field.change })
    }

    @Test("ltp and index entries carry only their fields, and round-trip")
    func smallerModes() throws {
        let ltp = TickStreamEntry(instrumentToken: 256_265, mode: .ltp, lastPrice: TickPrice(units: 2_451_035, decimalPlaces: 2), receivedAtMillis: 5)
        #expect(ltp.fields().map(\.0) == ["tk", "m", "lp", "rt"])
        #expect(try TickStreamEntry(fields: Dictionary(uniqueKeysWithValues: ltp.fields())) == ltp)

        var index = TickStreamEntry(instrumentToken: 256_265, mode: .quote, lastPrice: TickPrice(units: 2_400_000, decimalPlaces: 2), receivedAtMillis: 5)
        index.open = TickPrice(units: 2_390_000, decimalPlaces: 2)
        index.change = TickPrice(units: -1_000, decimalPlaces: 2)
        #expect(index.fields().map(\.0) == ["tk", "m", "lp", "rt", "o", "ch"])
        #expect(Dictionary(uniqueKeysWithValues: index.fields())["ch"] == "-10.00")
        #expect(try TickStreamEntry(fields: Dictionary(uniqueKeysWithValues: index.fields())) == index)
    }

    @Test("a reader can skip the fields it does not need")
    func selectiveDecoding() throws {
        let fields = Dictionary(uniqueKeysWithValues: Self.fullEntry().fields())
        let partial = try TickStreamEntry(fields: fields, decoding: [.volume, .exchangeTimestamp])
        #expect(partial.volume == 120_034 && partial.exchangeTimestamp == 1_732_262_400)
        #expect(partial.mode == nil && partial.openInterest == nil && partial.depth == nil && partial.open == nil)
        #expect(partial.lastPrice == TickPrice(units: 152_345, decimalPlaces: 2))
    }

    @Test(arguments: [
        ["lp": "1.00"],
        ["tk": "abc", "lp": "1.00"],
        ["tk": "-4", "lp": "1"],
        ["tk": "12", "m": "ltp"],
        ["tk": "12", "lp": "-1.00"],
        ["tk": "12", "lp": "1e3"],
        ["tk": "12", "lp": "1.00", "v": "many"],
        ["tk": "12", "lp": "1.00", "o": "1.2.3"],
        ["tk": "12", "lp": "1.00", "m": "fast"],
        ["tk": "12", "lp": "1.00", "d": #"{"b":[[1,2]],"s":[]}"#],
    ])
    func malformed(fields: [String: String]) {
        #expect(throws: TickStreamEntry.Malformed.self) { try TickStreamEntry(fields: fields) }
    }

    @Test("prices are exact decimals both ways")
    func prices() {
        let cases: [(Int64, Int, String)] = [
            (2_451_235, 2, "24512.35"), (5, 2, "0.05"), (-5, 2, "-0.05"), (0, 2, "0.00"), (832_512_345, 7, "83.2512345"),
            (Int64(Int32.min), 4, "-214748.3648"), (42, 0, "42"), (Int64.max, 2, "92233720368547758.07"),
        ]
        for (units, places, text) in cases {
            let price = TickPrice(units: units, decimalPlaces: places)
            #expect(price.description == text)
            #expect(TickPrice(text) == price)
        }
        #expect(TickPrice("1523.45")?.doubleValue == 1523.45)
        for bad in ["", "-", ".5", "1.", "1,5", "1e3", "--1", "12345678901234567890", "1.0000000001"] {
            #expect(TickPrice(bad) == nil, "\(bad)")
        }
    }
}
