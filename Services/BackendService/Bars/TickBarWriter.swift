import Shared
import SharedPostgres

/// Writes tick-built bars to `bars_1m` in bulk: `COPY` into a session temp table, then one upsert that merges with the
/// stored tick bar and never touches a backfilled one (docs/bars.md, "Which source wins").
struct TickBarWriter: Sendable {
    let postgres: PostgresClient
    /// `REPAIR_DELAY`: how long after a skipped entry's minute closes its repair is due.
    var suspectDelay: Duration = .seconds(10)

    /// A minute of an instrument whose entry the consumer skipped: suspect (`ticks_skipped`), repaired from the broker.
    struct SkippedMinute: Sendable, Hashable {
        var instrumentToken: Int64
        /// Start of the minute, epoch seconds.
        var minute: Int64
    }

    static let stageColumns = [
        "instrument_token", "bucket", "open", "high", "low", "close", "oi", "open_key", "close_key", "volume_prev", "volume_first", "volume_last",
    ]

    static let createStage = """
        CREATE TEMP TABLE IF NOT EXISTS tick_bars_stage (
            instrument_token bigint NOT NULL, bucket timestamptz NOT NULL,
            open double precision NOT NULL, high double precision NOT NULL, low double precision NOT NULL, close double precision NOT NULL,
            oi bigint, open_key text NOT NULL, close_key text NOT NULL,
            volume_prev bigint, volume_first bigint, volume_last bigint
        ) ON COMMIT DELETE ROWS
        """

    /// The merge: a new row takes the staged bar; an existing tick bar keeps the earliest open and latest close (by
    /// exchange second, then stream id), the extreme high and low, the smallest first and largest last cumulative volume,
    /// and the largest known cumulative volume of the previous minute (also looked up in the stored previous minute); a
    /// backfilled row is left alone (`WHERE b.source = 'ticks'`). Volume = last − (previous minute's last, else first).
    static let upsert = """
        INSERT INTO bars_1m AS b (instrument_token, bucket, open, high, low, close, volume, oi, source, updated_at,
                                  tick_open_key, tick_close_key, tick_volume_prev, tick_volume_first, tick_volume_last)
        SELECT s.instrument_token, s.bucket, s.open, s.high, s.low, s.close,
               COALESCE(GREATEST(s.volume_last - COALESCE(prev.value, s.volume_first), 0), 0), COALESCE(s.oi, 0), 'ticks', now(),
               s.open_key, s.close_key, prev.value, s.volume_first, s.volume_last
        FROM tick_bars_stage s
        LEFT JOIN bars_1m p ON p.instrument_token = s.instrument_token AND p.bucket = s.bucket - interval '1 minute'
        CROSS JOIN LATERAL (
            SELECT GREATEST(s.volume_prev, CASE WHEN p.tick_volume_last <= s.volume_first THEN p.tick_volume_last END) AS value
        ) prev
        ON CONFLICT (instrument_token, bucket) DO UPDATE SET
            open = CASE WHEN b.tick_open_key IS NULL OR EXCLUDED.tick_open_key < b.tick_open_key THEN EXCLUDED.open ELSE b.open END,
            high = GREATEST(b.high, EXCLUDED.high),
            low = LEAST(b.low, EXCLUDED.low),
            close = CASE WHEN b.tick_close_key IS NULL OR EXCLUDED.tick_close_key >= b.tick_close_key THEN EXCLUDED.close ELSE b.close END,
            oi = CASE WHEN b.oi = 0 THEN EXCLUDED.oi
                      WHEN EXCLUDED.oi <> 0 AND (b.tick_close_key IS NULL OR EXCLUDED.tick_close_key >= b.tick_close_key) THEN EXCLUDED.oi
                      ELSE b.oi END,
            volume = COALESCE(GREATEST(
                GREATEST(b.tick_volume_last, EXCLUDED.tick_volume_last)
                    - COALESCE(GREATEST(b.tick_volume_prev, EXCLUDED.tick_volume_prev), LEAST(b.tick_volume_first, EXCLUDED.tick_volume_first)),
                0), 0),
            tick_volume_prev = GREATEST(b.tick_volume_prev, EXCLUDED.tick_volume_prev),
            tick_volume_first = LEAST(b.tick_volume_first, EXCLUDED.tick_volume_first),
            tick_volume_last = GREATEST(b.tick_volume_last, EXCLUDED.tick_volume_last),
            tick_open_key = LEAST(b.tick_open_key, EXCLUDED.tick_open_key),
            tick_close_key = GREATEST(b.tick_close_key, EXCLUDED.tick_close_key),
            updated_at = now()
        WHERE b.source = 'ticks'
        """

