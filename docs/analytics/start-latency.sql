-- Question: How long do runs wait for a worker before their first step (start latency)?
-- Parameters: $1 from (timestamptz, inclusive), $2 to (timestamptz, exclusive): runs started in [from, to).
-- Runs still in the backlog (no step yet) are not counted here: see backlog.sql.
SELECT workflow_id, count(*)::int AS runs,
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY start_latency_ms)) AS p50_start_latency_ms,
  round(percentile_cont(0.95) WITHIN GROUP (ORDER BY start_latency_ms)) AS p95_start_latency_ms
FROM analytics_v1.runs
WHERE start_latency_ms IS NOT NULL AND started_at >= $1::timestamptz AND started_at < $2::timestamptz
GROUP BY workflow_id
ORDER BY workflow_id;
