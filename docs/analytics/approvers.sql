-- Question: Who approves, how often do they approve or reject, and how quickly?
-- Parameters: $1 from (timestamptz, inclusive), $2 to (timestamptz, exclusive): approvals requested in [from, to).
SELECT decided_by, count(*)::int AS decisions,
  (count(*) FILTER (WHERE outcome = 'approved'))::int AS approved,
  (count(*) FILTER (WHERE outcome = 'rejected'))::int AS rejected,
  round(avg(latency_ms))::bigint AS avg_latency_ms
FROM analytics_v1.approvals
WHERE decided_at IS NOT NULL AND requested_at >= $1::timestamptz AND requested_at < $2::timestamptz
GROUP BY decided_by
ORDER BY decisions DESC, decided_by;
