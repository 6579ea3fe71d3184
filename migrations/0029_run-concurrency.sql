-- Up Migration

-- Concurrency lines (a workflow's `metadata.concurrency`, pinned in `RunStarted.concurrency`):
-- the runs of each line that hold a place (admitted and not ended) or wait for one. Owned by
-- src/run-queue/run-concurrency.ts. Operational, like the queue columns of `run_state`: written
-- in the transactions that record what changes it (a `RunAdmitted`, a run's end), under the
-- line's advisory lock, and never rebuilt (the events say who was admitted; this says who holds
-- a place now).
CREATE TABLE run_concurrency (
  run_id text PRIMARY KEY,
  organization_id text NOT NULL,
  workflow_id text NOT NULL,
  line_key text NOT NULL,
  -- The run's start position (`run_state.seq`): first started, first admitted.
  seq bigint NOT NULL,
  admitted boolean NOT NULL,
  since timestamptz NOT NULL DEFAULT now()
);
-- A line's places taken, and its queue in start order.
CREATE INDEX run_concurrency_line ON run_concurrency (organization_id, workflow_id, line_key, admitted, seq);

-- Down Migration

DROP TABLE run_concurrency;
