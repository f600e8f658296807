import BrokerWire
import Foundation

@testable import BrokerSimulator

/// One universe and market shared by the instrument, market and historical tests (building one takes a moment in debug).
enum MarketFixture {
    static let date = TradingDate(iso: "2025-11-20")!
    static let seed: UInt64 = 20_251_120
    static let universe = InstrumentUniverse(tradingDate: date, seed: seed)
    static let market = MarketModel(universe: universe, seed: seed, sessionMode: .always)
    static let exchangeMarket = MarketModel(universe: universe, seed: seed, sessionMode: .exchange)

    /// 2025-11-20 11:30:00 IST.
    static let midMorning = Date(timeIntervalSince1970: TimeInterval(ISTClock.unixSecond(date.calendarDate, hour: 11, minute: 30)))

    static func rows(named name: String, type: String, expiry: KiteCalendarDate) -> [KiteInstrument] {
        universe.instruments.filter { $0.name == name && $0.instrumentType == type && $0.expiry == expiry }.sorted { $0.strike < $1.strike }
    }

    static func expiries(of name: String) -> [KiteCalendarDate] {
        Set(universe.instruments.filter { $0.name == name && $0.isOption }.compactMap(\.expiry)).sorted()
    }
}
