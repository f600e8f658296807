import BrokerWire
import Foundation
import Shared
import SharedPostgres

/// PostgreSQL side of suspect minutes (migration 0006): marking them, handing due ones to the repair, writing the
/// broker's candles as `source = 'repaired'`, and what the reconciler compares. SQL only with bound parameters.
struct SuspectMinuteStore: Sendable {
    let postgres: PostgresClient

    // MARK: Marking

    /// Marks `minutes[i]` of `tokens[i]` suspect for `reason`, due `delaySeconds` after each minute closes; a minute
    /// already suspect gains the reason and keeps the later of the two due times (it may be in a repair's hands).
    static let markSQL = """
        INSERT INTO suspect_minutes AS s (instrument_token, bucket, reasons, next_attempt_at)
        SELECT u.token, to_timestamp(u.minute), ARRAY[$3::text], to_timestamp(u.minute) + make_interval(secs => 60 + $4::float8)
        FROM (SELECT DISTINCT token, minute FROM unnest($1::bigint[], $2::bigint[]) AS v(token, minute)) u
        ON CONFLICT (instrument_token, bucket) DO UPDATE SET
            reasons = CASE WHEN EXCLUDED.reasons[1] = ANY(s.reasons) THEN s.reasons ELSE s.reasons || EXCLUDED.reasons END,
            next_attempt_at = GREATEST(s.next_attempt_at, EXCLUDED.next_attempt_at)
        """

    /// Marks minutes on a connection inside the caller's transaction (the tick writer's flush).
    /// - Returns: Rows inserted or updated.
    static func mark(
        on connection: PostgresConnection, tokens: [Int64], minutes: [Int64], reason: FeedGap.Reason, delay: Duration
    ) async throws -> Int {
        guard !tokens.isEmpty else { return 0 }
        return try await connection.execute(
            markSQL,
            [PostgresArrayLiteral.bigints(tokens), PostgresArrayLiteral.bigints(minutes), reason.rawValue, delay.repairSeconds]
        )
    }

    /// Marks the minutes a feed gap touched and records its id, in one transaction.
    ///
    /// A gap touching at most `maxGapMinutes` minutes marks all of them for every instrument, and the minute after
    /// when it may have lost ticks (``FeedGap/suspectMinuteStarts``: that minute's volume is counted from the gap's last
    /// minute). A longer one marks its first and last minute (and the one after) and the minutes between that have a
    /// `ticks` bar: a minute without any bar is a missing minute, which the periodic gap backfill finds anyway.
    /// - Returns: Minutes marked, or nil when the gap was processed before.
    func mark(gap: FeedGap, maxGapMinutes: Int, delay: Duration) async throws -> Int? {
        let touched = gap.touchedMinuteStarts
        guard let first = touched.first, let last = touched.last else { return 0 }
        let following = gap.suspectMinuteStarts.dropFirst(touched.count)
        return try await postgres.transaction { connection in
            let inserted = try await connection.query(
                """
                INSERT INTO processed_feed_gaps (gap_id, reason, instruments, minutes) VALUES ($1, $2, $3, $4)
                ON CONFLICT (gap_id) DO NOTHING RETURNING gap_id
                """,
                [gap.gapID, gap.reason.rawValue, gap.instrumentTokens.count, touched.count + following.count]
            )
            guard !inserted.isEmpty else { return nil }
            var tokens: [Int64] = []
            var minutes: [Int64] = []
            let edges = (touched.count <= maxGapMinutes ? touched : [first, last]) + following
            tokens.reserveCapacity(gap.instrumentTokens.count * edges.count)
            minutes.reserveCapacity(gap.instrumentTokens.count * edges.count)
            for token in gap.instrumentTokens {
                for minute in edges {
                    tokens.append(token)
                    minutes.append(minute)
                }
            }
            if touched.count > maxGapMinutes {
                let between = try await connection.query(
                    """
                    SELECT instrument_token, extract(epoch FROM bucket)::bigint AS minute FROM bars_1m
                    WHERE instrument_token = ANY($1::bigint[]) AND bucket > to_timestamp($2) AND bucket < to_timestamp($3) AND source = 'ticks'
                    """,
                    [PostgresArrayLiteral.bigints(gap.instrumentTokens), first, last]
                )
                for row in between {
                    tokens.append(try row.decode(Int64.self, "instrument_token"))
                    minutes.append(try row.decode(Int64.self, "minute"))
                }
            }
            return try await Self.mark(on: connection, tokens: tokens, minutes: minutes, reason: gap.reason, delay: delay)
        }
    }

