-- Question: How much does each organization use Thodare per month?
-- Parameters: $1 first month (date, inclusive), $2 last month (date, inclusive); any day of the month.
-- Months are UTC calendar months of the runs' (and attempts') start.
WITH runs AS (
  SELECT organization_id, date_trunc('month', started_at AT TIME ZONE 'UTC')::date AS month, count(*) AS runs
  FROM analytics_v1.runs GROUP BY 1, 2
), steps AS (
  SELECT organization_id, date_trunc('month', started_at AT TIME ZONE 'UTC')::date AS month, count(*) AS step_attempts,
    coalesce(sum(duration_ms), 0) AS step_duration_ms
  FROM analytics_v1.step_attempts GROUP BY 1, 2
), approvals AS (
  SELECT organization_id, date_trunc('month', requested_at AT TIME ZONE 'UTC')::date AS month, count(*) AS approvals
  FROM analytics_v1.approvals GROUP BY 1, 2
)
SELECT u.organization_id, o.name, u.month, coalesce(runs, 0)::int AS runs, coalesce(step_attempts, 0)::int AS step_attempts,
  coalesce(step_duration_ms, 0)::bigint AS step_duration_ms, coalesce(approvals, 0)::int AS approvals
FROM runs FULL JOIN steps USING (organization_id, month) FULL JOIN approvals USING (organization_id, month)
  AS u
LEFT JOIN analytics_v1.organizations o ON o.organization_id = u.organization_id
WHERE u.month BETWEEN date_trunc('month', $1::date)::date AND date_trunc('month', $2::date)::date
ORDER BY u.organization_id, u.month;
