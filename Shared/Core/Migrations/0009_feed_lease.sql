-- The lease on the broker sessions: one row per feed (today one, 'feed', covering every configured account). Only the
-- TickerService instance named in `owner` opens broker sessions, and only while `expires_at` (database time) is in
-- the future; it renews the row every second. Another instance takes the row once it has expired. `owner_url` is
-- where the owner serves HTTP: the other instances forward changing requests there. See docs/operations.md,
-- "Several TickerService instances".
CREATE TABLE IF NOT EXISTS feed_lease (
    name         text PRIMARY KEY,
    owner        text NOT NULL,
    owner_url    text NOT NULL,
    acquired_at  timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
