import BrokerWire
import SharedPostgres

/// ``InstrumentRepository`` over the `instruments` table (the dump's COPY and upsert).
struct PostgresInstrumentRepository: InstrumentRepository {
    let postgres: PostgresClient

    func count() async throws -> Int {
        try await postgres.query("SELECT count(*) AS n FROM instruments").first?.decode(Int.self, "n") ?? 0
    }

    func store(_ instruments: [KiteInstrument]) async throws -> Int {
        guard !instruments.isEmpty else { return 0 }
        // COPY into a staging table, then one upsert: 100k+ rows in a couple of seconds, and readers see either the
        // old or the new dump, never half of it.
        return try await postgres.transaction { connection in
            try await connection.execute(
                "CREATE TEMP TABLE instruments_staging (LIKE instruments INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            let rows = instruments.lazy.map { instrument -> [(any PostgresEncodable)?] in
                [
                    Int64(instrument.instrumentToken), Int64(instrument.exchangeToken), instrument.tradingsymbol, instrument.name,
                    instrument.lastPrice, instrument.expiry?.iso, instrument.strike, instrument.tickSize, instrument.lotSize,
                    instrument.instrumentType, instrument.segment, instrument.exchange,
                ]
            }
            _ = try await connection.copyIn(
                table: "instruments_staging",
                columns: [
                    "instrument_token", "exchange_token", "tradingsymbol", "name", "last_price", "expiry", "strike", "tick_size",
                    "lot_size", "instrument_type", "segment", "exchange",
                ],
                rows: rows
            )
            // A dump may list a token twice (it should not); the last row wins rather than the upsert failing.
            return try await connection.execute(
                """
                INSERT INTO instruments (instrument_token, exchange_token, tradingsymbol, name, last_price, expiry, strike, tick_size,
                                         lot_size, instrument_type, segment, exchange, updated_at)
                SELECT DISTINCT ON (instrument_token) instrument_token, exchange_token, tradingsymbol, name, last_price, expiry, strike,
                       tick_size, lot_size, instrument_type, segment, exchange, now()
                FROM instruments_staging
                ORDER BY instrument_token
                ON CONFLICT (instrument_token) DO UPDATE SET
                    exchange_token = EXCLUDED.exchange_token, tradingsymbol = EXCLUDED.tradingsymbol, name = EXCLUDED.name,
                    last_price = EXCLUDED.last_price, expiry = EXCLUDED.expiry, strike = EXCLUDED.strike,
                    tick_size = EXCLUDED.tick_size, lot_size = EXCLUDED.lot_size, instrument_type = EXCLUDED.instrument_type,
                    segment = EXCLUDED.segment, exchange = EXCLUDED.exchange, updated_at = now()
                """
            )
        }
    }
}