    // MARK: Repair

    /// Takes due suspect minutes per instrument, so that a backlog merges into few requests (``RepairPlan/take(due:instruments:perInstrument:maxSpanMinutes:)``
    /// is the same rule in Swift): the `instruments` instruments whose oldest due minute is oldest, and of each ALL its
    /// due minutes from its earliest due one, at most `perInstrument`, within `maxSpanMinutes` (one broker request's
    /// range). They are held for `lease` (another look or instance skips them, `FOR UPDATE SKIP LOCKED`; if this
    /// process dies they are due again after the lease).
    func takeDue(instruments: Int, perInstrument: Int, maxSpanMinutes: Int = RepairPlan.defaultMaxSpanMinutes, lease: Duration) async throws -> [SuspectMinute] {
        let rows = try await postgres.query(
            """
            WITH oldest AS (
                SELECT instrument_token, min(bucket) AS first_bucket FROM suspect_minutes WHERE next_attempt_at <= now()
                GROUP BY instrument_token ORDER BY min(next_attempt_at), instrument_token LIMIT $1
            ), candidates AS (
                SELECT s.instrument_token, s.bucket FROM suspect_minutes s JOIN oldest o ON o.instrument_token = s.instrument_token
                WHERE s.next_attempt_at <= now() AND s.bucket < o.first_bucket + make_interval(mins => $3::int)
                FOR UPDATE OF s SKIP LOCKED
            ), taken AS (
                SELECT instrument_token, bucket FROM (
                    SELECT instrument_token, bucket, row_number() OVER (PARTITION BY instrument_token ORDER BY bucket) AS n FROM candidates
                ) r WHERE n <= $2
            )
            UPDATE suspect_minutes s SET next_attempt_at = now() + make_interval(secs => $4::float8)
            FROM taken d
            WHERE s.instrument_token = d.instrument_token AND s.bucket = d.bucket
            RETURNING s.instrument_token, extract(epoch FROM s.bucket)::bigint AS minute, array_to_string(s.reasons, ',') AS reasons, s.attempts
            """,
            [instruments, perInstrument, maxSpanMinutes, lease.repairSeconds]
        )
        return try rows.map { row in
            SuspectMinute(
                instrumentToken: try row.decode(Int64.self, "instrument_token"), minute: try row.decode(Int64.self, "minute"),
                reasons: try row.decode(String.self, "reasons").split(separator: ",").map(String.init), attempts: try row.decode(Int.self, "attempts")
            )
        }
    }

    /// Suspect minutes due now (the repair backlog).
    func dueCount() async throws -> Int {
        try await postgres.query("SELECT count(*)::bigint AS n FROM suspect_minutes WHERE next_attempt_at <= now()").first?.decode(Int.self, "n") ?? 0
    }

    /// Writes the broker's candles of one instrument as `source = 'repaired'` and deletes the suspect rows of those
    /// minutes, in one transaction. The candle wins over a `ticks` bar, and over any bar whose values differ; an
    /// identical bar is left as it is. OI is kept from the stored bar when the candle carries none.
    /// - Returns: Bars inserted or changed.
    func writeRepaired(token: Int64, candles: [KiteCandle]) async throws -> Int {
        guard !candles.isEmpty else { return 0 }
        return try await postgres.transaction { connection in
            let written = try await Self.upsertRepaired(on: connection, token: token, candles: candles, onlyOverTicks: false)
            _ = try await connection.execute(
                "DELETE FROM suspect_minutes WHERE instrument_token = $1 AND bucket = ANY(SELECT to_timestamp(unnest($2::bigint[])))",
                [token, PostgresArrayLiteral.bigints(candles.map(\.timestamp))]
            )
            return written
        }
    }

