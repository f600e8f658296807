import BrokerWire
import Foundation
import Shared
import SharedInstruments
import SharedPostgres

/// A run of missing minutes of one instrument, `[start, end]` inclusive minute starts (Unix seconds).
struct BarGap: Sendable, Hashable {
    var instrumentToken: Int64
    var start: Int64
    var end: Int64
    var minutes: Int
}

/// PostgreSQL side of backfill: the bars it writes, the gaps it looks for, its jobs and runs. SQL only with bound parameters.
struct BackfillStore: Sendable {
    let postgres: PostgresClient

    // MARK: Bars

    /// The newest stored bar of an instrument not older than `notBefore`, of any source or only of `source`.
    func lastBar(token: Int64, notBefore: Date, source: String? = nil) async throws -> Date? {
        let rows = try await postgres.query(
            "SELECT max(bucket) AS last FROM bars_1m WHERE instrument_token = $1 AND bucket >= $2 AND ($3::text IS NULL OR source = $3)",
            [token, notBefore, source]
        )
        return try rows.first?.decodeIfPresent(Date.self, "last")
    }

    /// Upserts candles as `source='backfill'`: COPY into a temporary table, then one `INSERT ... ON CONFLICT DO UPDATE`.
    /// The broker's candle wins over a tick-built bar of the same minute; an identical backfill (or repaired) bar is left
    /// untouched, so a repaired minute keeps its label unless the broker's candle changed.
    /// - Returns: Rows inserted or changed.
    func upsert(token: Int64, candles: [KiteCandle]) async throws -> Int {
        guard !candles.isEmpty else { return 0 }
        return try await postgres.transaction { connection in
            _ = try await connection.execute(
                """
                CREATE TEMP TABLE IF NOT EXISTS backfill_stage (
                    instrument_token bigint, bucket timestamptz, open double precision, high double precision,
                    low double precision, close double precision, volume bigint, oi bigint
                ) ON COMMIT DELETE ROWS
                """
            )
            _ = try await connection.copyIn(
                table: "backfill_stage",
                columns: ["instrument_token", "bucket", "open", "high", "low", "close", "volume", "oi"],
                rows: candles.map { candle -> [(any PostgresEncodable)?] in
                    [token, Date(timeIntervalSince1970: TimeInterval(candle.timestamp)), candle.open, candle.high, candle.low,
                     candle.close, candle.volume, candle.oi ?? 0]
                }
            )
            return try await connection.execute(
                """
                INSERT INTO bars_1m AS b (instrument_token, bucket, open, high, low, close, volume, oi, source, updated_at)
                SELECT DISTINCT ON (instrument_token, bucket) instrument_token, bucket, open, high, low, close, volume, oi, 'backfill', now()
                FROM backfill_stage ORDER BY instrument_token, bucket
                ON CONFLICT (instrument_token, bucket) DO UPDATE
                SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close,
                    volume = EXCLUDED.volume, oi = EXCLUDED.oi, source = 'backfill', updated_at = now()
                WHERE b.source = 'ticks'
                   OR (b.open, b.high, b.low, b.close, b.volume, b.oi)
                      IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume, EXCLUDED.oi)
                """
            )
        }
    }

    /// Records complete minutes the broker had no candle for, so the gap finder does not ask again.
    func recordEmptyRanges(token: Int64, ranges: [(start: Int64, end: Int64)]) async throws {
        for range in ranges {
            try await postgres.execute(
                """
                INSERT INTO backfill_empty_ranges (instrument_token, range_start, range_end) VALUES ($1, $2, $3)
                ON CONFLICT (instrument_token, range_start) DO UPDATE SET range_end = greatest(backfill_empty_ranges.range_end, EXCLUDED.range_end)
                """,
                [token, Date(timeIntervalSince1970: TimeInterval(range.start)), Date(timeIntervalSince1970: TimeInterval(range.end))]
            )
        }
    }

    /// Drops empty-range records older than `before` (they are outside every lookback).
    func pruneEmptyRanges(before: Date) async throws {
        try await postgres.execute("DELETE FROM backfill_empty_ranges WHERE range_end < $1", [before])
    }

