-- Up Migration

-- Reruns (`POST /api/runs/:id/rerun`) in the analytics read model: a run names the run it reruns,
-- so analysts can tell a failure that was rerun (and how that went) from one that was left. The
-- analytics projection fills it from `RunStarted.rerun.of`; runs started before this have none,
-- as no run before it was a rerun. `analytics_v1.runs.rerun_of` shows it (a column added at the
-- view's end, as the v1 contract allows).
ALTER TABLE analytics_runs ADD COLUMN rerun_of text;

-- Down Migration

-- CASCADE: the contract's views read the column; the previous release installs its own again.
ALTER TABLE analytics_runs DROP COLUMN rerun_of CASCADE;
