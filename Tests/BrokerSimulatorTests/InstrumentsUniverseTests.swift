import BrokerWire
import Foundation
import Testing

@testable import BrokerSimulator

@Suite("Instrument universe")
struct InstrumentsUniverseTests {
    let universe = MarketFixture.universe

    @Test func hasAtLeastOneHundredThousandInstruments() {
        #expect(universe.instruments.count >= 100_000)
        #expect(Set(universe.instruments.map(\.instrumentToken)).count == universe.instruments.count, "tokens are unique")
    }

    @Test func knownInstrumentsCarryKitesTokens() throws {
        let expected: [(String, UInt32)] = [
            ("NIFTY 50", 256_265), ("NIFTY BANK", 260_105), ("NIFTY FIN SERVICE", 257_801), ("NIFTY MID SELECT", 288_009),
            ("SENSEX", 265), ("BANKEX", 274_441),
        ]
        for (symbol, token) in expected {
            let row = try #require(universe.instrument(token: token), "\(symbol)")
            #expect(row.tradingsymbol == symbol)
            #expect(row.segment == "INDICES")
        }
        let reliance = try #require(universe.instrument(token: 738_561))
        #expect(reliance.tradingsymbol == "RELIANCE" && reliance.exchange == "NSE" && reliance.segment == "NSE" && reliance.exchangeToken == 2885)
    }

    @Test func tokensFollowKitesRule() throws {
        for row in universe.instruments {
            let segment: KiteSegment
            switch row.segment {
            case "NSE": segment = .nse
            case "BSE": segment = .bse
            case "INDICES": segment = .indices
            case "NFO-OPT", "NFO-FUT": segment = .nfo
            case "BFO-OPT", "BFO-FUT": segment = .bfo
            case "MCX-OPT", "MCX-FUT": segment = .mcx
            default:
                Issue.record("unexpected segment \(row.segment)")
                continue
            }
            #expect(row.instrumentToken == row.exchangeToken << 8 | UInt32(segment.rawValue), "\(row.tradingsymbol)")
        }
    }

    @Test func coversEverySegmentAndUnderlying() {
        let segments = Set(universe.instruments.map(\.segment))
        #expect(segments.isSuperset(of: ["NSE", "INDICES", "NFO-OPT", "NFO-FUT", "BFO-OPT", "MCX-FUT", "MCX-OPT"]))
        let mcxFutures = Set(universe.instruments.filter { $0.segment == "MCX-FUT" }.map(\.name))
        #expect(mcxFutures.isSuperset(of: ["GOLD", "SILVER", "CRUDEOIL", "NATURALGAS", "COPPER"]))
        let mcxOptions = Set(universe.instruments.filter { $0.segment == "MCX-OPT" }.map(\.name))
        #expect(mcxOptions.isSuperset(of: ["CRUDEOIL", "NATURALGAS"]))
        #expect(universe.instruments.contains { $0.tradingsymbol == "RELIANCE25NOVFUT" })
        #expect(universe.instruments.contains { $0.name == "RELIANCE" && $0.segment == "NFO-OPT" })
        #expect(universe.instruments.contains { $0.name == "SENSEX" && $0.segment == "BFO-OPT" })
    }

    @Test func tradingSymbolsUseKitesWeeklyAndMonthlyFormats() throws {
        // 2025-11-25 is NIFTY's November monthly (last Tuesday); 2025-12-02 is a weekly.
        let monthly = try #require(MarketFixture.rows(named: "NIFTY", type: "CE", expiry: KiteCalendarDate(year: 2025, month: 11, day: 25)).first)
        #expect(monthly.tradingsymbol == "NIFTY25NOV\(Int(monthly.strike))CE")
        let weekly = try #require(MarketFixture.rows(named: "NIFTY", type: "PE", expiry: KiteCalendarDate(year: 2025, month: 12, day: 2)).first)
        #expect(weekly.tradingsymbol == "NIFTY25D02\(Int(weekly.strike))PE")
        // SENSEX weekly on the trading date itself (a Thursday), monthly on the last Thursday.
        let sensexWeekly = try #require(MarketFixture.rows(named: "SENSEX", type: "CE", expiry: KiteCalendarDate(year: 2025, month: 11, day: 20)).first)
        #expect(sensexWeekly.tradingsymbol == "SENSEX25N20\(Int(sensexWeekly.strike))CE")
        #expect(universe.instruments.contains { $0.tradingsymbol == "SENSEX25NOVFUT" })
        #expect(universe.instruments.contains { $0.tradingsymbol == "NIFTY25NOVFUT" })
        #expect(universe.instruments.contains { $0.tradingsymbol.hasPrefix("CRUDEOIL25DEC") && $0.instrumentType == "FUT" })
        #expect(TradingSymbol.option("NIFTY", expiry: KiteCalendarDate(year: 2025, month: 11, day: 18), weekly: true, strike: 24500, type: "CE") == "NIFTY25N1824500CE")
        #expect(TradingSymbol.option("NIFTY", expiry: KiteCalendarDate(year: 2025, month: 10, day: 7), weekly: true, strike: 24500, type: "PE") == "NIFTY25O0724500PE")
    }

