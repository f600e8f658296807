/// What ``FallbackInstrumentCatalog/resolve(token:)`` learned about a token.
public enum InstrumentResolution: Sendable, Hashable {
    /// The catalog, or else the fallback, has it.
    case found(Instrument)
    /// The catalog lacks it and the fallback (the table's writer) says no such instrument exists.
    case unknown
    /// The catalog lacks it and there is no fallback to ask: it may exist all the same (the dump may not be loaded).
    case notInCatalog
}

/// An ``InstrumentCatalog`` that asks a second source for a token the catalog lacks.
///
/// Why it exists: BackendService reads the table TickerService loads, but the two may run on separate databases, or
/// BackendService may start before TickerService has loaded the dump; then the table is empty and TickerService's
/// `GET /instruments/{token}` is the only one who knows. Only the by-token lookups fall back (that is what a backfill
/// needs to pick a session); chain and search queries answer from the catalog alone.
public struct FallbackInstrumentCatalog: InstrumentCatalog {
    /// The shared table.
    public let catalog: any InstrumentCatalog
    /// Asked when ``catalog`` lacks a token (or cannot be read); nil: none.
    public let fallback: (any InstrumentTokenLookup)?

    /// - Parameters:
    ///   - catalog: The shared table.
    ///   - fallback: Asked when `catalog` lacks a token; nil for none.
    public init(catalog: any InstrumentCatalog, fallback: (any InstrumentTokenLookup)?) {
        self.catalog = catalog
        self.fallback = fallback
    }

    /// The instrument from the catalog, else from the fallback. A catalog that cannot be read counts as lacking it when
    /// there is a fallback; an error of the fallback is thrown.
    /// - Parameters:
    ///   - token: The broker's instrument token.
    public func resolve(token: Int64) async throws -> InstrumentResolution {
        guard let fallback else {
            return try await catalog.instrument(token: token).map(InstrumentResolution.found) ?? .notInCatalog
        }
        if let instrument = try? await catalog.instrument(token: token) { return .found(instrument) }
        return try await fallback.instrument(token: token).map(InstrumentResolution.found) ?? .unknown
    }

    public func instrument(token: Int64) async throws -> Instrument? {
        if case .found(let instrument) = try await resolve(token: token) { return instrument }
        return nil
    }

    public func instruments(tokens: [Int64]) async throws -> [Int64: Instrument] {
        var found = try await catalog.instruments(tokens: tokens)
        guard let fallback else { return found }
        for token in Set(tokens) where found[token] == nil {
            found[token] = try await fallback.instrument(token: token)
        }
        return found
    }

    public func instrument(exchangeToken: Int64, exchange: String) async throws -> Instrument? {
        try await catalog.instrument(exchangeToken: exchangeToken, exchange: exchange)
    }

    public func instrument(tradingsymbol: String, exchange: String) async throws -> Instrument? {
        try await catalog.instrument(tradingsymbol: tradingsymbol, exchange: exchange)
    }

    public func hasOptions(underlying: String) async throws -> Bool {
        try await catalog.hasOptions(underlying: underlying)
    }

    public func optionExpiries(underlying: String, fromDay: String, limit: Int) async throws -> [String] {
        try await catalog.optionExpiries(underlying: underlying, fromDay: fromDay, limit: limit)
    }

    public func options(underlying: String, expiries: [String]) async throws -> [Instrument] {
        try await catalog.options(underlying: underlying, expiries: expiries)
    }

    public func futures(underlying: String, fromDay: String) async throws -> [Instrument] {
        try await catalog.futures(underlying: underlying, fromDay: fromDay)
    }

    public func allInstruments() async throws -> [Instrument] {
        try await catalog.allInstruments()
    }

    public func spotToken(underlying: String) async throws -> Int64? {
        try await catalog.spotToken(underlying: underlying)
    }
}
