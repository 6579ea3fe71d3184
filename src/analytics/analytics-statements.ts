// The analytics projection's statements, one per kind of change, each over a whole batch
// (its rows as one JSON parameter, `json_to_recordset`: pg would build parallel array parameters
// in JavaScript, escaping each element with two regular-expression passes). The writer runs them in this order, which is the order a run's own
// events come in: runs open, attempts open, attempts end, back-offs, waits open, decisions, waits
// end, what ending runs leave open closes, runs end and are recounted, then the rollup and workflow edits.

const ms = (later: string, earlier: string) => `round(EXTRACT(EPOCH FROM (${later} - ${earlier})) * 1000)`;

export const INSERT_RUNS = `
INSERT INTO analytics_runs (run_id, organization_id, workflow_id, workflow_version, trigger_kind, actor_type, actor_id, agent,
  status, recorded_at, started_at, block_types, rerun_of, concurrency_key)
SELECT r.run_id, r.organization_id, r.workflow_id, r.workflow_version, r.trigger_kind, r.actor_type, r.actor_id, r.agent,
  'active', r.recorded_at, r.started_at, r.block_types::jsonb, r.rerun_of, r.concurrency_key
FROM json_to_recordset($1::json) AS r(run_id text, organization_id text, workflow_id text, workflow_version int, trigger_kind text,
  actor_type text, actor_id text, agent text, recorded_at timestamptz, started_at timestamptz, block_types text, rerun_of text,
  concurrency_key text)
ON CONFLICT ON CONSTRAINT analytics_runs_pkey DO NOTHING
RETURNING run_id`;

// A failure that never started names its block's type from the run's pinned workflow. An attempt
// whose end is in the same batch is written ended (status, final, error code, finish, duration as
// END_ATTEMPTS would set them): one version of the row instead of an insert and an update.
export const INSERT_ATTEMPTS = `
INSERT INTO analytics_step_attempts (id, run_id, organization_id, block_id, connector_type, attempt, status, started_at,
  final, error_code, finished_at, duration_ms)
SELECT a.id, a.run_id, a.organization_id, a.block_id, coalesce(a.connector_type, r.block_types ->> a.block_id, 'unknown'),
  a.attempt, coalesce(a.status, 'running'), a.at, a.final, a.error_code, a.finished_at, a.duration_ms
FROM json_to_recordset($1::json) AS a(id bigint, run_id text, organization_id text, block_id text, connector_type text, attempt int,
  at timestamptz, status text, final boolean, error_code text, finished_at timestamptz, duration_ms int)
LEFT JOIN analytics_runs r ON r.run_id = a.run_id
ON CONFLICT ON CONSTRAINT analytics_step_attempts_key DO NOTHING
RETURNING run_id, block_id, attempt`;

export const END_ATTEMPTS = `
UPDATE analytics_step_attempts a SET status = e.status, final = e.final, error_code = e.error_code, finished_at = e.at,
  duration_ms = e.duration_ms
FROM json_to_recordset($1::json) AS e(run_id text, block_id text, attempt int, status text, final boolean, error_code text,
  at timestamptz, duration_ms int)
WHERE a.run_id = e.run_id AND a.block_id = e.block_id AND a.attempt = e.attempt AND a.status = 'running'`;

// The back-off runs from the failure to the time the next attempt may start.
export const SET_BACKOFFS = `
UPDATE analytics_step_attempts a SET backoff_ms = greatest(0, ${ms('b.available_at', 'a.finished_at')})::int
FROM json_to_recordset($1::json) AS b(run_id text, block_id text, attempt int, available_at timestamptz)
WHERE a.run_id = b.run_id AND a.block_id = b.block_id AND a.attempt = b.attempt AND a.backoff_ms IS NULL
RETURNING a.run_id`;

/** A run's admission to its concurrency line (after its start: the start's row is written first in the batch). */
export const SET_ADMITTED = `
UPDATE analytics_runs r SET admitted_at = a.at
FROM json_to_recordset($1::json) AS a(run_id text, at timestamptz)
WHERE r.run_id = a.run_id AND r.admitted_at IS NULL`;

export const INSERT_WAITS = `
INSERT INTO analytics_waits (run_id, organization_id, block_id, kind, event_name, started_at, until)
SELECT * FROM json_to_recordset($1::json)
  AS w(run_id text, organization_id text, block_id text, wait_kind text, event_name text, at timestamptz, until timestamptz)
ON CONFLICT ON CONSTRAINT analytics_waits_pkey DO NOTHING`;

// As the run's own fold: only the first decision on an open approval, within its deadline.
export const SET_DECISIONS = `
UPDATE analytics_waits w SET decision = d.decision, decided_by = d."by", decided_at = d.at
FROM json_to_recordset($1::json) AS d(run_id text, block_id text, decision text, "by" text, at timestamptz)
WHERE w.run_id = d.run_id AND w.block_id = d.block_id AND w.kind = 'human_approval' AND w.decision IS NULL
  AND w.ended_at IS NULL AND (w.until IS NULL OR d.at <= w.until)`;

export const END_WAITS = `
UPDATE analytics_waits w SET ended_at = e.at, end_reason = e.reason
FROM json_to_recordset($1::json) AS e(run_id text, block_id text, reason text, at timestamptz)
WHERE w.run_id = e.run_id AND w.block_id = e.block_id AND w.ended_at IS NULL`;

