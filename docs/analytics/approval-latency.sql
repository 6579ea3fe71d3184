-- Question: How long do runs wait for human approvals, per workflow?
-- Parameters: $1 from (timestamptz, inclusive), $2 to (timestamptz, exclusive): approvals requested in [from, to).
-- Latency is from the request to the decision; undecided approvals count as pending (or timed
-- out, or ended with their run) and have no latency.
SELECT workflow_id, count(*)::int AS requested,
  (count(*) FILTER (WHERE outcome IN ('approved', 'rejected')))::int AS decided,
  (count(*) FILTER (WHERE outcome = 'pending'))::int AS pending,
  round(percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms)) AS p50_latency_ms,
  round(percentile_cont(0.95) WITHIN GROUP (ORDER BY latency_ms)) AS p95_latency_ms,
  coalesce(sum(latency_ms), 0)::bigint AS total_latency_ms
FROM analytics_v1.approvals
WHERE requested_at >= $1::timestamptz AND requested_at < $2::timestamptz
GROUP BY workflow_id
ORDER BY workflow_id;
