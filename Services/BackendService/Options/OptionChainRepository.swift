import Foundation
import SharedInstruments
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

extension OptionContract {
    /// The contract of an option from the catalog.
    init(_ option: Instrument) {
        self.init(
            instrumentToken: option.instrumentToken, tradingsymbol: option.tradingsymbol, expiry: option.expiry ?? "", strike: option.strike,
            optionType: option.instrumentType
        )
    }
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

/// Option-chain and underlying queries: which options, expiries and spot an underlying has come from the shared
/// ``InstrumentCatalog``; their bars from `bars_1m`.
struct OptionChainRepository: Sendable {
    let postgres: PostgresClient

    /// The instruments, read from the same database.
    var catalog: any InstrumentCatalog { PostgresInstrumentCatalog(postgres: postgres) }

    /// Whether any option of the underlying is known.
    func hasOptions(symbol: String) async throws -> Bool {
        try await catalog.hasOptions(underlying: symbol)
    }

    /// The next `limit` option expiries on or after `fromDay` (`yyyy-MM-dd`).
    func expiries(symbol: String, fromDay: String, limit: Int) async throws -> [String] {
        try await catalog.optionExpiries(underlying: symbol, fromDay: fromDay, limit: limit)
    }

    /// Every option of the underlying in the given expiries, by expiry, strike, type.
    func chain(symbol: String, expiries: [String]) async throws -> [OptionContract] {
        try await catalog.options(underlying: symbol, expiries: expiries).map(OptionContract.init)
    }

    /// The latest bar in `timeframe` of every option of the underlying in the given expiries that has any bar, in the
    /// chain's order (expiry, strike, type).
    func latestBars(symbol: String, expiries: [String], timeframe: BarTimeframe) async throws -> [OptionBarRow] {
        let chain = try await chain(symbol: symbol, expiries: expiries)
        guard !chain.isEmpty else { return [] }
        let rows = try await postgres.query(
            """
            SELECT t.token AS instrument_token, agg.time, agg.close, agg.volume, agg.oi
            FROM unnest($1::bigint[]) AS t(token)
            CROSS JOIN LATERAL (SELECT max(bucket) AS last FROM bars_1m WHERE instrument_token = t.token) l
            CROSS JOIN LATERAL (
                SELECT date_bin($2::interval, l.last, \(BarRepository.origin)) AS time,
                       (array_agg(b.close ORDER BY b.bucket DESC))[1] AS close,
                       sum(b.volume)::bigint AS volume,
                       (array_agg(b.oi ORDER BY b.bucket DESC))[1] AS oi
                FROM bars_1m b
                WHERE b.instrument_token = t.token
                  AND b.bucket >= date_bin($2::interval, l.last, \(BarRepository.origin)) AND b.bucket <= l.last
            ) agg
            WHERE l.last IS NOT NULL
            """,
            [PostgresArrayLiteral.bigints(chain.map(\.instrumentToken)), timeframe.interval]
        )
        var latest: [Int64: (time: Date, close: Double, volume: Int64, oi: Int64)] = [:]
        for row in rows {
            latest[try row.decode(Int64.self, "instrument_token")] = (
                try row.decode(Date.self, "time"), try row.decode(Double.self, "close"), try row.decode(Int64.self, "volume"),
                try row.decode(Int64.self, "oi")
            )
        }
        return chain.compactMap { contract in
            latest[contract.instrumentToken].map { OptionBarRow(contract: contract, time: $0.time, close: $0.close, volume: $0.volume, oi: $0.oi) }
        }
    }

    /// Which of `tokens` have at least one stored 1-minute bar (one index probe per token).
    func tokensWithBars(_ tokens: [Int64]) async throws -> Set<Int64> {
        guard !tokens.isEmpty else { return [] }
        let rows = try await postgres.query(
            """
            SELECT t.token AS instrument_token FROM unnest($1::bigint[]) AS t(token)
            WHERE EXISTS (SELECT 1 FROM bars_1m b WHERE b.instrument_token = t.token)
            """,
            [PostgresArrayLiteral.bigints(tokens)]
        )
        return Set(try rows.map { try $0.decode(Int64.self, "instrument_token") })
    }

    /// The spot instrument of an underlying: its index for the indices, else its NSE (or BSE) equity.
    func underlyingToken(symbol: String) async throws -> Int64? {
        try await catalog.spotToken(underlying: symbol)
    }

    /// The close of the instrument's latest 1-minute bar.
    func latestClose(token: Int64) async throws -> Double? {
        let rows = try await postgres.query("SELECT close FROM bars_1m WHERE instrument_token = $1 ORDER BY bucket DESC LIMIT 1", [token])
        return try rows.first?.decode(Double.self, "close")
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
