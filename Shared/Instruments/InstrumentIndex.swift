import Foundation

/// One immutable snapshot of the whole instrument dump, indexed for the terminal (BackendService's `InstrumentRegistry`
/// swaps in a new one per load): by token, by exchange and symbol, by
/// underlying (options per expiry, futures), and for ranked search. Built once per load from ``InstrumentCatalog``'s
/// rows; every lookup is a dictionary probe, and a search is one pass over about 100,000 pre-uppercased symbols.
public struct InstrumentIndex: Sendable {
    /// Every instrument by token.
    public let byToken: [Int64: Instrument]
    /// `EXCHANGE:TRADINGSYMBOL` (uppercased) → token.
    private let bySymbol: [String: Int64]
    /// Underlying name → expiry (`yyyy-MM-dd`) → its options, by strike then `CE` before `PE`.
    private let optionsByUnderlying: [String: [String: [Instrument]]]
    /// Underlying name → its futures, nearest expiry first.
    private let futuresByUnderlying: [String: [Instrument]]
    /// The ranked search (``InstrumentSearchIndex``).
    private let searchIndex: InstrumentSearchIndex

    public var count: Int { byToken.count }

    /// Indexes a dump.
    /// - Parameter instruments: Every instrument (any order).
    public init(_ instruments: [Instrument]) {
        var byToken: [Int64: Instrument] = [:]
        var bySymbol: [String: Int64] = [:]
        var options: [String: [String: [Instrument]]] = [:]
        var futures: [String: [Instrument]] = [:]
        var searchable: [InstrumentSearchIndex.Entry] = []
        byToken.reserveCapacity(instruments.count)
        bySymbol.reserveCapacity(instruments.count)
        searchable.reserveCapacity(instruments.count)
        for instrument in instruments.sorted(by: { $0.instrumentToken < $1.instrumentToken }) {
            byToken[instrument.instrumentToken] = instrument
            let symbol = instrument.tradingsymbol.uppercased()
            bySymbol[Self.key(symbol, instrument.exchange)] = bySymbol[Self.key(symbol, instrument.exchange)] ?? instrument.instrumentToken
            searchable.append(
                InstrumentSearchIndex.Entry(
                    symbol: Array(symbol.utf8), name: Array(instrument.name.uppercased().utf8), exchange: instrument.exchange,
                    instrumentType: instrument.instrumentType, token: instrument.instrumentToken
                )
            )
            guard let expiry = instrument.expiry, !instrument.name.isEmpty else { continue }
            if InstrumentType.options.contains(instrument.instrumentType) {
                options[instrument.name, default: [:]][expiry, default: []].append(instrument)
            } else if instrument.instrumentType == InstrumentType.future {
                futures[instrument.name, default: []].append(instrument)
            }
        }
        for (name, expiries) in options {
            for (expiry, list) in expiries {
                options[name]![expiry] = list.sorted { ($0.strike, $0.instrumentType) < ($1.strike, $1.instrumentType) }
            }
        }
        for (name, list) in futures {
            futures[name] = list.sorted { ($0.expiry ?? "", $0.instrumentToken) < ($1.expiry ?? "", $1.instrumentToken) }
        }
        self.byToken = byToken
        self.bySymbol = bySymbol
        self.optionsByUnderlying = options
        self.futuresByUnderlying = futures
        searchIndex = InstrumentSearchIndex(searchable.sorted { Self.order(byToken[$0.token]!) < Self.order(byToken[$1.token]!) })
    }

    private static func key(_ symbol: String, _ exchange: String) -> String { "\(exchange.uppercased()):\(symbol.uppercased())" }

    // MARK: Lookups

    public func instrument(token: Int64) -> Instrument? { byToken[token] }

    public func instrument(tradingsymbol: String, exchange: String) -> Instrument? {
        bySymbol[Self.key(tradingsymbol, exchange)].flatMap { byToken[$0] }
    }

    /// Whether the name is an underlying with listed options (`NIFTY`, `RELIANCE`, `CRUDEOIL`).
    public func isUnderlying(_ name: String) -> Bool { optionsByUnderlying[name.uppercased()] != nil }

    /// Every underlying with options, sorted.
    public var underlyings: [String] { optionsByUnderlying.keys.sorted() }

