-- Who works on a backfill job. Every BackendService process holds a lease row here, renewed by heartbeat
-- (BackfillJobLeases); a job names its owner's lease. An open job whose owner's lease expired (a crash) or was
-- released (a clean shutdown) is adopted by a live instance and resumed. See docs/backfill.md.
CREATE TABLE IF NOT EXISTS backfill_instances (
    instance_id   text PRIMARY KEY,
    started_at    timestamptz NOT NULL DEFAULT now(),
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE backfill_jobs ADD COLUMN IF NOT EXISTS owner text;
CREATE INDEX IF NOT EXISTS backfill_jobs_owner_idx ON backfill_jobs (owner) WHERE status IN ('pending', 'running');
