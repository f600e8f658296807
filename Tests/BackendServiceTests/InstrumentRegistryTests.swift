import Foundation
import SharedInstruments
import Testing

@testable import BackendService

/// The registry's index over a small, hand-made dump: ranking, expiries, strike steps derived from the strikes, the
/// price instrument of each kind of underlying, and the ATM window.
@Suite("Instrument registry and ATM engine")
struct InstrumentRegistryTests {
    static func row(
        _ token: Int64, _ symbol: String, name: String, type: String, exchange: String, segment: String, expiry: String? = nil, strike: Double = 0
    ) -> Instrument {
        Instrument(
            instrumentToken: token, exchangeToken: token, tradingsymbol: symbol, name: name, expiry: expiry, strike: strike, tickSize: 0.05, lotSize: 1,
            instrumentType: type, segment: segment, exchange: exchange, updatedAt: Date(timeIntervalSince1970: 0)
        )
    }

    /// RELIANCE (NSE and BSE), RELINFRA, NIFTY 50, RELIANCE's options of two expiries (step 20, one far strike 100
    /// away), a RELIANCE future, CRUDEOIL's futures and options.
    static let index: InstrumentIndex = {
        var rows = [
            row(738_561, "RELIANCE", name: "RELIANCE INDUSTRIES", type: "EQ", exchange: "NSE", segment: "NSE"),
            row(128_083_204, "RELIANCE", name: "RELIANCE INDUSTRIES", type: "EQ", exchange: "BSE", segment: "BSE"),
            row(3_649, "RELINFRA", name: "RELIANCE INFRASTRUCTURE", type: "EQ", exchange: "NSE", segment: "NSE"),
            row(256_265, "NIFTY 50", name: "NIFTY 50", type: "EQ", exchange: "NSE", segment: "INDICES"),
            row(20_001, "RELIANCE26FEBFUT", name: "RELIANCE", type: "FUT", exchange: "NFO", segment: "NFO-FUT", expiry: "2026-02-26"),
            row(30_001, "CRUDEOIL26FEBFUT", name: "CRUDEOIL", type: "FUT", exchange: "MCX", segment: "MCX-FUT", expiry: "2026-02-19"),
            row(30_002, "CRUDEOIL26MARFUT", name: "CRUDEOIL", type: "FUT", exchange: "MCX", segment: "MCX-FUT", expiry: "2026-03-19"),
            row(30_000, "CRUDEOIL26JANFUT", name: "CRUDEOIL", type: "FUT", exchange: "MCX", segment: "MCX-FUT", expiry: "2026-01-19"),
        ]
        var token: Int64 = 40_000
        for (expiry, code) in [("2026-02-26", "26FEB"), ("2026-03-26", "26MAR")] {
            for strike in stride(from: 2_500.0, through: 2_800, by: 20) + [2_900] {
                for type in ["CE", "PE"] {
                    token += 1
                    rows.append(row(token, "RELIANCE\(code)\(Int(strike))\(type)", name: "RELIANCE", type: type, exchange: "NFO", segment: "NFO-OPT", expiry: expiry, strike: strike))
                }
            }
        }
        for strike in stride(from: 5_000.0, through: 6_000, by: 50) {
            token += 1
            rows.append(row(token, "CRUDEOIL26FEB\(Int(strike))CE", name: "CRUDEOIL", type: "CE", exchange: "MCX", segment: "MCX-OPT", expiry: "2026-02-16", strike: strike))
        }
        return InstrumentIndex(rows.shuffled())
    }()

    @Test("search ranks the exact symbol first, then prefixes (equities before derivatives), then names, then the rest")
    func searchRanking() {
        let results = Self.index.search("reliance", limit: 5).map { "\($0.exchange):\($0.tradingsymbol)" }
        #expect(results.prefix(2) == ["BSE:RELIANCE", "NSE:RELIANCE"] || results.prefix(2) == ["NSE:RELIANCE", "BSE:RELIANCE"])
        #expect(results[2] == "NFO:RELIANCE26FEBFUT")
        #expect(results[3].hasPrefix("NFO:RELIANCE26FEB2500"))
        let rel = Self.index.search(" REL ", limit: 4).map(\.tradingsymbol)
        #expect(rel.prefix(3).sorted() == ["RELIANCE", "RELIANCE", "RELINFRA"])
        #expect(Self.index.search("INFRASTRUCTURE", limit: 10).map(\.tradingsymbol) == ["RELINFRA"])
        #expect(Self.index.search("nothing-like-it", limit: 10).isEmpty)
        #expect(Self.index.search("RELIANCE", limit: 1000).count == 2 + 1 + 2 * 17 * 2 + 1)  // + RELINFRA, whose name starts with RELIANCE
    }

