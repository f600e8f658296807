import BrokerWire

/// The instrument cache: the broker's dump, stored so that tokens can be validated and events described.
protocol InstrumentRepository: Sendable {
    /// One instrument, or nil when the token is not in the cache.
    func instrument(token: Int64) async throws -> InstrumentRecord?
    /// The instruments among `tokens` that are in the cache, by token.
    func instruments(tokens: [Int64]) async throws -> [Int64: InstrumentRecord]
    /// How many instruments are cached.
    func count() async throws -> Int
    /// Inserts or updates every instrument of a dump in one transaction.
    /// - Returns: The number of rows written.
    func store(_ instruments: [KiteInstrument]) async throws -> Int
}
