import Foundation
import SharedPostgres

/// One option contract of a chain.
struct OptionContract: Sendable, Hashable {
    var instrumentToken: Int64
    var tradingsymbol: String
    /// `yyyy-MM-dd`.
    var expiry: String
    var strike: Double
    /// `CE` or `PE`.
    var optionType: String
}

/// The latest bar of one option in a timeframe.
struct OptionBarRow: Sendable, Equatable {
    var contract: OptionContract
    /// Start of the bar.
    var time: Date
    var close: Double
    var volume: Int64
    var oi: Int64
}

/// Option-chain and underlying queries over `instruments` and `bars_1m`: options by underlying (`name`), expiry and
/// strike; futures and underlyings by instrument.
struct OptionChainRepository: Sendable {
    let postgres: PostgresClient

    /// Index underlyings whose spot is an index token rather than an equity with the same trading symbol.
    static let indexTokens: [String: Int64] = [
        "NIFTY": 256_265,  // NIFTY 50
        "BANKNIFTY": 260_105,  // NIFTY BANK
        "FINNIFTY": 257_801,  // NIFTY FIN SERVICE
        "MIDCPNIFTY": 288_009,  // NIFTY MID SELECT
        "SENSEX": 265,
        "BANKEX": 274_441,
    ]

    /// Whether any option of the underlying is known.
    func hasOptions(symbol: String) async throws -> Bool {
        try await postgres.query("SELECT 1 FROM instruments WHERE name = $1 AND instrument_type IN ('CE', 'PE') LIMIT 1", [symbol]).first != nil
    }

    /// The next `limit` option expiries on or after `fromDay` (`yyyy-MM-dd`).
    func expiries(symbol: String, fromDay: String, limit: Int) async throws -> [String] {
        try await postgres.query(
            """
            SELECT DISTINCT expiry::text AS expiry FROM instruments
            WHERE name = $1 AND instrument_type IN ('CE', 'PE') AND expiry >= $2::date
            ORDER BY 1 LIMIT $3
            """,
            [symbol, fromDay, limit]
        ).map { try $0.decode(String.self, "expiry") }
    }

    /// Every option of the underlying in the given expiries, by expiry, strike, type.
    func chain(symbol: String, expiries: [String]) async throws -> [OptionContract] {
        try await postgres.query(
            """
            SELECT instrument_token, tradingsymbol, expiry::text AS expiry, strike, instrument_type FROM instruments
            WHERE name = $1 AND instrument_type IN ('CE', 'PE') AND expiry = ANY($2::date[])
            ORDER BY expiry, strike, instrument_type
            """,
            [symbol, PostgresArrayLiteral.texts(expiries)]
        ).map(Self.contract)
    }

    /// The latest bar in `timeframe` of every option of the underlying in the given expiries that has any bar.
    func latestBars(symbol: String, expiries: [String], timeframe: BarTimeframe) async throws -> [OptionBarRow] {
        let rows = try await postgres.query(
            """
            SELECT i.instrument_token, i.tradingsymbol, i.expiry::text AS expiry, i.strike, i.instrument_type,
                   agg.time, agg.close, agg.volume, agg.oi
            FROM instruments i
            CROSS JOIN LATERAL (SELECT max(bucket) AS last FROM bars_1m WHERE instrument_token = i.instrument_token) l
            CROSS JOIN LATERAL (
                SELECT date_bin($3::interval, l.last, \(BarRepository.origin)) AS time,
                       (array_agg(b.close ORDER BY b.bucket DESC))[1] AS close,
                       sum(b.volume)::bigint AS volume,
                       (array_agg(b.oi ORDER BY b.bucket DESC))[1] AS oi
                FROM bars_1m b
                WHERE b.instrument_token = i.instrument_token
                  AND b.bucket >= date_bin($3::interval, l.last, \(BarRepository.origin)) AND b.bucket <= l.last
            ) agg
            WHERE i.name = $1 AND i.instrument_type IN ('CE', 'PE') AND i.expiry = ANY($2::date[]) AND l.last IS NOT NULL
            ORDER BY i.expiry, i.strike, i.instrument_type
            """,
            [symbol, PostgresArrayLiteral.texts(expiries), timeframe.interval]
        )
        return try rows.map { row in
            OptionBarRow(
                contract: try Self.contract(row),
                time: try row.decode(Date.self, "time"),
                close: try row.decode(Double.self, "close"),
                volume: try row.decode(Int64.self, "volume"),
                oi: try row.decode(Int64.self, "oi")
            )
        }
    }

    /// Which of `tokens` have at least one stored 1-minute bar (one index probe per token).
    func tokensWithBars(_ tokens: [Int64]) async throws -> Set<Int64> {
        guard !tokens.isEmpty else { return [] }
        let literal = "{" + tokens.map(String.init).joined(separator: ",") + "}"
        let rows = try await postgres.query(
            """
            SELECT t.token AS instrument_token FROM unnest($1::bigint[]) AS t(token)
            WHERE EXISTS (SELECT 1 FROM bars_1m b WHERE b.instrument_token = t.token)
            """,
            [literal]
        )
        return Set(try rows.map { try $0.decode(Int64.self, "instrument_token") })
    }

    /// The spot instrument of an underlying: the index token for the indices above, else the NSE (or BSE) equity with
    /// trading symbol = the underlying's name.
    func underlyingToken(symbol: String) async throws -> Int64? {
        if let token = Self.indexTokens[symbol] { return token }
        let rows = try await postgres.query(
            """
            SELECT instrument_token FROM instruments
            WHERE tradingsymbol = $1 AND exchange IN ('NSE', 'BSE') AND instrument_type = 'EQ'
            ORDER BY exchange = 'NSE' DESC LIMIT 1
            """,
            [symbol]
        )
        return try rows.first?.decode(Int64.self, "instrument_token")
    }

    /// The close of the instrument's latest 1-minute bar.
    func latestClose(token: Int64) async throws -> Double? {
        let rows = try await postgres.query("SELECT close FROM bars_1m WHERE instrument_token = $1 ORDER BY bucket DESC LIMIT 1", [token])
        return try rows.first?.decode(Double.self, "close")
    }

    private static func contract(_ row: PostgresRow) throws -> OptionContract {
        OptionContract(
            instrumentToken: try row.decode(Int64.self, "instrument_token"),
            tradingsymbol: try row.decode(String.self, "tradingsymbol"),
            expiry: try row.decode(String.self, "expiry"),
            strike: try row.decode(Double.self, "strike"),
            optionType: try row.decode(String.self, "instrument_type")
        )
    }

    /// The contracts within `strikes` strikes of the one nearest `price`, per expiry (calls and puts).
    static func aroundTheMoney(_ chain: [OptionContract], price: Double, strikes: Int) -> [OptionContract] {
        var result: [OptionContract] = []
        for (_, contracts) in Dictionary(grouping: chain, by: \.expiry).sorted(by: { $0.key < $1.key }) {
            let levels = Array(Set(contracts.map(\.strike))).sorted()
            guard let atm = levels.indices.min(by: { abs(levels[$0] - price) < abs(levels[$1] - price) }) else { continue }
            let window = Set(levels[max(0, atm - strikes)...min(levels.count - 1, atm + strikes)])
            result += contracts.filter { window.contains($0.strike) }
        }
        return result
    }
}
