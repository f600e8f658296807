-- Instruments from the broker's dump, cached so that every service can look them up by token and so that
-- option chains can be queried by underlying, expiry and strike.
CREATE TABLE IF NOT EXISTS instruments (
    instrument_token bigint PRIMARY KEY,
    exchange_token   bigint NOT NULL,
    tradingsymbol    text NOT NULL,
    name             text NOT NULL DEFAULT '',
    last_price       double precision NOT NULL DEFAULT 0,
    expiry           date,
    strike           double precision NOT NULL DEFAULT 0,
    tick_size        double precision NOT NULL DEFAULT 0,
    lot_size         integer NOT NULL DEFAULT 0,
    instrument_type  text NOT NULL,
    segment          text NOT NULL,
    exchange         text NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS instruments_chain_idx ON instruments (name, instrument_type, expiry, strike);
CREATE INDEX IF NOT EXISTS instruments_symbol_idx ON instruments (exchange, tradingsymbol);

-- One-minute candles, from backfill and from live ticks (see docs/architecture.md for which source wins).
CREATE TABLE IF NOT EXISTS bars_1m (
    instrument_token bigint NOT NULL,
    bucket           timestamptz NOT NULL,
    open             double precision NOT NULL,
    high             double precision NOT NULL,
    low              double precision NOT NULL,
    close            double precision NOT NULL,
    volume           bigint NOT NULL DEFAULT 0,
    oi               bigint NOT NULL DEFAULT 0,
    source           text NOT NULL CHECK (source IN ('backfill', 'ticks')),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (instrument_token, bucket)
);
-- @hypertable bars_1m(bucket)