    @Test("expiries from a day, strikes and their step derived from the listed strikes")
    func expiriesAndSteps() {
        #expect(Self.index.expiries(underlying: "reliance", fromDay: "2026-02-27") == ["2026-03-26"])
        #expect(Self.index.expiries(underlying: "RELIANCE", fromDay: "2026-01-01") == ["2026-02-26", "2026-03-26"])
        #expect(Self.index.strikeStep(underlying: "RELIANCE", expiry: "2026-02-26") == 20)
        #expect(Self.index.strikeStep(underlying: "CRUDEOIL", expiry: "2026-02-16") == 50)
        #expect(Self.index.strikeStep(underlying: "RELIANCE", expiry: "2027-01-01") == nil)
        #expect(InstrumentIndex.strikeStep([100, 100.1, 100.2, 100.3]) == 0.1)
        #expect(Self.index.isUnderlying("CRUDEOIL") && !Self.index.isUnderlying("RELINFRA"))
    }

    @Test("the price instrument: the index, the NSE equity, else the nearest live future")
    func priceInstrument() {
        #expect(Self.index.priceInstrument(underlying: "NIFTY", fromDay: "2026-01-01")?.instrumentToken == 256_265)
        #expect(Self.index.priceInstrument(underlying: "reliance", fromDay: "2026-01-01")?.instrumentToken == 738_561)
        #expect(Self.index.priceInstrument(underlying: "CRUDEOIL", fromDay: "2026-02-01")?.instrumentToken == 30_001)
        #expect(Self.index.futures(underlying: "CRUDEOIL", fromDay: "2026-01-01").map(\.instrumentToken) == [30_000, 30_001, 30_002])
    }

    @Test("ATM strike nearest the price, a window centred on it and kept whole at the edges, re-centring after N strikes")
    func atmWindow() {
        let strikes = Self.index.strikes(underlying: "RELIANCE", expiry: "2026-02-26")
        #expect(ATMEngine.atmStrike(price: 2_641.5, strikes: strikes) == 2_640)
        #expect(ATMEngine.atmStrike(price: 2_650, strikes: strikes) == 2_640)  // a tie goes to the lower strike
        #expect(ATMEngine.window(strikes: strikes, around: 2_640, count: 5) == [2_600, 2_620, 2_640, 2_660, 2_680])
        #expect(ATMEngine.window(strikes: strikes, around: 2_500, count: 5) == [2_500, 2_520, 2_540, 2_560, 2_580])
        #expect(ATMEngine.window(strikes: strikes, around: 2_900, count: 3) == [2_780, 2_800, 2_900])
        #expect(ATMEngine.window(strikes: strikes, around: 2_640, count: 100).count == strikes.count)
        let window = ChainWindow(
            symbol: "RELIANCE", expiry: "2026-02-26", underlyingToken: 738_561, underlyingLTP: 2_641.5, priceSource: .caller, atmStrike: 2_640,
            strikeStep: 20, rows: []
        )
        #expect(!ATMEngine.shouldRecalculate(window: window, price: 2_665, strikes: 2))
        #expect(ATMEngine.shouldRecalculate(window: window, price: 2_672, strikes: 2))
        #expect(ATMEngine.shouldRecalculate(window: window, price: 2_605, strikes: 2))
    }

    @Test("expiries as users write them")
    func expiryFormats() {
        #expect(IndianMarket.parseExpiry("26FEB2026") == "2026-02-26")
        #expect(IndianMarket.parseExpiry("26feb2026") == "2026-02-26")
        #expect(IndianMarket.parseExpiry("2026-02-26") == "2026-02-26")
        #expect(IndianMarket.parseExpiry("30FEB2026") == nil)
        #expect(IndianMarket.parseExpiry("26XYZ2026") == nil)
        #expect(IndianMarket.parseExpiry("") == nil)
    }
}