    /// The upsert of repaired candles.
    /// - Parameter onlyOverTicks: Replace only `ticks` bars (the reconciler must not rewrite a minute backfill or a
    ///   repair wrote meanwhile).
    static func upsertRepaired(on connection: PostgresConnection, token: Int64, candles: [KiteCandle], onlyOverTicks: Bool) async throws -> Int {
        try await connection.execute(
            """
            INSERT INTO bars_1m AS b (instrument_token, bucket, open, high, low, close, volume, oi, source, updated_at)
            SELECT $1, to_timestamp(u.minute), u.open, u.high, u.low, u.close, u.volume, COALESCE(u.oi, stored.oi, 0), 'repaired', now()
            FROM unnest($2::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::bigint[], $8::bigint[])
                 AS u(minute, open, high, low, close, volume, oi)
            LEFT JOIN bars_1m stored ON stored.instrument_token = $1 AND stored.bucket = to_timestamp(u.minute)
            ON CONFLICT (instrument_token, bucket) DO UPDATE
            SET open = EXCLUDED.open, high = EXCLUDED.high, low = EXCLUDED.low, close = EXCLUDED.close, volume = EXCLUDED.volume,
                oi = EXCLUDED.oi, source = 'repaired', updated_at = now()
            WHERE (b.source = 'ticks' OR NOT $9::bool)
              AND (b.source = 'ticks' OR (b.open, b.high, b.low, b.close, b.volume)
                   IS DISTINCT FROM (EXCLUDED.open, EXCLUDED.high, EXCLUDED.low, EXCLUDED.close, EXCLUDED.volume))
            """,
            [
                token, PostgresArrayLiteral.bigints(candles.map(\.timestamp)), Self.doubles(candles.map(\.open)), Self.doubles(candles.map(\.high)),
                Self.doubles(candles.map(\.low)), Self.doubles(candles.map(\.close)), PostgresArrayLiteral.bigints(candles.map(\.volume)),
                PostgresArrayLiteral.optionalInts(candles.map { $0.oi.map(Int.init) }), onlyOverTicks,
            ]
        )
    }

    /// Minutes the broker had no candle for, even though they closed long enough ago: after `emptyAttempts` answers
    /// the broker's record wins — the minute had no trade. Its `ticks` bar is deleted, the minute is recorded in
    /// `backfill_empty_ranges` (so the gap finder does not ask for it) and the suspect row goes, in one transaction.
    /// - Returns: Tick bars deleted.
    func resolveWithoutCandle(token: Int64, minutes: [Int64]) async throws -> Int {
        guard !minutes.isEmpty else { return 0 }
        let list = PostgresArrayLiteral.bigints(minutes)
        return try await postgres.transaction { connection in
            let deleted = try await connection.execute(
                "DELETE FROM bars_1m WHERE instrument_token = $1 AND source = 'ticks' AND bucket = ANY(SELECT to_timestamp(unnest($2::bigint[])))",
                [token, list]
            )
            _ = try await connection.execute(
                """
                INSERT INTO backfill_empty_ranges (instrument_token, range_start, range_end)
                SELECT $1, to_timestamp(m), to_timestamp(m + 60) FROM unnest($2::bigint[]) AS m
                ON CONFLICT (instrument_token, range_start) DO UPDATE SET range_end = greatest(backfill_empty_ranges.range_end, EXCLUDED.range_end)
                """,
                [token, list]
            )
            _ = try await connection.execute(
                "DELETE FROM suspect_minutes WHERE instrument_token = $1 AND bucket = ANY(SELECT to_timestamp(unnest($2::bigint[])))", [token, list]
            )
            return deleted
        }
    }

    /// Counts a failed or empty attempt and makes the minutes due again after `retryAfter`.
    func reschedule(token: Int64, minutes: [Int64], retryAfter: Duration, error: String) async throws {
        guard !minutes.isEmpty else { return }
        _ = try await postgres.execute(
            """
            UPDATE suspect_minutes SET attempts = attempts + 1, next_attempt_at = now() + make_interval(secs => $3::float8), last_error = $4
            WHERE instrument_token = $1 AND bucket = ANY(SELECT to_timestamp(unnest($2::bigint[])))
            """,
            [token, PostgresArrayLiteral.bigints(minutes), retryAfter.repairSeconds, String(error.prefix(500))]
        )
    }

