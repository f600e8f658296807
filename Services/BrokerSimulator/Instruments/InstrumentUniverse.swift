import BrokerWire

/// Every instrument the simulator lists for one trading date; immutable once built (a new date builds a new one).
final class InstrumentUniverse: Sendable {
    let tradingDate: TradingDate
    let seed: UInt64
    /// Rows in dump order: indices, NSE and BSE equities, NFO, BFO, MCX.
    let instruments: [KiteInstrument]
    /// Pricing terms, parallel to ``instruments``.
    let terms: [InstrumentTerms]
    let underlyings: [UnderlyingInfo]
    private let indexByToken: [UInt32: Int32]

    /// Generates the universe; deterministic for (`tradingDate`, `seed`).
    init(tradingDate: TradingDate, seed: UInt64) {
        var builder = UniverseBuilder(tradingDate: tradingDate, seed: seed)
        builder.build()
        self.tradingDate = tradingDate
        self.seed = seed
        instruments = builder.instruments
        terms = builder.terms
        underlyings = builder.underlyings
        var index: [UInt32: Int32] = [:]
        index.reserveCapacity(builder.instruments.count)
        for (i, row) in builder.instruments.enumerated() {
            index[row.instrumentToken] = Int32(i)
        }
        indexByToken = index
    }

    func instrument(token: UInt32) -> KiteInstrument? {
        indexByToken[token].map { instruments[Int($0)] }
    }

    /// Row position of a token (for ``terms``).
    func position(of token: UInt32) -> Int? {
        indexByToken[token].map(Int.init)
    }

    /// Rows whose `exchange` column is `exchange` (case-insensitive, as Kite's path segment is).
    func instruments(exchange: String) -> [KiteInstrument] {
        let wanted = exchange.uppercased()
        return instruments.filter { $0.exchange == wanted }
    }

    /// The token a derivative is priced from (index, equity, or an MCX option's future); nil for spot and MCX futures.
    func underlyingToken(of token: UInt32) -> UInt32? {
        guard let i = indexByToken[token] else { return nil }
        let t = terms[Int(i)]
        return t.underlyingToken == 0 ? nil : t.underlyingToken
    }
}