    /// Missing session minutes of the given instruments in `[from, to)`: expected minutes (`generate_series`, filtered
    /// by the IST session of the instrument's exchange unless `always`) that have no bar and are not known-empty,
    /// grouped into runs (gaps-and-islands).
    func gaps(tokens: [Int64], from: Date, to: Date, mode: SessionCalendar.Mode) async throws -> [BarGap] {
        guard !tokens.isEmpty else { return [] }
        let instruments = try await PostgresInstrumentCatalog(postgres: postgres).instruments(tokens: tokens)
        let rows = try await postgres.query(
            """
            WITH tokens AS (
                SELECT t.token, t.exchange FROM unnest($1::bigint[], $5::text[]) AS t(token, exchange)
            ),
            expected AS (
                SELECT tk.token, m AS minute
                FROM tokens tk
                CROSS JOIN generate_series($2::timestamptz, $3::timestamptz - interval '1 minute', interval '1 minute') AS m
                WHERE $4::bool OR (
                    extract(isodow FROM (m AT TIME ZONE 'UTC') + interval '330 minutes') < 6
                    AND ((m AT TIME ZONE 'UTC') + interval '330 minutes')::time
                        >= CASE WHEN tk.exchange LIKE 'MCX%' THEN time '09:00' ELSE time '09:15' END
                    AND ((m AT TIME ZONE 'UTC') + interval '330 minutes')::time
                        < CASE WHEN tk.exchange LIKE 'MCX%' THEN time '23:30' ELSE time '15:30' END
                )
            ),
            missing AS (
                SELECT e.token, e.minute FROM expected e
                WHERE NOT EXISTS (SELECT 1 FROM bars_1m b WHERE b.instrument_token = e.token AND b.bucket = e.minute)
                  AND NOT EXISTS (
                      SELECT 1 FROM backfill_empty_ranges r
                      WHERE r.instrument_token = e.token AND e.minute >= r.range_start AND e.minute < r.range_end
                  )
            ),
            islands AS (
                SELECT token, minute, minute - (row_number() OVER (PARTITION BY token ORDER BY minute)) * interval '1 minute' AS grp
                FROM missing
            )
            SELECT token, min(minute) AS gap_start, max(minute) AS gap_end, count(*) AS minutes
            FROM islands GROUP BY token, grp ORDER BY token, gap_start
            """,
            [PostgresArrayLiteral.bigints(tokens), from, to, mode == .always, PostgresArrayLiteral.texts(tokens.map { instruments[$0]?.exchange ?? "" })]
        )
        return try rows.map { row in
            BarGap(
                instrumentToken: try row.decode(Int64.self, "token"),
                start: Int64(try row.decode(Date.self, "gap_start").timeIntervalSince1970),
                end: Int64(try row.decode(Date.self, "gap_end").timeIntervalSince1970),
                minutes: Int(try row.decode(Int64.self, "minutes"))
            )
        }
    }

    /// Instruments believed subscribed when TickerService cannot say: the latest event per token is a creation, plus
    /// instruments with tick-built bars since `ticksSince` whose latest event is not a removal.
    func knownActiveTokens(ticksSince: Date) async throws -> [Int64] {
        let rows = try await postgres.query(
            """
            WITH latest AS (
                SELECT DISTINCT ON (instrument_token) instrument_token, event_type
                FROM processed_events
                ORDER BY instrument_token, event_time DESC NULLS LAST, processed_at DESC
            )
            SELECT instrument_token FROM latest WHERE event_type = 'subscription_created'
            UNION
            SELECT DISTINCT b.instrument_token FROM bars_1m b
            WHERE b.bucket >= $1 AND b.source = 'ticks'
              AND NOT EXISTS (SELECT 1 FROM latest l WHERE l.instrument_token = b.instrument_token AND l.event_type = 'subscription_removed')
            ORDER BY 1
            """,
            [ticksSince]
        )
        return try rows.map { try $0.decode(Int64.self, "instrument_token") }
    }

    // MARK: Jobs

    /// Marks jobs as running and counts the attempt.
    func startJobs(_ ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await postgres.execute(
            "UPDATE backfill_jobs SET status = 'running', attempts = attempts + 1 WHERE id = ANY($1::bigint[])",
            [PostgresArrayLiteral.bigints(ids)]
        )
    }

    /// Records how jobs ended.
    func finishJobs(_ ids: [Int64], status: String, barsWritten: Int, error: String?) async throws {
        guard !ids.isEmpty else { return }
        try await postgres.execute(
            "UPDATE backfill_jobs SET status = $2, bars_written = $3, last_error = $4, finished_at = now() WHERE id = ANY($1::bigint[])",
            [PostgresArrayLiteral.bigints(ids), status, barsWritten, error]
        )
    }

    // MARK: Leases (see BackfillJobLeases)

    /// Takes or renews this instance's lease.
    func heartbeat(instance: String) async throws {
        try await postgres.execute(
            """
            INSERT INTO backfill_instances (instance_id) VALUES ($1)
            ON CONFLICT (instance_id) DO UPDATE SET heartbeat_at = now()
            """,
            [instance]
        )
    }

