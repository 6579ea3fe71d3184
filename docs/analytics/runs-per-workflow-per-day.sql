-- Question: How many runs did each workflow start per day, and what share of them failed?
-- Parameters: $1 first day (date, inclusive), $2 last day (date, inclusive).
-- Reads the daily rollup, so it stays cheap at any volume. The failure rate is failed / ended
-- runs of that day's starts; NULL while none of them has ended.
SELECT workflow_id, day, runs_started, runs_failed,
  round(runs_failed::numeric / nullif(runs_completed + runs_failed + runs_cancelled, 0), 4) AS failure_rate
FROM analytics_v1.daily_workflow_runs
WHERE day BETWEEN $1::date AND $2::date
ORDER BY workflow_id, day;
