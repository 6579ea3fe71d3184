-- Question: Which error codes come up most, and how many runs do they fail?
-- Parameters: $1 from (timestamptz, inclusive), $2 to (timestamptz, exclusive), $3 how many codes (int).
-- failed_attempts: step attempts that failed with the code (retried or not); runs_affected: runs
-- with at least one of them; runs_failed: runs that failed with the code (started in the period).
WITH attempts AS (
  SELECT error_code, count(*) AS failed_attempts, count(DISTINCT run_id) AS runs_affected
  FROM analytics_v1.step_attempts
  WHERE status = 'failed' AND started_at >= $1::timestamptz AND started_at < $2::timestamptz
  GROUP BY error_code
), runs AS (
  SELECT error_code, count(*) AS runs_failed
  FROM analytics_v1.runs
  WHERE status = 'failed' AND started_at >= $1::timestamptz AND started_at < $2::timestamptz
  GROUP BY error_code
)
SELECT error_code, coalesce(failed_attempts, 0)::int AS failed_attempts, coalesce(runs_affected, 0)::int AS runs_affected,
  coalesce(runs_failed, 0)::int AS runs_failed
FROM attempts FULL JOIN runs USING (error_code)
ORDER BY runs_failed DESC, failed_attempts DESC, error_code
LIMIT $3::int;
