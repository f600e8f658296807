-- Verification queries: what an operator runs by hand to check the stored data (seed 001's TEST_QUERIES.sql).
--
-- Run one in psql against the platform's database (`. .run/env && psql` for the local stack), with its variables set:
--
--   psql -v day=2025-11-20 -v as_of='2025-11-20 15:30+05:30' -v stale_minutes=5 -f docs/queries.sql
--
-- or copy a block and `\set` its variables first. Every block starts with `-- name:` and is run against a database
-- with known contents by Tests/IntegrationTests/VerificationQueriesTests.swift, so the file cannot rot.
-- Sessions: NSE, NFO, BSE, BFO and CDS trade 09:15-15:30 IST, MCX 09:00-23:30 IST, Monday to Friday (docs/backfill.md).
-- Times are printed in UTC (`bars_1m.bucket` is timestamptz; 09:15 IST is 03:45 UTC).

-- name: missing_minutes
-- Minutes of :day's session without a bar, per active subscription (instrument_subscriptions, TickerService's table).
-- A gap-free history prints nothing.
SELECT s.instrument_token,
       s.tradingsymbol,
       count(*) AS missing_minutes,
       min(minute) AS first_missing,
       max(minute) AS last_missing
FROM instrument_subscriptions s
CROSS JOIN LATERAL generate_series(
    (:'day'::date + CASE WHEN s.exchange = 'MCX' THEN time '09:00' ELSE time '09:15' END) AT TIME ZONE 'Asia/Kolkata',
    (:'day'::date + CASE WHEN s.exchange = 'MCX' THEN time '23:29' ELSE time '15:29' END) AT TIME ZONE 'Asia/Kolkata',
    interval '1 minute') AS minute
LEFT JOIN bars_1m b ON b.instrument_token = s.instrument_token AND b.bucket = minute
WHERE s.status = 'active'
  AND extract(isodow FROM :'day'::date) < 6
  AND b.instrument_token IS NULL
GROUP BY s.instrument_token, s.tradingsymbol
ORDER BY s.instrument_token;

-- name: misplaced_bars
-- Bars of :day that should not exist: a bucket not on a whole minute (it would duplicate that minute's bar), or a
-- minute outside the instrument's session. Prints nothing when the data is clean.
SELECT b.instrument_token,
       coalesce(i.tradingsymbol, '') AS tradingsymbol,
       b.bucket,
       CASE WHEN b.bucket <> date_trunc('minute', b.bucket) THEN 'not_on_a_minute' ELSE 'outside_session' END AS problem
FROM bars_1m b
LEFT JOIN instruments i ON i.instrument_token = b.instrument_token
WHERE b.bucket >= :'day'::date::timestamp AT TIME ZONE 'Asia/Kolkata'
  AND b.bucket < (:'day'::date + 1)::timestamp AT TIME ZONE 'Asia/Kolkata'
  AND (b.bucket <> date_trunc('minute', b.bucket)
       OR extract(isodow FROM b.bucket AT TIME ZONE 'Asia/Kolkata') >= 6
       OR (b.bucket AT TIME ZONE 'Asia/Kolkata')::time
          < CASE WHEN coalesce(i.exchange, '') = 'MCX' THEN time '09:00' ELSE time '09:15' END
       OR (b.bucket AT TIME ZONE 'Asia/Kolkata')::time
          >= CASE WHEN coalesce(i.exchange, '') = 'MCX' THEN time '23:30' ELSE time '15:30' END)
ORDER BY b.instrument_token, b.bucket;

-- name: latest_bar_per_subscription
-- Each active subscription's latest bar and how old it was at :as_of (NULL: no bar at all).
SELECT s.instrument_token,
       s.tradingsymbol,
       s.mode,
       latest.bucket AS latest_bar,
       latest.source,
       floor(extract(epoch FROM (:'as_of'::timestamptz - latest.bucket)) / 60)::bigint AS minutes_old
FROM instrument_subscriptions s
LEFT JOIN LATERAL (
    SELECT b.bucket, b.source FROM bars_1m b
    WHERE b.instrument_token = s.instrument_token AND b.bucket <= :'as_of'::timestamptz
    ORDER BY b.bucket DESC LIMIT 1
) latest ON true
WHERE s.status = 'active'
ORDER BY s.instrument_token;

-- name: bars_by_source
-- How each instrument's bars of :day were made: from ticks (TickerService's feed) or from the broker's candles
-- (backfill and repairs). A minute with a broker candle never goes back to ticks (docs/bars.md, "Which source wins").
SELECT b.instrument_token,
       count(*) FILTER (WHERE b.source = 'ticks') AS from_ticks,
       count(*) FILTER (WHERE b.source <> 'ticks') AS from_broker,
       count(*) AS bars
FROM bars_1m b
WHERE b.bucket >= :'day'::date::timestamp AT TIME ZONE 'Asia/Kolkata'
  AND b.bucket < (:'day'::date + 1)::timestamp AT TIME ZONE 'Asia/Kolkata'
GROUP BY b.instrument_token
ORDER BY b.instrument_token;

-- name: subscriptions_without_recent_data
-- Active subscriptions with no bar in the :stale_minutes minutes before :as_of: the feed or the backfill is not
-- delivering for them (during a session; outside it every subscription is listed).
SELECT s.instrument_token,
       s.tradingsymbol,
       s.account_id,
       s.connection_id,
       (SELECT max(b.bucket) FROM bars_1m b
        WHERE b.instrument_token = s.instrument_token AND b.bucket <= :'as_of'::timestamptz) AS latest_bar
FROM instrument_subscriptions s
WHERE s.status = 'active'
  AND NOT EXISTS (
      SELECT 1 FROM bars_1m b
      WHERE b.instrument_token = s.instrument_token
        AND b.bucket > :'as_of'::timestamptz - make_interval(mins => :'stale_minutes'::int)
        AND b.bucket <= :'as_of'::timestamptz)
ORDER BY s.instrument_token;
