-- Up Migration

-- `run_failures` (src/runs/run-failures.projection.ts): every failed run, from its `RunFailed`,
-- kept by an inline projection. The worker's failure announcer (src/worker/run-failure-announcer.ts)
-- publishes each one as the organization event `thodare.run.failed` — what starts error-handling
-- workflows (`trigger_event`) — and sets `announced_at`, which only it writes.
CREATE TABLE run_failures (
  run_id text PRIMARY KEY,
  organization_id text NOT NULL,
  error jsonb NOT NULL,
  failed_at timestamptz NOT NULL,
  announced_at timestamptz
);
-- The announcer's queue: the failures not announced yet, oldest first.
CREATE INDEX run_failures_unannounced ON run_failures (failed_at) WHERE announced_at IS NULL;

-- Down Migration

DROP TABLE run_failures;