// What a run leaves open when it ends closes at the end's own time (a rebuild closes it alike).
export const CLOSE_OPEN_ATTEMPTS = `
UPDATE analytics_step_attempts a SET status = CASE WHEN e.status = 'cancelled' THEN 'cancelled' ELSE 'abandoned' END,
  final = true, finished_at = e.at, duration_ms = greatest(0, ${ms('e.at', 'a.started_at')})::int
FROM json_to_recordset($1::json) AS e(run_id text, status text, at timestamptz)
WHERE a.run_id = e.run_id AND a.status = 'running'`;

export const CLOSE_OPEN_WAITS = `
UPDATE analytics_waits w SET ended_at = e.at, end_reason = 'run_ended'
FROM json_to_recordset($1::json) AS e(run_id text, at timestamptz)
WHERE w.run_id = e.run_id AND w.ended_at IS NULL`;

// Each touched run recounted from its rows rather than incremented, and ended by the batch's first
// end of it while still active (the join reads the rows as they were before this statement): one
// new version of each run's row, where ending it and then recounting it wrote two (and each
// rewrote its index entries: the row's page is full by then). It runs once the attempts and
// waits it counts are written and closed. `ended`: whether this statement ended the run.
export const END_AND_RECOUNT_RUNS = `
UPDATE analytics_runs r SET step_attempts = a.n, failed_attempts = a.failed, retries = a.retries, wait_ms = w.wait_ms,
  first_step_at = least(a.first_at, w.first_at),
  status = coalesce(e.status, r.status),
  ended_at = CASE WHEN e.run_id IS NULL THEN r.ended_at ELSE e.at END,
  error_code = CASE WHEN e.run_id IS NULL THEN r.error_code ELSE e.error_code END,
  error_block_id = CASE WHEN e.run_id IS NULL THEN r.error_block_id ELSE e.error_block_id END
FROM json_array_elements_text($1::json) AS t(run_id)
LEFT JOIN (
  SELECT e.run_id, e.status, e.at, e.error_code, e.error_block_id
  FROM json_to_recordset($2::json) AS e(run_id text, status text, at timestamptz, error_code text, error_block_id text)
  JOIN analytics_runs active ON active.run_id = e.run_id AND active.status = 'active'
) e ON e.run_id = t.run_id
CROSS JOIN LATERAL (
  SELECT count(*)::int AS n, (count(*) FILTER (WHERE status = 'failed'))::int AS failed,
    (count(*) FILTER (WHERE backoff_ms IS NOT NULL))::int AS retries, min(started_at) AS first_at
  FROM analytics_step_attempts WHERE run_id = t.run_id) a
CROSS JOIN LATERAL (
  SELECT coalesce(sum(${ms('ended_at', 'started_at')}), 0)::bigint AS wait_ms, min(started_at) AS first_at
  FROM analytics_waits WHERE run_id = t.run_id) w
WHERE r.run_id = t.run_id
RETURNING r.run_id, e.run_id IS NOT NULL AS ended, r.status, greatest(0, ${ms('r.ended_at', 'r.started_at')})::bigint AS duration_ms`;

export const ADD_TO_ROLLUP = `
INSERT INTO analytics_daily_workflow_runs AS d (organization_id, workflow_id, day, runs_started, runs_completed, runs_failed,
  runs_cancelled, step_attempts, retries, run_duration_ms)
SELECT r.organization_id, r.workflow_id, (r.started_at AT TIME ZONE 'UTC')::date, sum(x.started), sum(x.completed),
  sum(x.failed), sum(x.cancelled), sum(x.attempts), sum(x.retries), sum(x.duration_ms)
FROM json_to_recordset($1::json)
  AS x(run_id text, started int, completed int, failed int, cancelled int, attempts int, retries int, duration_ms bigint)
JOIN analytics_runs r ON r.run_id = x.run_id
GROUP BY 1, 2, 3
ON CONFLICT (organization_id, workflow_id, day) DO UPDATE SET
  runs_started = d.runs_started + EXCLUDED.runs_started, runs_completed = d.runs_completed + EXCLUDED.runs_completed,
  runs_failed = d.runs_failed + EXCLUDED.runs_failed, runs_cancelled = d.runs_cancelled + EXCLUDED.runs_cancelled,
  step_attempts = d.step_attempts + EXCLUDED.step_attempts, retries = d.retries + EXCLUDED.retries,
  run_duration_ms = d.run_duration_ms + EXCLUDED.run_duration_ms`;

// A batch's events share its transaction: they fold into one row whatever batches the runner cut.
export const UPSERT_EDITS = `
INSERT INTO analytics_workflow_edits AS e (workflow_id, transaction_id, organization_id, first_position, kind, version,
  actor_type, actor_id, agent, ops_applied, ops_skipped, skip_codes, recorded_at)
SELECT x.workflow_id, x.transaction_id, x.organization_id, x.position, x.edit_kind, x.version, x.actor_type, x.actor_id,
  x.agent, x.applied, jsonb_array_length(x.skip_codes::jsonb), ARRAY(SELECT jsonb_array_elements_text(x.skip_codes::jsonb)), x.recorded_at
FROM json_to_recordset($1::json)
  AS x(workflow_id text, transaction_id xid8, organization_id text, position bigint, edit_kind text, version int, actor_type text,
    actor_id text, agent text, applied int, skip_codes text, recorded_at timestamptz)
ON CONFLICT ON CONSTRAINT analytics_workflow_edits_pkey DO UPDATE SET
  kind = CASE WHEN EXCLUDED.kind = 'unchanged' THEN e.kind ELSE EXCLUDED.kind END,
  first_position = least(e.first_position, EXCLUDED.first_position),
  ops_applied = e.ops_applied + EXCLUDED.ops_applied, ops_skipped = e.ops_skipped + EXCLUDED.ops_skipped,
  skip_codes = e.skip_codes || EXCLUDED.skip_codes`;
