-- Question: How many repair rounds did agents need before a workflow became runnable?
-- Parameters: $1 from (timestamptz, inclusive), $2 to (timestamptz, exclusive): workflows created in [from, to).
-- A workflow counts as runnable from its first run; a repair round is a patch request before it
-- (kind patched or unchanged). Workflows that never ran are not listed.
WITH first_run AS (
  SELECT DISTINCT ON (workflow_id) workflow_id, recorded_at, workflow_version
  FROM analytics_v1.runs
  ORDER BY workflow_id, recorded_at
)
SELECT f.workflow_id,
  (count(*) FILTER (WHERE e.kind IN ('patched', 'unchanged')))::int AS repair_rounds,
  sum(e.ops_skipped)::int AS ops_skipped,
  f.workflow_version AS first_run_version
FROM first_run f
JOIN analytics_v1.workflow_edits e ON e.workflow_id = f.workflow_id AND e.recorded_at < f.recorded_at
GROUP BY f.workflow_id, f.workflow_version
HAVING min(e.recorded_at) FILTER (WHERE e.kind = 'created') >= $1::timestamptz
   AND min(e.recorded_at) FILTER (WHERE e.kind = 'created') < $2::timestamptz
ORDER BY f.workflow_id;
