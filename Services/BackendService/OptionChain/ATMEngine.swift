import HTTPTypes
import Logging
import ServiceRuntime
import SharedBasics
import SharedInstruments

/// Seed 004's ATM engine: the at-the-money strike from the underlying's live price, the window of strikes around it,
/// and whether a window should be re-centred. Strikes and their step come from the listed options (``InstrumentIndex``),
/// never from a table of steps.
struct ATMEngine: Sendable {
    let registry: InstrumentRegistry
    let quotes: LiveQuotes
    /// Asked when the underlying has no live tick and the caller allows older prices (bars, then `/history`); nil: none.
    let fallback: UnderlyingPriceResolver?
    /// `ATM_RECENTER_STRIKES`: how many strikes the price must move for ``shouldRecalculate(window:price:)``.
    let recenterStrikes: Int
    let logger: Logger

    /// The underlying's price from its latest live tick, else (unless `liveOnly`) from the fallback.
    func underlyingPrice(symbol: String, liveOnly: Bool = true) async -> UnderlyingPrice? {
        let instrument = registry.priceInstrument(underlying: symbol)
        if let token = instrument?.instrumentToken {
            do {
                if let quote = try await quotes.quote(token), quote.ltp > 0 { return UnderlyingPrice(instrumentToken: token, price: quote.ltp, source: .tick) }
            } catch {
                logger.debug("latest quote unavailable", metadata: [LogKey.token: "\(token)", LogKey.error: "\(error)"])
            }
        }
        guard !liveOnly, let fallback else { return nil }
        guard let found = try? await fallback.price(symbol: symbol) else { return nil }
        return UnderlyingPrice(instrumentToken: found.instrumentToken, price: found.price, source: found.source == "history" ? .history : .bars)
    }

    /// The window of `strikes` strikes centred on the money.
    /// - Parameters:
    ///   - symbol: An underlying with options (`NIFTY`).
    ///   - expiry: `yyyy-MM-dd`, nil for the nearest.
    ///   - underlyingLTP: The caller's price; nil to use the live one (and, when `liveOnly` is off, older ones).
    ///   - strikes: How many strikes (the ATM one and the rest split evenly below and above, fewer at the chain's edge).
    /// - Throws: ``APIError`` 404 for an unknown underlying or expiry, 503 when no price is known.
    func window(symbol: String, expiry: String?, underlyingLTP: Double?, strikes: Int, liveOnly: Bool = false) async throws -> ChainWindow {
        let name = symbol.uppercased()
        guard registry.isUnderlying(name) else {
            throw APIError(.notFound, .unknownSymbol, "\(Excerpt.quoted(symbol, limit: 64)) is not an underlying with listed options")
        }
        let listed = registry.expiries(underlying: name)
        let chosen: String
        if let expiry {
            guard listed.contains(expiry) else {
                throw APIError(
                    .notFound, "expiry_not_listed", "\(name) has no options expiring \(expiry); listed: \(listed.prefix(12).joined(separator: ", "))"
                )
            }
            chosen = expiry
        } else {
            guard let nearest = listed.first else { throw APIError(.notFound, "expiry_not_listed", "\(name) has no options expiring today or later") }
            chosen = nearest
        }
        let price: UnderlyingPrice
        if let underlyingLTP {
            price = UnderlyingPrice(instrumentToken: registry.priceInstrument(underlying: name)?.instrumentToken, price: underlyingLTP, source: .caller)
        } else if let found = await underlyingPrice(symbol: name, liveOnly: liveOnly) {
            price = found
        } else {
            throw APIError(
                .conflict, "no_price", "no price of \(name) is known yet (no live tick); pass underlying_ltp to choose the strikes"
            )
        }
        let snapshot = registry.snapshot
        let options = snapshot.options(underlying: name, expiry: chosen)
        let levels = snapshot.strikes(underlying: name, expiry: chosen)
        let step = InstrumentIndex.strikeStep(levels) ?? 0
        let atm = Self.atmStrike(price: price.price, strikes: levels)
        let window = Set(Self.window(strikes: levels, around: atm, count: strikes))
        var rows: [Double: ChainWindow.Row] = [:]
        for option in options where window.contains(option.strike) {
            var row = rows[option.strike] ?? ChainWindow.Row(strike: option.strike)
            if option.instrumentType == InstrumentType.call { row.call = option } else { row.put = option }
            rows[option.strike] = row
        }
        return ChainWindow(
            symbol: name, expiry: chosen, underlyingToken: price.instrumentToken, underlyingLTP: price.price, priceSource: price.source,
            atmStrike: atm, strikeStep: step, rows: rows.values.sorted { $0.strike < $1.strike }
        )
    }

    /// Whether the price has moved `ATM_RECENTER_STRIKES` strikes or more from the window's ATM strike.
    func shouldRecalculate(window: ChainWindow, price: Double) -> Bool {
        Self.shouldRecalculate(window: window, price: price, strikes: recenterStrikes)
    }

    /// Whether `price` is nearer a strike `strikes` or more steps from the window's ATM strike than to any nearer one.
    static func shouldRecalculate(window: ChainWindow, price: Double, strikes: Int) -> Bool {
        guard window.strikeStep > 0 else { return false }
        return abs(price - window.atmStrike) / window.strikeStep >= Double(strikes) - 0.5
    }

    /// The listed strike nearest `price` (the lower one on a tie); `price` itself when nothing is listed.
    static func atmStrike(price: Double, strikes: [Double]) -> Double {
        strikes.min { (abs($0 - price), $0) < (abs($1 - price), $1) } ?? price
    }

    /// `count` consecutive strikes with `atm` in the middle (one more above than below when `count` is even), shifted
    /// inwards at the chain's edges so the window keeps its size while the chain has enough strikes.
    static func window(strikes: [Double], around atm: Double, count: Int) -> [Double] {
        guard let center = strikes.firstIndex(of: atm), count > 0 else { return [] }
        let size = min(count, strikes.count)
        var start = center - (size - 1) / 2
        start = max(0, min(start, strikes.count - size))
        return Array(strikes[start..<start + size])
    }
}
