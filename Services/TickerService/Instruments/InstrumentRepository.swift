import BrokerWire

/// The write side of the instrument table, which TickerService owns: it loads the broker's dump. Reads go through
/// `SharedInstruments`' ``InstrumentCatalog`` (``PostgresInstrumentCatalog``), as in every other service.
protocol InstrumentRepository: Sendable {
    /// How many instruments are cached.
    func count() async throws -> Int
    /// Inserts or updates every instrument of a dump in one transaction.
    /// - Returns: The number of rows written.
    func store(_ instruments: [KiteInstrument]) async throws -> Int
}