    @Test(arguments: [("NIFTY", 50.0, 75), ("BANKNIFTY", 100, 35), ("FINNIFTY", 50, 65), ("MIDCPNIFTY", 25, 140), ("SENSEX", 100, 20), ("BANKEX", 100, 30)])
    func nearExpiriesUseTheRealStrikeStep(name: String, step: Double, lot: Int) throws {
        let expiry = try #require(MarketFixture.expiries(of: name).first)
        let calls = MarketFixture.rows(named: name, type: "CE", expiry: expiry)
        #expect(calls.count > 50)
        for (a, b) in zip(calls, calls.dropFirst()) {
            #expect(b.strike - a.strike == step, "\(b.tradingsymbol)")
        }
        #expect(calls.allSatisfy { $0.lotSize == lot && $0.tickSize == 0.05 })
        #expect(MarketFixture.rows(named: name, type: "PE", expiry: expiry).map(\.strike) == calls.map(\.strike))
    }

    @Test func expiriesFallOnTheRightWeekdays() {
        for row in universe.instruments {
            guard let expiry = row.expiry else { continue }
            #expect(expiry >= MarketFixture.date.calendarDate)
            switch row.exchange {
            case "NFO": #expect(expiry.weekday == 2, "\(row.tradingsymbol) expires on a Tuesday")
            case "BFO": #expect(expiry.weekday == 4, "\(row.tradingsymbol) expires on a Thursday")
            default: #expect(expiry.weekday <= 5)
            }
        }
        // Monthly contracts (futures) expire on the month's last Tuesday.
        for future in universe.instruments where future.segment == "NFO-FUT" {
            let expiry = future.expiry!
            #expect(expiry.adding(days: 7).month != expiry.month, "\(future.tradingsymbol)")
        }
        let niftyWeeklies = MarketFixture.expiries(of: "NIFTY").prefix(5)
        #expect(niftyWeeklies.map(\.iso) == ["2025-11-25", "2025-12-02", "2025-12-09", "2025-12-16", "2025-12-23"])
    }

    @Test func derivativesPointAtTheirUnderlying() throws {
        let option = try #require(MarketFixture.rows(named: "NIFTY", type: "CE", expiry: KiteCalendarDate(year: 2025, month: 11, day: 25)).first)
        #expect(universe.underlyingToken(of: option.instrumentToken) == 256_265)
        let stockFuture = try #require(universe.instruments.first { $0.tradingsymbol == "RELIANCE25NOVFUT" })
        #expect(universe.underlyingToken(of: stockFuture.instrumentToken) == 738_561)
        let crudeOption = try #require(universe.instruments.first { $0.segment == "MCX-OPT" && $0.name == "CRUDEOIL" })
        let crudeFuture = try #require(universe.underlyingToken(of: crudeOption.instrumentToken).flatMap(universe.instrument(token:)))
        #expect(crudeFuture.segment == "MCX-FUT" && crudeFuture.name == "CRUDEOIL")
        #expect(universe.underlyingToken(of: 738_561) == nil)
        #expect(universe.instruments(exchange: "mcx").allSatisfy { $0.exchange == "MCX" })
    }

    @Test func isDeterministicForDateAndSeed() {
        let again = InstrumentUniverse(tradingDate: MarketFixture.date, seed: MarketFixture.seed)
        #expect(again.instruments == universe.instruments)
    }

    @Test func csvHasKitesHeaderAndParsesBack() throws {
        let bytes = KiteInstrumentCSV.write(universe.instruments)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("instrument_token,exchange_token,tradingsymbol,name,last_price,expiry,strike,tick_size,lot_size,instrument_type,segment,exchange\n"))
        #expect(text.contains("\n738561,2885,RELIANCE,\"RELIANCE INDUSTRIES\",0,,0,0.05,1,EQ,NSE,NSE\n"))
        #expect(text.contains("\n256265,1001,NIFTY 50,\"NIFTY 50\",0,,0,0,0,EQ,INDICES,NSE\n"))
        let parsed = try KiteInstrumentCSV.parse(bytes)
        #expect(parsed == universe.instruments)
    }

    @Test func csvParserHandlesQuotesAndRejectsBadInput() throws {
        let text = "\(KiteInstrumentCSV.header)\r\n1,0,X,\"A, \"\"B\"\"\",0,2025-11-25,24500.5,0.05,75,CE,NFO-OPT,NFO"
        let rows = try KiteInstrumentCSV.parse(text)
        #expect(rows.count == 1 && rows[0].name == "A, \"B\"" && rows[0].strike == 24500.5 && rows[0].expiry?.iso == "2025-11-25")
        #expect(throws: KiteDataFormatError.self) { try KiteInstrumentCSV.parse("a,b,c\n1,2,3") }
        #expect(throws: KiteDataFormatError.self) { try KiteInstrumentCSV.parse("\(KiteInstrumentCSV.header)\nx,1,A,B,0,,0,0.05,1,EQ,NSE,NSE") }
    }

    @Test func tradingDateParsesAndKnowsToday() throws {
        #expect(TradingDate(iso: "2025-11-20") == TradingDate(year: 2025, month: 11, day: 20))
        #expect(TradingDate(iso: "2025-02-30") == nil)
        // 2025-11-20T20:00:00Z is already 21 November in India.
        #expect(TradingDate.todayIST(now: Date(timeIntervalSince1970: 1_763_668_800)) == TradingDate(year: 2025, month: 11, day: 21))
    }
}