    /// Deletes suspect rows without repairing them (a permanent error: the tick bars stay as they are).
    func drop(token: Int64, minutes: [Int64]) async throws {
        guard !minutes.isEmpty else { return }
        _ = try await postgres.execute(
            "DELETE FROM suspect_minutes WHERE instrument_token = $1 AND bucket = ANY(SELECT to_timestamp(unnest($2::bigint[])))",
            [token, PostgresArrayLiteral.bigints(minutes)]
        )
    }

    /// Makes taken minutes due at once (a graceful shutdown hands back what it did not get to).
    func release(token: Int64, minutes: [Int64]) async throws {
        guard !minutes.isEmpty else { return }
        _ = try await postgres.execute(
            "UPDATE suspect_minutes SET next_attempt_at = now() WHERE instrument_token = $1 AND bucket = ANY(SELECT to_timestamp(unnest($2::bigint[])))",
            [token, PostgresArrayLiteral.bigints(minutes)]
        )
    }

    // MARK: Reconciliation

    /// Up to `limit` instruments, at random, with a `ticks` minute in `[from, to]` that is not suspect.
    func reconcileSample(limit: Int, from: Date, to: Date) async throws -> [Int64] {
        try await postgres.query(
            """
            SELECT instrument_token FROM (
                SELECT DISTINCT b.instrument_token FROM bars_1m b
                WHERE b.source = 'ticks' AND b.bucket >= $2 AND b.bucket <= $3
                  AND NOT EXISTS (SELECT 1 FROM suspect_minutes s WHERE s.instrument_token = b.instrument_token AND s.bucket = b.bucket)
            ) t ORDER BY random() LIMIT $1
            """,
            [limit, from, to]
        ).map { try $0.decode(Int64.self, "instrument_token") }
    }

    /// The `ticks` minutes of an instrument in `[from, to]` that are not suspect, as candles (OI left out: the
    /// reconciler compares OHLCV).
    func tickMinutes(token: Int64, from: Date, to: Date) async throws -> [KiteCandle] {
        try await postgres.query(
            """
            SELECT extract(epoch FROM b.bucket)::bigint AS minute, b.open, b.high, b.low, b.close, b.volume FROM bars_1m b
            WHERE b.instrument_token = $1 AND b.source = 'ticks' AND b.bucket >= $2 AND b.bucket <= $3
              AND NOT EXISTS (SELECT 1 FROM suspect_minutes s WHERE s.instrument_token = b.instrument_token AND s.bucket = b.bucket)
            ORDER BY b.bucket
            """,
            [token, from, to]
        ).map { row in
            KiteCandle(
                timestamp: try row.decode(Int64.self, "minute"), open: try row.decode(Double.self, "open"), high: try row.decode(Double.self, "high"),
                low: try row.decode(Double.self, "low"), close: try row.decode(Double.self, "close"), volume: try row.decode(Int64.self, "volume"), oi: nil
            )
        }
    }

    /// Replaces `ticks` bars that differ from the broker's candles (never a bar backfill or a repair wrote meanwhile).
    /// - Returns: Bars changed.
    func writeReconciled(token: Int64, candles: [KiteCandle]) async throws -> Int {
        guard !candles.isEmpty else { return 0 }
        return try await postgres.transaction { connection in
            try await Self.upsertRepaired(on: connection, token: token, candles: candles, onlyOverTicks: true)
        }
    }

    /// `{1.5,2}`: Swift's shortest round-trip spelling, which PostgreSQL reads back to the same double.
    static func doubles(_ values: [Double]) -> String {
        "{" + values.map { "\($0)" }.joined(separator: ",") + "}"
    }
}

extension Duration {
    /// Seconds as a double, for `make_interval(secs => …)`.
    var repairSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