    /// The underlying's option expiries on or after `fromDay` (`yyyy-MM-dd`), nearest first.
    public func expiries(underlying: String, fromDay: String) -> [String] {
        (optionsByUnderlying[underlying.uppercased()]?.keys.filter { $0 >= fromDay } ?? []).sorted()
    }

    /// The options of one expiry, by strike, `CE` before `PE`.
    public func options(underlying: String, expiry: String) -> [Instrument] {
        optionsByUnderlying[underlying.uppercased()]?[expiry] ?? []
    }

    /// The distinct strikes of one expiry, ascending.
    public func strikes(underlying: String, expiry: String) -> [Double] {
        var seen: [Double] = []
        for option in options(underlying: underlying, expiry: expiry) where seen.last != option.strike { seen.append(option.strike) }
        return seen
    }

    /// The strike step of one expiry, derived from the listed strikes: the most common gap between neighbouring strikes
    /// (the smallest on a tie), so a few wider far strikes do not change it. Nil with fewer than two strikes.
    public func strikeStep(underlying: String, expiry: String) -> Double? {
        Self.strikeStep(strikes(underlying: underlying, expiry: expiry))
    }

    public static func strikeStep(_ strikes: [Double]) -> Double? {
        guard strikes.count >= 2 else { return nil }
        var gaps: [Double: Int] = [:]
        for (low, high) in zip(strikes, strikes.dropFirst()) {
            // Rounded to the paisa so that 0.1-style binary noise does not split one gap into two.
            gaps[((high - low) * 100).rounded() / 100, default: 0] += 1
        }
        return gaps.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key
    }

    /// The underlying's futures expiring on or after `fromDay`, nearest first.
    public func futures(underlying: String, fromDay: String) -> [Instrument] {
        (futuresByUnderlying[underlying.uppercased()] ?? []).filter { ($0.expiry ?? "") >= fromDay }
    }

    /// The instrument whose live price is the underlying's: its index for the indices, its NSE (else BSE) equity for a
    /// stock, else its nearest future (MCX commodities, whose options are written on the future).
    public func priceInstrument(underlying: String, fromDay: String) -> Instrument? {
        let name = underlying.uppercased()
        if let token = IndexSpot.tokens[name], let index = byToken[token] { return index }
        for exchange in ["NSE", "BSE"] {
            if let equity = instrument(tradingsymbol: name, exchange: exchange), equity.instrumentType == InstrumentType.equity { return equity }
        }
        return futures(underlying: name, fromDay: fromDay).first
    }

    // MARK: Search

    /// Instruments whose symbol or name matches `query`, best first: an exact symbol, then a symbol prefix, then an
    /// underlying name (exact, then prefix), then a symbol that merely contains it; within each, equities and indices
    /// before derivatives, then futures before options, nearer expiries first, then strike and symbol.
    /// - Parameters:
    ///   - query: What the user typed; case and surrounding spaces do not matter.
    ///   - limit: At most this many results.
    ///   - exchange: Only this exchange (`NSE`, `NFO`, …), any case; nil for all.
    ///   - instrumentType: Only this type (`EQ`, `FUT`, `CE`, `PE`), any case; nil for all.
    public func search(_ query: String, limit: Int, exchange: String? = nil, instrumentType: String? = nil) -> [Instrument] {
        let needle = Array(query.trimmingCharacters(in: .whitespaces).uppercased().utf8)
        guard !needle.isEmpty, limit > 0 else { return [] }
        let exchange = exchange?.uppercased()
        let instrumentType = instrumentType?.uppercased()
        let positions = searchIndex.search(needle, limit: limit) { entry in
            (exchange == nil || entry.exchange == exchange) && (instrumentType == nil || entry.instrumentType == instrumentType)
        }
        return positions.compactMap { byToken[searchIndex.entries[$0].token] }
    }

    /// The order of results within a rank.
    private static func order(_ instrument: Instrument) -> (Int, String, Double, String, Int64) {
        let kind: Int
        switch instrument.instrumentType {
        case InstrumentType.equity: kind = 0
        case InstrumentType.future: kind = 1
        default: kind = InstrumentType.options.contains(instrument.instrumentType) ? 2 : 1
        }
        return (kind, instrument.expiry ?? "", instrument.strike, instrument.tradingsymbol, instrument.instrumentToken)
    }
}
