import Foundation
import SharedInstruments
import SharedPostgres

/// A bar timeframe served by the APIs: 1-minute bars as stored, 5- and 15-minute bars derived (docs/bars.md).
enum BarTimeframe: String, Sendable, CaseIterable {
    case oneMinute = "1min"
    case fiveMinutes = "5min"
    case fifteenMinutes = "15min"

    /// Accepts `1min`, `1m`, `minute`, `5min`, `5m`, `5minute`, `15min`, `15m`, `15minute`.
    init?(parameter: String) {
        switch parameter.lowercased() {
        case "1min", "1m", "minute", "1minute": self = .oneMinute
        case "5min", "5m", "5minute": self = .fiveMinutes
        case "15min", "15m", "15minute": self = .fifteenMinutes
        default: return nil
        }
    }

    var seconds: Int64 {
        switch self {
        case .oneMinute: 60
        case .fiveMinutes: 300
        case .fifteenMinutes: 900
        }
    }

    /// The PostgreSQL interval literal, bound as text and cast with `::interval`.
    var interval: String { "\(seconds / 60) minutes" }
}

/// One bar as the APIs return it.
/// `GET /bars` shows it as it is (`BarsBody`).
struct StoredBar: Sendable, Equatable, Encodable {
    var time: Date
    var open: Double
    var high: Double
    var low: Double
    var close: Double
    var volume: Int64
    var oi: Int64
    /// `backfill`, `ticks`, `repaired`, or (derived bars only) `mixed`.
    var source: String
    /// Whether the bar will not change any more (``BarFinality``); `GET /bars` always sets it, nil only for rows read
    /// elsewhere (the views, tests).
    var final: Bool? = nil
}

/// An instrument as far as `/bars` needs it.
struct InstrumentRef: Sendable, Equatable {
    var instrumentToken: Int64
    var tradingsymbol: String?
    var exchange: String?
}

extension InstrumentRef {
    /// The reference to an instrument of the catalog.
    init(_ instrument: Instrument) {
        self.init(instrumentToken: instrument.instrumentToken, tradingsymbol: instrument.tradingsymbol, exchange: instrument.exchange)
    }
}

/// Reads bars from `bars_1m` (and the same aggregation as the `bars_5m`/`bars_15m` views).
struct BarRepository: Sendable {
    let postgres: PostgresClient
    /// `REPAIR_WINDOW`: a `ticks` minute without a suspect row is final this long after it closed.
    var repairWindow: Duration = .seconds(120)
    var now: @Sendable () -> Date = { Date() }

    /// Bin origin shared with the views in 0004_bar_views.sql.
    static let origin = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"

    /// The instruments, read from the same database.
    var catalog: any InstrumentCatalog { PostgresInstrumentCatalog(postgres: postgres) }

    /// The instrument by token: from `instruments`, or a bare reference when only bars know it; nil when neither does.
    func instrument(token: Int64) async throws -> InstrumentRef? {
        if let instrument = try await catalog.instrument(token: token) { return InstrumentRef(instrument) }
        let hasBars = try await postgres.query("SELECT 1 FROM bars_1m WHERE instrument_token = $1 LIMIT 1", [token]).first != nil
        return hasBars ? InstrumentRef(instrumentToken: token, tradingsymbol: nil, exchange: nil) : nil
    }

    /// The instrument by exchange and trading symbol (case-insensitive), nil when unknown.
    func instrument(tradingsymbol: String, exchange: String) async throws -> InstrumentRef? {
        try await catalog.instrument(tradingsymbol: tradingsymbol, exchange: exchange).map(InstrumentRef.init)
    }

    /// Bars overlapping `[from, to]`, oldest first.
    func bars(token: Int64, from: Date, to: Date, timeframe: BarTimeframe) async throws -> [StoredBar] {
        let rows: [PostgresRow]
        if timeframe == .oneMinute {
            rows = try await postgres.query(
                """
                SELECT b.bucket AS time, b.open, b.high, b.low, b.close, b.volume, b.oi, b.source,
                       CASE WHEN b.source = 'ticks' THEN b.bucket END AS latest_tick_minute,
                       (CASE WHEN b.source = 'ticks' AND s.bucket IS NOT NULL THEN 1 ELSE 0 END)::bigint AS suspect_tick_minutes
                FROM bars_1m b
                LEFT JOIN suspect_minutes s ON s.instrument_token = b.instrument_token AND s.bucket = b.bucket
                WHERE b.instrument_token = $1 AND b.bucket >= date_bin('1 minute', $2::timestamptz, \(Self.origin)) AND b.bucket <= $3
                ORDER BY b.bucket
                """,
                [token, from, to]
            )
        } else {
            rows = try await postgres.query(
                """
                SELECT date_bin($4::interval, b.bucket, \(Self.origin)) AS time,
                       (array_agg(b.open ORDER BY b.bucket))[1] AS open, max(b.high) AS high, min(b.low) AS low,
                       (array_agg(b.close ORDER BY b.bucket DESC))[1] AS close, sum(b.volume)::bigint AS volume,
                       (array_agg(b.oi ORDER BY b.bucket DESC))[1] AS oi,
                       CASE WHEN bool_and(b.source = 'backfill') THEN 'backfill' WHEN bool_and(b.source = 'ticks') THEN 'ticks'
                            WHEN bool_and(b.source = 'repaired') THEN 'repaired' ELSE 'mixed' END AS source,
                       max(b.bucket) FILTER (WHERE b.source = 'ticks') AS latest_tick_minute,
                       count(*) FILTER (WHERE b.source = 'ticks' AND s.bucket IS NOT NULL)::bigint AS suspect_tick_minutes
                FROM bars_1m b
                LEFT JOIN suspect_minutes s ON s.instrument_token = b.instrument_token AND s.bucket = b.bucket
                WHERE b.instrument_token = $1
                  AND b.bucket >= date_bin($4::interval, $2::timestamptz, \(Self.origin))
                  AND b.bucket < date_bin($4::interval, $3::timestamptz, \(Self.origin)) + $4::interval
                GROUP BY 1
                ORDER BY 1
                """,
                [token, from, to, timeframe.interval]
            )
        }
        let now = now()
        return try rows.map { row in
            var bar = try Self.bar(row)
            bar.final = BarFinality.isFinal(
                latestTickMinute: try row.decodeIfPresent(Date.self, "latest_tick_minute"),
                suspectTickMinutes: try row.decode(Int.self, "suspect_tick_minutes"), now: now, window: repairWindow
            )
            return bar
        }
    }

    /// The stored columns of a bar row (`time`, OHLCV, `oi`, `source`); ``StoredBar/final`` is left nil.
    static func bar(_ row: PostgresRow) throws -> StoredBar {
        StoredBar(
            time: try row.decode(Date.self, "time"),
            open: try row.decode(Double.self, "open"),
            high: try row.decode(Double.self, "high"),
            low: try row.decode(Double.self, "low"),
            close: try row.decode(Double.self, "close"),
            volume: try row.decode(Int64.self, "volume"),
            oi: try row.decode(Int64.self, "oi"),
            source: try row.decode(String.self, "source")
        )
    }
}
