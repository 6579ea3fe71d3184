-- Question: How many retries does each workflow need, and what share of its runs needed one?
-- Parameters: $1 from (timestamptz, inclusive), $2 to (timestamptz, exclusive): runs started in [from, to).
SELECT workflow_id, count(*)::int AS runs, sum(retries)::int AS retries,
  (count(*) FILTER (WHERE retries > 0))::int AS runs_with_retry,
  round((count(*) FILTER (WHERE retries > 0))::numeric / count(*), 4) AS share_with_retry
FROM analytics_v1.runs
WHERE started_at >= $1::timestamptz AND started_at < $2::timestamptz
GROUP BY workflow_id
ORDER BY workflow_id;
