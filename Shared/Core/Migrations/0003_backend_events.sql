-- BackendService's event consumption and backfill bookkeeping. See docs/backfill.md.

-- Every subscription event whose work is done, by its event_id. Inserted in the same transaction as the work's
-- record (the backfill job below), so an event that arrives twice (stream and pub/sub, a webhook, a redelivery)
-- does its work once. Also the fallback list of subscribed instruments when TickerService is unreachable.
CREATE TABLE IF NOT EXISTS processed_events (
    event_id         text PRIMARY KEY,
    event_type       text NOT NULL CHECK (event_type IN ('subscription_created', 'subscription_removed')),
    instrument_token bigint NOT NULL,
    tradingsymbol    text,
    source           text NOT NULL,
    processed_by     text,
    event_time       timestamptz,
    processed_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS processed_events_token_idx ON processed_events (instrument_token, event_time DESC, processed_at DESC);

-- One backfill of one instrument: requested by a subscription event or found by the gap finder.
CREATE TABLE IF NOT EXISTS backfill_jobs (
    id               bigserial PRIMARY KEY,
    instrument_token bigint NOT NULL,
    reason           text NOT NULL CHECK (reason IN ('subscription', 'gap', 'manual')),
    event_id         text,
    event_time       timestamptz,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed', 'skipped')),
    attempts         integer NOT NULL DEFAULT 0,
    bars_written     integer NOT NULL DEFAULT 0,
    last_error       text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX IF NOT EXISTS backfill_jobs_open_idx ON backfill_jobs (created_at) WHERE status IN ('pending', 'running');
CREATE INDEX IF NOT EXISTS backfill_jobs_token_idx ON backfill_jobs (instrument_token, created_at DESC);

-- One periodic (subscription-aware) cycle: progress while it runs, its outcome after.
CREATE TABLE IF NOT EXISTS backfill_runs (
    id                bigserial PRIMARY KEY,
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    token_source      text NOT NULL,
    instruments_total integer NOT NULL DEFAULT 0,
    instruments_done  integer NOT NULL DEFAULT 0,
    gaps_found        integer NOT NULL DEFAULT 0,
    bars_written      integer NOT NULL DEFAULT 0,
    failures          integer NOT NULL DEFAULT 0,
    error             text
);

-- Complete minutes the broker was asked for and had no candle (an illiquid option that did not trade): the gap
-- finder skips them instead of asking again every cycle.
CREATE TABLE IF NOT EXISTS backfill_empty_ranges (
    instrument_token bigint NOT NULL,
    range_start      timestamptz NOT NULL,
    range_end        timestamptz NOT NULL,
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instrument_token, range_start)
);
