import Foundation
import SharedPostgres

/// ``InstrumentCatalog`` over the `instruments` table, every value a bound parameter.
public struct PostgresInstrumentCatalog: InstrumentCatalog {
    let postgres: PostgresClient

    /// - Parameters:
    ///   - postgres: The database holding the migrated `instruments` table.
    public init(postgres: PostgresClient) {
        self.postgres = postgres
    }

    /// The columns every lookup reads, in ``Instrument``'s shape (`expiry` as `yyyy-mm-dd` text).
    static let columns = """
        instrument_token, exchange_token, tradingsymbol, name, expiry::text AS expiry, strike, tick_size, lot_size,
        instrument_type, segment, exchange, updated_at
        """
    /// Binds ``InstrumentType/options`` as one `text[]` parameter.
    static let optionTypes = PostgresArrayLiteral.texts(InstrumentType.options)

    public func instrument(token: Int64) async throws -> Instrument? {
        try await first("SELECT \(Self.columns) FROM instruments WHERE instrument_token = $1", [token])
    }

    public func instruments(tokens: [Int64]) async throws -> [Int64: Instrument] {
        guard !tokens.isEmpty else { return [:] }
        let rows = try await postgres.query(
            "SELECT \(Self.columns) FROM instruments WHERE instrument_token = ANY($1::bigint[])", [PostgresArrayLiteral.bigints(tokens)]
        )
        var result: [Int64: Instrument] = [:]
        result.reserveCapacity(rows.count)
        for row in rows {
            let instrument = try Self.instrument(row)
            result[instrument.instrumentToken] = instrument
        }
        return result
    }

    public func instrument(exchangeToken: Int64, exchange: String) async throws -> Instrument? {
        try await first(
            "SELECT \(Self.columns) FROM instruments WHERE exchange_token = $1 AND exchange = $2 LIMIT 1", [exchangeToken, exchange.uppercased()]
        )
    }

    public func instrument(tradingsymbol: String, exchange: String) async throws -> Instrument? {
        try await first(
            "SELECT \(Self.columns) FROM instruments WHERE exchange = $1 AND upper(tradingsymbol) = $2 LIMIT 1",
            [exchange.uppercased(), tradingsymbol.uppercased()]
        )
    }

    public func hasOptions(underlying: String) async throws -> Bool {
        try await postgres.query(
            "SELECT 1 FROM instruments WHERE name = $1 AND instrument_type = ANY($2::text[]) LIMIT 1", [underlying, Self.optionTypes]
        ).first != nil
    }

    public func optionExpiries(underlying: String, fromDay: String, limit: Int) async throws -> [String] {
        try await postgres.query(
            """
            SELECT DISTINCT expiry::text AS expiry FROM instruments
            WHERE name = $1 AND instrument_type = ANY($2::text[]) AND expiry >= $3::date
            ORDER BY 1 LIMIT $4
            """,
            [underlying, Self.optionTypes, fromDay, limit]
        ).map { try $0.decode(String.self, "expiry") }
    }

    public func options(underlying: String, expiries: [String]) async throws -> [Instrument] {
        guard !expiries.isEmpty else { return [] }
        return try await postgres.query(
            """
            SELECT \(Self.columns) FROM instruments
            WHERE name = $1 AND instrument_type = ANY($2::text[]) AND expiry = ANY($3::date[])
            ORDER BY expiry, strike, instrument_type
            """,
            [underlying, Self.optionTypes, PostgresArrayLiteral.texts(expiries)]
        ).map(Self.instrument)
    }

    public func futures(underlying: String, fromDay: String) async throws -> [Instrument] {
        try await postgres.query(
            """
            SELECT \(Self.columns) FROM instruments
            WHERE name = $1 AND instrument_type = $2 AND expiry >= $3::date
            ORDER BY expiry, exchange, instrument_token
            """,
            [underlying, InstrumentType.future, fromDay]
        ).map(Self.instrument)
    }

    public func spotToken(underlying: String) async throws -> Int64? {
        if let token = IndexSpot.tokens[underlying] { return token }
        let rows = try await postgres.query(
            """
            SELECT instrument_token FROM instruments
            WHERE tradingsymbol = $1 AND exchange IN ('NSE', 'BSE') AND instrument_type = $2
            ORDER BY exchange = 'NSE' DESC LIMIT 1
            """,
            [underlying, InstrumentType.equity]
        )
        return try rows.first?.decode(Int64.self, "instrument_token")
    }

    public func allInstruments() async throws -> [Instrument] {
        try await postgres.query("SELECT \(Self.columns) FROM instruments ORDER BY instrument_token", []).map(Self.instrument)
    }

    private func first(_ sql: String, _ binds: [(any PostgresEncodable)?]) async throws -> Instrument? {
        try await postgres.query(sql, binds).first.map(Self.instrument)
    }

    /// Reads one row selected with ``columns``.
    static func instrument(_ row: PostgresRow) throws -> Instrument {
        Instrument(
            instrumentToken: try row.decode(Int64.self, "instrument_token"),
            exchangeToken: try row.decode(Int64.self, "exchange_token"),
            tradingsymbol: try row.decode(String.self, "tradingsymbol"),
            name: try row.decode(String.self, "name"),
            expiry: try row.decodeIfPresent(String.self, "expiry"),
            strike: try row.decode(Double.self, "strike"),
            tickSize: try row.decode(Double.self, "tick_size"),
            lotSize: try row.decode(Int.self, "lot_size"),
            instrumentType: try row.decode(String.self, "instrument_type"),
            segment: try row.decode(String.self, "segment"),
            exchange: try row.decode(String.self, "exchange"),
            updatedAt: try row.decode(Date.self, "updated_at")
        )
    }
}
