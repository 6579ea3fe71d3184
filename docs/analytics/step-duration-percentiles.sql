-- Question: What are the median (p50) and p95 step durations per connector?
-- Parameters: $1 from (timestamptz, inclusive), $2 to (timestamptz, exclusive): attempts started in [from, to).
-- Every finished attempt counts (succeeded or failed), retries included.
SELECT connector_type, count(*)::int AS attempts,
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms)) AS p50_duration_ms,
  round(percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms)) AS p95_duration_ms
FROM analytics_v1.step_attempts
WHERE status IN ('succeeded', 'failed') AND started_at >= $1::timestamptz AND started_at < $2::timestamptz
GROUP BY connector_type
ORDER BY connector_type;
