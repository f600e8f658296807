-- One row per periodic-backfill cycle: the cycle's slot (its start, a multiple of BACKFILL_INTERVAL_SECONDS since the
-- epoch) and the instance that runs it. Several BackendService instances share one cycle per slot: the first to
-- claim it runs it, the others skip it. A claim whose instance no longer holds a live lease (backfill_instances) may be
-- taken over. See docs/backfill.md.
CREATE TABLE IF NOT EXISTS backfill_cycle_claims (
    cycle_start  timestamptz PRIMARY KEY,
    claimed_by   text NOT NULL,
    claimed_at   timestamptz NOT NULL DEFAULT now()
);
