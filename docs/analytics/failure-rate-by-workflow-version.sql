-- Question: What is the failure rate of each workflow version, and which agent made that version?
-- Parameters: $1 from (timestamptz, inclusive), $2 to (timestamptz, exclusive): runs started in [from, to).
-- The rate is failed / ended runs of the version.
SELECT r.workflow_id, r.workflow_version, v.agent, count(*)::int AS ended_runs,
  (count(*) FILTER (WHERE r.status = 'failed'))::int AS failed_runs,
  round((count(*) FILTER (WHERE r.status = 'failed'))::numeric / count(*), 4) AS failure_rate
FROM analytics_v1.runs r
LEFT JOIN analytics_v1.workflow_versions v ON v.workflow_id = r.workflow_id AND v.version = r.workflow_version
WHERE r.ended_at IS NOT NULL AND r.started_at >= $1::timestamptz AND r.started_at < $2::timestamptz
GROUP BY r.workflow_id, r.workflow_version, v.agent
ORDER BY r.workflow_id, r.workflow_version;
