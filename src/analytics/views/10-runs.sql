-- The analysts' contract, version 1 (src/analytics/analytics-schema.ts expands the {{…}}).
-- Views only. Within v1 a view may gain columns at its end; anything else is analytics_v2.

COMMENT ON SCHEMA {{analytics}} IS 'Thodare analytics contract, version 1: views only, one row per fact, every column documented. Times are timestamptz; durations are milliseconds (columns ending in _ms). Rows come from async read models, so they trail the API by the worker''s catch-up (normally well under a second). A role granted with `thodare analytics grant <role> --org <id>` sees only that organization''s rows: every view is a security_barrier view that filters organization_id through the caller''s grant (views run with their owner''s rights, so the filter cannot be bypassed and the analyst needs no access to any table). Breaking changes ship as analytics_v2, beside this one.';

CREATE OR REPLACE VIEW {{analytics}}.runs WITH (security_barrier) AS
SELECT r.run_id, r.organization_id, r.workflow_id, r.workflow_version, r.status, r.error_code, r.error_block_id,
  r.trigger_kind, r.actor_type, r.actor_id, r.agent, r.recorded_at, r.started_at, r.first_step_at, r.ended_at,
  round(EXTRACT(EPOCH FROM (r.ended_at - r.started_at)) * 1000)::bigint AS duration_ms,
  r.wait_ms AS waiting_ms,
  round(EXTRACT(EPOCH FROM (r.first_step_at - r.started_at)) * 1000)::bigint AS start_latency_ms,
  r.step_attempts, r.failed_attempts, r.retries, r.rerun_of, r.concurrency_key,
  round(EXTRACT(EPOCH FROM (coalesce(r.admitted_at, r.ended_at) - r.started_at)) * 1000)::bigint AS concurrency_wait_ms
FROM {{app}}.analytics_runs r
WHERE {{visible(r)}};

COMMENT ON VIEW {{analytics}}.runs IS 'One row per run of a workflow, from its start to its end.';
COMMENT ON COLUMN {{analytics}}.runs.run_id IS 'The run''s id.';
COMMENT ON COLUMN {{analytics}}.runs.organization_id IS 'The organization the run belongs to.';
COMMENT ON COLUMN {{analytics}}.runs.workflow_id IS 'The workflow the run executes.';
COMMENT ON COLUMN {{analytics}}.runs.workflow_version IS 'The workflow version pinned at the start (see workflow_versions).';
COMMENT ON COLUMN {{analytics}}.runs.status IS 'One of: active (not ended yet), completed, failed, cancelled.';
COMMENT ON COLUMN {{analytics}}.runs.error_code IS 'Why a failed run failed: the failing step''s error code (e.g. step_timeout, or a connector''s own code) or a runtime rule (e.g. run_too_long). NULL unless failed.';
COMMENT ON COLUMN {{analytics}}.runs.error_block_id IS 'The block whose failure failed the run, when one did.';
COMMENT ON COLUMN {{analytics}}.runs.trigger_kind IS 'What started the run. One of: api (a user or API key, through the API), schedule, webhook, event (an organization event, trigger_event), system.';
COMMENT ON COLUMN {{analytics}}.runs.actor_type IS 'Who started the run. One of: user, api_key, schedule, webhook, event, system.';
COMMENT ON COLUMN {{analytics}}.runs.actor_id IS 'The id of that actor: a user id, an API key id, a schedule id, a webhook id or an organization event id.';
COMMENT ON COLUMN {{analytics}}.runs.agent IS 'The agent label the client sent (X-Thodare-Agent header) when starting the run; NULL when none.';
COMMENT ON COLUMN {{analytics}}.runs.recorded_at IS 'When the start was recorded in the event store.';
COMMENT ON COLUMN {{analytics}}.runs.started_at IS 'When the run started (the start command''s time). Runs are counted on this time''s UTC day.';
COMMENT ON COLUMN {{analytics}}.runs.first_step_at IS 'When its first step attempt or wait began; NULL while nothing has (the run is in the backlog).';
COMMENT ON COLUMN {{analytics}}.runs.ended_at IS 'When the run ended; NULL while active.';
COMMENT ON COLUMN {{analytics}}.runs.duration_ms IS 'Wall-clock time from started_at to ended_at, time spent waiting included; NULL while active.';
COMMENT ON COLUMN {{analytics}}.runs.waiting_ms IS 'Time spent in wait blocks (sleeps, events, approvals) that have ended; parallel waits add up.';
COMMENT ON COLUMN {{analytics}}.runs.start_latency_ms IS 'Time from started_at to first_step_at: how long the run waited for a worker.';
COMMENT ON COLUMN {{analytics}}.runs.step_attempts IS 'Step attempts made (waits excluded).';
COMMENT ON COLUMN {{analytics}}.runs.failed_attempts IS 'Step attempts that failed, retried or not.';
COMMENT ON COLUMN {{analytics}}.runs.retries IS 'Retries scheduled: failed attempts that got another attempt.';
COMMENT ON COLUMN {{analytics}}.runs.rerun_of IS 'The run this one reruns (a rerun takes the ended run''s workflow version and input, and from its failure keeps what succeeded); NULL for a run that is no rerun.';
COMMENT ON COLUMN {{analytics}}.runs.concurrency_key IS 'The key of the concurrency line the run took turns in (its workflow''s concurrency limit: the value at its keyPath in the input, empty without one); NULL for a run of a workflow without a limit.';
COMMENT ON COLUMN {{analytics}}.runs.concurrency_wait_ms IS 'Time from started_at until the run was given a place in its concurrency line (or until it ended, cancelled or timed out while queued); NULL while it still waits, and for a run without a line.';

