-- Up Migration

-- The workers that have lived on this schema: each holds a session advisory lock on its owner id
-- while its process lives (src/worker/worker-liveness.ts). A worker that can take another's lock
-- knows that process is gone: it deletes the row and frees that owner's leases. A table rather
-- than an index on run_state.lease_owner, which would turn every claim and release into a
-- non-HOT update.
CREATE TABLE workers (
  owner text PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE workers;