    /// The advisory lock every tick-bar write takes for its transaction, so that writes of several BackendService
    /// instances (each folding its share of the ticks stream) happen one after the other and each sees what the one
    /// before it committed: a minute's volume is then right whichever instance writes the minute before it first.
    static let writeLockKey: Int64 = 0x7469_636B_6261_7273  // "tickbars"

    /// After the upsert: the minute after each written one, when its volume was counted from a smaller previous
    /// cumulative volume than the written minute's last (that minute's ticks were folded by another instance, or
    /// arrived late), is counted again from it. Volume = last − the largest cumulative volume known before the minute.
    static let recountNextMinute = """
        UPDATE bars_1m n SET
            tick_volume_prev = w.last,
            volume = GREATEST(n.tick_volume_last - w.last, 0),
            updated_at = now()
        FROM (
            SELECT b.instrument_token, b.bucket, b.tick_volume_last AS last
            FROM tick_bars_stage st JOIN bars_1m b ON b.instrument_token = st.instrument_token AND b.bucket = st.bucket
            WHERE b.source = 'ticks' AND b.tick_volume_last IS NOT NULL
        ) w
        WHERE n.instrument_token = w.instrument_token AND n.bucket = w.bucket + interval '1 minute' AND n.source = 'ticks'
          AND w.last <= n.tick_volume_first AND (n.tick_volume_prev IS NULL OR w.last > n.tick_volume_prev)
        """

    /// Writes bars, and marks the minutes of skipped entries suspect, in one transaction (so the entries are
    /// acknowledged only once both are stored).
    /// - Parameters:
    ///   - bars: At most one bar per (instrument, minute).
    ///   - skipped: Minutes of entries that could not be folded in but named their instrument.
    /// - Returns: Rows inserted or merged (backfilled minutes are skipped and not counted).
    func write(_ bars: [TickBar], skipped: Set<SkippedMinute> = []) async throws -> Int {
        guard !bars.isEmpty || !skipped.isEmpty else { return 0 }
        let rows: [[(any PostgresEncodable)?]] = bars.map { bar in
            [
                bar.instrumentToken, bar.bucket, bar.open, bar.high, bar.low, bar.close, bar.openInterest,
                bar.openOrder.key, bar.closeOrder.key, bar.volumePrevious, bar.volumeFirst, bar.volumeLast,
            ]
        }
        let delay = suspectDelay
        return try await postgres.transaction { connection in
            var written = 0
            if !rows.isEmpty {
                _ = try await connection.query("SELECT pg_advisory_xact_lock($1)", [Self.writeLockKey])
                try await connection.execute(Self.createStage)
                _ = try await connection.copyIn(table: "tick_bars_stage", columns: Self.stageColumns, rows: rows)
                written = try await connection.execute(Self.upsert)
                _ = try await connection.execute(Self.recountNextMinute)
            }
            if !skipped.isEmpty {
                // The minute after too: its volume counts from the skipped minute's last cumulative volume.
                let minutes = Array(skipped)
                _ = try await SuspectMinuteStore.mark(
                    on: connection, tokens: minutes.flatMap { [$0.instrumentToken, $0.instrumentToken] },
                    minutes: minutes.flatMap { [$0.minute, $0.minute + 60] }, reason: .ticksSkipped, delay: delay
                )
            }
            return written
        }
    }
}

extension TickBarWriter {
    /// Marks `minutes` of every token in `tokens` suspect for ticks the stream trimmed unread (``TickBarFolder/trimmed(_:)``).
    /// - Returns: Rows inserted or updated.
    func markTrimmed(tokens: Set<Int64>, minutes: [Int64]) async throws -> Int {
        guard !tokens.isEmpty, !minutes.isEmpty else { return 0 }
        var tokenColumn: [Int64] = []
        var minuteColumn: [Int64] = []
        tokenColumn.reserveCapacity(tokens.count * minutes.count)
        minuteColumn.reserveCapacity(tokens.count * minutes.count)
        for token in tokens {
            for minute in minutes {
                tokenColumn.append(token)
                minuteColumn.append(minute)
            }
        }
        return try await postgres.withConnection { connection in
            try await SuspectMinuteStore.mark(on: connection, tokens: tokenColumn, minutes: minuteColumn, reason: .ticksTrimmed, delay: suspectDelay)
        }
    }
}
