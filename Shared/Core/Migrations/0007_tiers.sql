-- The two-tier subscription system of seed 004 (docs/tiers.md): watchlists, what each tier holds, when each
-- instrument was last used (the cap's LRU eviction), strike metadata, the audit log and the end-of-day runs.
-- BackendService owns these tables; TickerService's instrument_subscriptions/subscription_holders stay the truth of
-- what the broker streams (seed 004's `subscriptions` table), and every holding below is a holder there.

-- Seed 004's watchlist: one row per entry of a user's list. An `underlying` entry holds its option chain around the
-- money (the window it was centred on is kept so a removal releases exactly what was held); an `instrument` entry
-- holds one instrument.
CREATE TABLE IF NOT EXISTS watchlist (
    user_id          text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('underlying', 'instrument')),
    symbol           text NOT NULL DEFAULT '',
    instrument_token bigint NOT NULL DEFAULT 0,
    expiry           date,
    atm_strike       double precision,
    strikes          integer,
    added_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, kind, symbol, instrument_token)
);

-- What the tiers hold, one row per instrument, holder and source (why the holder holds it: `watchlist:NIFTY`,
-- `watchlist:token`, `on-demand`, `tier-b:NIFTY`). The holder is TickerService's holder name (`user:42`,
-- `on-demand:api`, `tier:always-on`); it keeps the instrument while any of its sources remain.
CREATE TABLE IF NOT EXISTS tier_holdings (
    instrument_token bigint NOT NULL,
    holder           text NOT NULL,
    source           text NOT NULL,
    tier             text NOT NULL CHECK (tier IN ('A', 'B')),
    user_id          text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instrument_token, holder, source)
);
CREATE INDEX IF NOT EXISTS tier_holdings_holder_idx ON tier_holdings (holder);
CREATE INDEX IF NOT EXISTS tier_holdings_tier_idx ON tier_holdings (tier, instrument_token);

-- When each held instrument was last used (subscribed, viewed in a chain or watchlist, quoted, streamed): the cap
-- evicts the Tier A instruments used longest ago.
CREATE TABLE IF NOT EXISTS instrument_usage (
    instrument_token bigint PRIMARY KEY,
    last_used_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS instrument_usage_lru_idx ON instrument_usage (last_used_at);

-- Seed 004's atm_cache: the strike metadata of each underlying and expiry a chain was centred on, and where.
CREATE TABLE IF NOT EXISTS atm_cache (
    symbol           text NOT NULL,
    expiry           date NOT NULL,
    strike_step      double precision NOT NULL,
    atm_strike       double precision NOT NULL,
    underlying_ltp   double precision NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (symbol, expiry)
);

-- Seed 004's subscription_log: every subscribe, unsubscribe, eviction, rebalance and end-of-day release.
CREATE TABLE IF NOT EXISTS subscription_log (
    id               bigserial PRIMARY KEY,
    instrument_token bigint,
    action           text NOT NULL CHECK (action IN ('subscribe', 'unsubscribe', 'evict', 'rebalance', 'eod_release')),
    holder           text,
    tier             text CHECK (tier IN ('A', 'B')),
    reason           text NOT NULL,
    actor            text NOT NULL,
    at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS subscription_log_token_idx ON subscription_log (instrument_token, id);
CREATE INDEX IF NOT EXISTS subscription_log_at_idx ON subscription_log (at);

-- Instruments evicted from a user's holdings by the cap, shown in that user's watchlist view until the next EOD.
CREATE TABLE IF NOT EXISTS tier_evictions (
    id               bigserial PRIMARY KEY,
    user_id          text NOT NULL,
    instrument_token bigint NOT NULL,
    source           text NOT NULL,
    reason           text NOT NULL,
    evicted_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS tier_evictions_user_idx ON tier_evictions (user_id, id);

-- One row per trading day whose end-of-day cleanup ran: inserted in the cleanup's transaction, so it runs once a day
-- across restarts and instances.
CREATE TABLE IF NOT EXISTS eod_runs (
    trading_day      date PRIMARY KEY,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    released         integer NOT NULL DEFAULT 0,
    watchlists_cleared integer NOT NULL DEFAULT 0,
    trigger          text NOT NULL
);
