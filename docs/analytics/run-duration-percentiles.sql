-- Question: What are the median (p50) and p95 run durations of each workflow?
-- Parameters: $1 from (timestamptz, inclusive), $2 to (timestamptz, exclusive): runs started in [from, to).
-- Only ended runs count; durations are wall-clock and include time spent waiting (see runs.waiting_ms).
SELECT workflow_id, count(*)::int AS ended_runs,
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)) AS p50_duration_ms,
  round(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)) AS p95_duration_ms
FROM analytics_v1.runs
WHERE ended_at IS NOT NULL AND started_at >= $1::timestamptz AND started_at < $2::timestamptz
GROUP BY workflow_id
ORDER BY workflow_id;
