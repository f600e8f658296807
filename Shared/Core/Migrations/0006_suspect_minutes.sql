-- Suspect minutes and their repair from the broker's candles (issue 15; docs/bars.md, "Suspect minutes and repair").

-- A minute of an instrument whose ticks may be incomplete (a feed gap touched it, or the tick consumer skipped one of
-- its entries). MinuteRepairService fetches the broker's candle for it once the minute has closed, writes it as
-- source = 'repaired' and deletes the row in the same transaction. reasons: the FeedGap reasons that marked it.
CREATE TABLE IF NOT EXISTS suspect_minutes (
    instrument_token bigint NOT NULL,
    bucket           timestamptz NOT NULL,
    reasons          text[] NOT NULL,
    first_marked_at  timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    last_error       text,
    PRIMARY KEY (instrument_token, bucket)
);
CREATE INDEX IF NOT EXISTS suspect_minutes_due_idx ON suspect_minutes (next_attempt_at);

-- Every feed gap whose minutes were marked, by its gap_id: inserted in the same transaction as the marks, so a
-- redelivered gap marks nothing twice.
CREATE TABLE IF NOT EXISTS processed_feed_gaps (
    gap_id       text PRIMARY KEY,
    reason       text NOT NULL,
    instruments  integer NOT NULL,
    minutes      integer NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);

-- A minute rewritten from the broker's candle because it was suspect or the reconciler found it different.
ALTER TABLE bars_1m DROP CONSTRAINT IF EXISTS bars_1m_source_check;
ALTER TABLE bars_1m ADD CONSTRAINT bars_1m_source_check CHECK (source IN ('backfill', 'ticks', 'repaired'));

-- The reconciler samples recently closed tick minutes across instruments: by time, not by instrument.
CREATE INDEX IF NOT EXISTS bars_1m_ticks_bucket_idx ON bars_1m (bucket) WHERE source = 'ticks';

-- The derived views: a bin whose minutes all have one source keeps it (now also 'repaired'), else 'mixed'.
CREATE OR REPLACE VIEW bars_5m AS
SELECT instrument_token,
       date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
       (array_agg(open ORDER BY bucket))[1] AS open,
       max(high) AS high,
       min(low) AS low,
       (array_agg(close ORDER BY bucket DESC))[1] AS close,
       sum(volume)::bigint AS volume,
       (array_agg(oi ORDER BY bucket DESC))[1] AS oi,
       CASE WHEN bool_and(source = 'backfill') THEN 'backfill' WHEN bool_and(source = 'ticks') THEN 'ticks'
            WHEN bool_and(source = 'repaired') THEN 'repaired' ELSE 'mixed' END AS source,
       count(*)::integer AS minutes
FROM bars_1m
GROUP BY instrument_token, date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00');

CREATE OR REPLACE VIEW bars_15m AS
SELECT instrument_token,
       date_bin('15 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
       (array_agg(open ORDER BY bucket))[1] AS open,
       max(high) AS high,
       min(low) AS low,
       (array_agg(close ORDER BY bucket DESC))[1] AS close,
       sum(volume)::bigint AS volume,
       (array_agg(oi ORDER BY bucket DESC))[1] AS oi,
       CASE WHEN bool_and(source = 'backfill') THEN 'backfill' WHEN bool_and(source = 'ticks') THEN 'ticks'
            WHEN bool_and(source = 'repaired') THEN 'repaired' ELSE 'mixed' END AS source,
       count(*)::integer AS minutes
FROM bars_1m
GROUP BY instrument_token, date_bin('15 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00');