    /// Adopts open jobs whose owner holds no live lease (it crashed, or released its lease at shutdown): they become
    /// this instance's, `pending`, and are returned to be resumed. Leases older than a day are removed.
    /// - Parameters:
    ///   - instance: The adopting instance's lease.
    ///   - leaseTTL: How long after its last heartbeat a lease is dead.
    ///   - limit: At most this many jobs.
    func adoptOrphanedJobs(instance: String, leaseTTL: Duration, limit: Int) async throws -> [OpenBackfillJob] {
        try await postgres.execute("DELETE FROM backfill_instances WHERE heartbeat_at < now() - interval '1 day'")
        let rows = try await postgres.query(
            """
            WITH orphans AS (
                SELECT j.id FROM backfill_jobs j
                WHERE j.status IN ('pending', 'running') AND (j.owner IS NULL OR NOT EXISTS (
                    SELECT 1 FROM backfill_instances i
                    WHERE i.instance_id = j.owner AND i.heartbeat_at > now() - make_interval(secs => $2::float8)))
                ORDER BY j.created_at LIMIT $3 FOR UPDATE SKIP LOCKED
            )
            UPDATE backfill_jobs j SET owner = $1, status = 'pending' FROM orphans o WHERE j.id = o.id
            RETURNING j.id, j.instrument_token, j.reason, j.event_time
            """,
            [instance, leaseTTL.backfillSeconds, limit]
        )
        return try rows.map {
            OpenBackfillJob(
                id: try $0.decode(Int64.self, "id"), token: try $0.decode(Int64.self, "instrument_token"),
                reason: BackfillRequest.Reason(rawValue: try $0.decode(String.self, "reason")) ?? .subscription,
                eventTime: try $0.decodeIfPresent(Date.self, "event_time")
            )
        }
    }

    /// Gives up this instance's lease at shutdown: its unfinished jobs become `pending` again, and any live instance
    /// (or the next start) adopts them at once instead of after the lease would have expired.
    func release(instance: String) async throws {
        try await postgres.transaction { connection in
            _ = try await connection.execute("UPDATE backfill_jobs SET status = 'pending' WHERE owner = $1 AND status = 'running'", [instance])
            _ = try await connection.execute("DELETE FROM backfill_instances WHERE instance_id = $1", [instance])
        }
    }

    // MARK: Runs

    /// Claims the periodic cycle that starts at `cycleStart` for `instance`: true when this instance is to run it. A
    /// cycle already claimed by an instance with a live lease is not taken; one claimed by an instance whose lease
    /// expired or was released (a crash, a restart) is taken over. Claims older than a day are removed.
    /// - Parameters:
    ///   - cycleStart: The slot's start (``CycleSlot``).
    ///   - instance: This process's lease (``BackfillJobLeases``).
    ///   - leaseTTL: How long after its last heartbeat a lease is dead.
    func claimCycle(startingAt cycleStart: Date, instance: String, leaseTTL: Duration) async throws -> Bool {
        try await postgres.execute("DELETE FROM backfill_cycle_claims WHERE cycle_start < now() - interval '1 day'")
        let rows = try await postgres.query(
            """
            INSERT INTO backfill_cycle_claims AS c (cycle_start, claimed_by) VALUES ($1, $2)
            ON CONFLICT (cycle_start) DO UPDATE SET claimed_by = EXCLUDED.claimed_by, claimed_at = now()
            WHERE NOT EXISTS (
                SELECT 1 FROM backfill_instances i
                WHERE i.instance_id = c.claimed_by AND i.heartbeat_at > now() - make_interval(secs => $3::float8))
            RETURNING claimed_by
            """,
            [cycleStart, instance, leaseTTL.backfillSeconds]
        )
        return !rows.isEmpty
    }

    func startRun(tokenSource: String, total: Int) async throws -> Int64 {
        let rows = try await postgres.query(
            "INSERT INTO backfill_runs (token_source, instruments_total) VALUES ($1, $2) RETURNING id", [tokenSource, total]
        )
        return try rows[0].decode(Int64.self, "id")
    }

    func finishRun(id: Int64, progress: BackfillCycleProgress) async throws {
        try await postgres.execute(
            """
            UPDATE backfill_runs SET finished_at = now(), instruments_total = $2, instruments_done = $3, gaps_found = $4,
                bars_written = $5, failures = $6, error = $7 WHERE id = $1
            """,
            [id, progress.instrumentsTotal, progress.instrumentsDone, progress.gapsFound, progress.barsWritten, progress.failures, progress.error]
        )
    }
}

/// An open `backfill_jobs` row taken over by this instance.
struct OpenBackfillJob: Sendable, Equatable {
    var id: Int64
    var token: Int64
    var reason: BackfillRequest.Reason
    var eventTime: Date?
}
