import Foundation
import HTTPTypes
import ServiceRuntime
import Logging
import SharedInstruments
import Synchronization

/// Every instrument of the broker's dump in memory, searchable (seed 004's instrument registry). It reads the shared
/// `instruments` table through ``InstrumentCatalog`` (TickerService writes it from the dump) and swaps in a fresh
/// ``InstrumentIndex`` on each ``reload()``, so a lookup never waits on the database and never sees half a load.
///
/// "Today" for expiries is the IST day of the injected clock, so a test can pin it.
final class InstrumentRegistry: Sendable {
    private let catalog: any InstrumentCatalog
    private let now: @Sendable () -> Date
    private let index = Mutex(InstrumentIndex([]))

    init(catalog: any InstrumentCatalog, now: @escaping @Sendable () -> Date = { Date() }) {
        self.catalog = catalog
        self.now = now
    }

    /// Reads the whole table and swaps it in.
    /// - Returns: How many instruments are loaded.
    @discardableResult
    func reload() async throws -> Int {
        let fresh = InstrumentIndex(try await catalog.allInstruments())
        let count = fresh.count
        index.withLock { $0 = fresh }
        return count
    }

    /// The current snapshot (every lookup below reads one snapshot).
    var snapshot: InstrumentIndex { index.withLock { $0 } }

    var count: Int { snapshot.count }

    /// 503 `unavailable` while the instrument table has not been loaded yet (TickerService loads the broker's dump at
    /// its start), so an empty registry is never answered as "no such instrument".
    func requireLoaded() throws(APIError) {
        guard count > 0 else {
            throw APIError(.serviceUnavailable, .unavailable, "the instrument registry is not loaded yet; TickerService loads the broker's dump at start")
        }
    }

    /// Today in IST, `yyyy-MM-dd`.
    var today: String { IndianMarket.today(now()) }

    func instrument(token: Int64) -> Instrument? { snapshot.instrument(token: token) }

    func instrument(tradingsymbol: String, exchange: String) -> Instrument? { snapshot.instrument(tradingsymbol: tradingsymbol, exchange: exchange) }

    func isUnderlying(_ name: String) -> Bool { snapshot.isUnderlying(name) }

    /// Option expiries from today on, nearest first.
    func expiries(underlying: String) -> [String] { snapshot.expiries(underlying: underlying, fromDay: today) }

    /// Futures from today on, nearest first.
    func futures(underlying: String) -> [Instrument] { snapshot.futures(underlying: underlying, fromDay: today) }

    func priceInstrument(underlying: String) -> Instrument? { snapshot.priceInstrument(underlying: underlying, fromDay: today) }

    func search(_ query: String, limit: Int, exchange: String? = nil, instrumentType: String? = nil) -> [Instrument] {
        snapshot.search(query, limit: limit, exchange: exchange, instrumentType: instrumentType)
    }
}
