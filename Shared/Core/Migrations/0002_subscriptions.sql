-- TickerService's subscriptions, who holds them, and the transactional outbox of subscription events.
-- See docs/architecture.md ("Subscriptions, holders and the outbox").

-- One row per instrument ever subscribed. `status` is 'active' while at least one holder remains; the row is
-- kept (as 'inactive') after the last holder lets go, so its history and last placement stay visible.
CREATE TABLE IF NOT EXISTS instrument_subscriptions (
    instrument_token bigint PRIMARY KEY,
    tradingsymbol    text NOT NULL DEFAULT '',
    segment          text NOT NULL DEFAULT '',
    exchange         text NOT NULL DEFAULT '',
    mode             text NOT NULL CHECK (mode IN ('LTP', 'QUOTE', 'FULL')),
    status           text NOT NULL CHECK (status IN ('active', 'inactive')),
    account_id       text,
    connection_id    integer,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS instrument_subscriptions_active_idx ON instrument_subscriptions (instrument_token) WHERE status = 'active';

-- Who asked for an instrument (a user, the always-on tier, an on-demand request) and in which mode. The
-- subscription's mode is the highest of its holders' modes.
CREATE TABLE IF NOT EXISTS subscription_holders (
    instrument_token bigint NOT NULL REFERENCES instrument_subscriptions (instrument_token) ON DELETE CASCADE,
    holder           text NOT NULL,
    mode             text NOT NULL CHECK (mode IN ('LTP', 'QUOTE', 'FULL')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instrument_token, holder)
);
CREATE INDEX IF NOT EXISTS subscription_holders_holder_idx ON subscription_holders (holder);

-- Events written in the same transaction as the change they describe; the relay publishes them to Redis and
-- sets published_at only after Redis accepted them. `id` is the publisher's `sequence`.
CREATE TABLE IF NOT EXISTS event_outbox (
    id               bigserial PRIMARY KEY,
    event_id         uuid NOT NULL UNIQUE,
    event_type       text NOT NULL,
    instrument_token bigint NOT NULL,
    payload          text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    published_at     timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text
);
CREATE INDEX IF NOT EXISTS event_outbox_unpublished_idx ON event_outbox (id) WHERE published_at IS NULL;
CREATE INDEX IF NOT EXISTS event_outbox_published_at_idx ON event_outbox (published_at) WHERE published_at IS NOT NULL;
