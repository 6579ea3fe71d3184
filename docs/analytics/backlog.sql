-- Question: How many runs were waiting for a worker at a given moment, and for how long had the oldest waited?
-- Parameters: $1 the moment (timestamptz; now() for the current backlog, as of the projection).
-- A run is in the backlog from its start until its first step or wait begins (or it ends).
SELECT organization_id, workflow_id, count(*)::int AS queued_runs,
  max(round(EXTRACT(EPOCH FROM ($1::timestamptz - started_at)) * 1000))::bigint AS oldest_queued_ms
FROM analytics_v1.runs
WHERE started_at <= $1::timestamptz
  AND (first_step_at IS NULL OR first_step_at > $1::timestamptz)
  AND (ended_at IS NULL OR ended_at > $1::timestamptz)
GROUP BY organization_id, workflow_id
ORDER BY organization_id, workflow_id;
