-- Up Migration

-- Concurrency lines in the analytics read model: a run of a workflow with a concurrency limit
-- names its line's key (`RunStarted.concurrency.key`) and when it was admitted (`RunAdmitted`),
-- so analysts can see which keys queue and for how long. `analytics_v1.runs` shows them as
-- `concurrency_key` and `concurrency_wait_ms` (columns added at the view's end, as the v1
-- contract allows). Runs started before this had no limit to wait for.
ALTER TABLE analytics_runs ADD COLUMN concurrency_key text, ADD COLUMN admitted_at timestamptz;

-- Down Migration

-- CASCADE: the contract's views read the columns; the previous release installs its own again.
ALTER TABLE analytics_runs DROP COLUMN concurrency_key CASCADE, DROP COLUMN admitted_at CASCADE;
