-- Bars from live ticks and the derived 5- and 15-minute bars (docs/bars.md).

-- Merge state of a tick-built bar, so that a minute rebuilt from redelivered entries (after a restart, or by another
-- consumer) merges into the stored bar instead of replacing it. NULL on rows that never were tick bars.
--   tick_open_key / tick_close_key: sortable "exchange second, stream id" of the ticks that set open and close;
--   tick_volume_prev: cumulative day volume at the previous minute's last tick, when known;
--   tick_volume_first / tick_volume_last: cumulative day volume at the minute's first and last tick.
ALTER TABLE bars_1m ADD COLUMN IF NOT EXISTS tick_open_key text;
ALTER TABLE bars_1m ADD COLUMN IF NOT EXISTS tick_close_key text;
ALTER TABLE bars_1m ADD COLUMN IF NOT EXISTS tick_volume_prev bigint;
ALTER TABLE bars_1m ADD COLUMN IF NOT EXISTS tick_volume_first bigint;
ALTER TABLE bars_1m ADD COLUMN IF NOT EXISTS tick_volume_last bigint;

-- Without TimescaleDB (not installable here) the derived timeframes are plain views over bars_1m. Bins start on
-- multiples of 5/15 minutes from 2000-01-01 UTC, which puts them on the IST session's 09:15 grid (IST is UTC+5:30).
-- source: 'backfill' or 'ticks' when every minute has that source, else 'mixed'; minutes: how many 1-minute bars.
CREATE OR REPLACE VIEW bars_5m AS
SELECT instrument_token,
       date_bin('5 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
       (array_agg(open ORDER BY bucket))[1] AS open,
       max(high) AS high,
       min(low) AS low,
       (array_agg(close ORDER BY bucket DESC))[1] AS close,
       sum(volume)::bigint AS volume,
       (array_agg(oi ORDER BY bucket DESC))[1] AS oi,
       CASE WHEN bool_and(source = 'backfill') THEN 'backfill' WHEN bool_and(source = 'ticks') THEN 'ticks' ELSE 'mixed' END AS source,
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
       CASE WHEN bool_and(source = 'backfill') THEN 'backfill' WHEN bool_and(source = 'ticks') THEN 'ticks' ELSE 'mixed' END AS source,
       count(*)::integer AS minutes
FROM bars_1m
GROUP BY instrument_token, date_bin('15 minutes', bucket, TIMESTAMPTZ '2000-01-01 00:00:00+00');

-- Option chains by underlying and expiry (strike order comes from instruments_chain_idx).
CREATE INDEX IF NOT EXISTS instruments_options_idx ON instruments (name, expiry) WHERE instrument_type IN ('CE', 'PE');