CREATE OR REPLACE VIEW {{analytics}}.step_attempts WITH (security_barrier) AS
SELECT a.id AS attempt_id, a.run_id, a.organization_id, r.workflow_id, r.workflow_version, a.block_id, a.connector_type,
  a.attempt, a.status, a.final AS is_final, a.error_code, a.started_at, a.finished_at, a.duration_ms, a.backoff_ms
FROM {{app}}.analytics_step_attempts a
JOIN {{app}}.analytics_runs r ON r.run_id = a.run_id
WHERE {{visible(a)}};

COMMENT ON VIEW {{analytics}}.step_attempts IS 'One row per attempt of a step (a connector call). Waits are in waits.';
COMMENT ON COLUMN {{analytics}}.step_attempts.attempt_id IS 'A stable id of the attempt (its position in the event store).';
COMMENT ON COLUMN {{analytics}}.step_attempts.run_id IS 'The run (see runs).';
COMMENT ON COLUMN {{analytics}}.step_attempts.organization_id IS 'The organization the run belongs to.';
COMMENT ON COLUMN {{analytics}}.step_attempts.workflow_id IS 'The run''s workflow.';
COMMENT ON COLUMN {{analytics}}.step_attempts.workflow_version IS 'The run''s workflow version.';
COMMENT ON COLUMN {{analytics}}.step_attempts.block_id IS 'The block of the workflow this step executes.';
COMMENT ON COLUMN {{analytics}}.step_attempts.connector_type IS 'The block''s connector type (e.g. http_request, transform, slack_send_message).';
COMMENT ON COLUMN {{analytics}}.step_attempts.attempt IS 'The attempt number, from 1.';
COMMENT ON COLUMN {{analytics}}.step_attempts.status IS 'One of: running, succeeded, failed, cancelled (the run was cancelled during it), abandoned (the run failed elsewhere during it).';
COMMENT ON COLUMN {{analytics}}.step_attempts.is_final IS 'True when no other attempt of this step follows (it succeeded, failed for good, or the run ended); false when a retry was scheduled; NULL while running.';
COMMENT ON COLUMN {{analytics}}.step_attempts.error_code IS 'The failure''s stable error code (e.g. step_timeout, payload_too_large, or the connector''s own); NULL unless failed.';
COMMENT ON COLUMN {{analytics}}.step_attempts.started_at IS 'When the attempt started.';
COMMENT ON COLUMN {{analytics}}.step_attempts.finished_at IS 'When it finished; NULL while running.';
COMMENT ON COLUMN {{analytics}}.step_attempts.duration_ms IS 'How long the attempt ran; NULL while running.';
COMMENT ON COLUMN {{analytics}}.step_attempts.backoff_ms IS 'The back-off before the next attempt (from this failure to when the retry could start); NULL when no retry followed.';
