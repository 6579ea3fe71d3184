CREATE OR REPLACE VIEW {{analytics}}.waits WITH (security_barrier) AS
SELECT w.run_id, w.organization_id, r.workflow_id, w.block_id, w.kind, w.event_name, w.started_at, w.until AS deadline_at,
  w.ended_at, w.end_reason, round(EXTRACT(EPOCH FROM (w.ended_at - w.started_at)) * 1000)::bigint AS duration_ms
FROM {{app}}.analytics_waits w
JOIN {{app}}.analytics_runs r ON r.run_id = w.run_id
WHERE {{visible(w)}};

COMMENT ON VIEW {{analytics}}.waits IS 'One row per wait block a run reached: a sleep, a wait for an event, or a human approval.';
COMMENT ON COLUMN {{analytics}}.waits.run_id IS 'The run (see runs).';
COMMENT ON COLUMN {{analytics}}.waits.organization_id IS 'The organization the run belongs to.';
COMMENT ON COLUMN {{analytics}}.waits.workflow_id IS 'The run''s workflow.';
COMMENT ON COLUMN {{analytics}}.waits.block_id IS 'The wait block.';
COMMENT ON COLUMN {{analytics}}.waits.kind IS 'One of: wait_duration (a sleep), wait_for_event, human_approval.';
COMMENT ON COLUMN {{analytics}}.waits.event_name IS 'The event name a wait_for_event waits for; NULL for other kinds.';
COMMENT ON COLUMN {{analytics}}.waits.started_at IS 'When the wait began.';
COMMENT ON COLUMN {{analytics}}.waits.deadline_at IS 'When it times out (a sleep: when it wakes); NULL when it has no deadline.';
COMMENT ON COLUMN {{analytics}}.waits.ended_at IS 'When the wait ended; NULL while it waits.';
COMMENT ON COLUMN {{analytics}}.waits.end_reason IS 'How it ended. One of: elapsed (a sleep woke), signal (its event arrived), approval (decided), timeout, run_ended (the run was cancelled or failed first); NULL while it waits.';
COMMENT ON COLUMN {{analytics}}.waits.duration_ms IS 'Time from started_at to ended_at; NULL while it waits.';

CREATE OR REPLACE VIEW {{analytics}}.approvals WITH (security_barrier) AS
SELECT w.run_id, w.organization_id, r.workflow_id, w.block_id, w.started_at AS requested_at, w.until AS deadline_at,
  CASE WHEN w.decision IS NOT NULL THEN w.decision WHEN w.end_reason = 'timeout' THEN 'timed_out'
       WHEN w.end_reason = 'run_ended' THEN 'run_ended' ELSE 'pending' END AS outcome,
  w.decided_by, w.decided_at,
  round(EXTRACT(EPOCH FROM (w.decided_at - w.started_at)) * 1000)::bigint AS latency_ms
FROM {{app}}.analytics_waits w
JOIN {{app}}.analytics_runs r ON r.run_id = w.run_id
WHERE w.kind = 'human_approval' AND {{visible(w)}};

COMMENT ON VIEW {{analytics}}.approvals IS 'One row per human approval a run asked for. Prompts and notes are not exposed.';
COMMENT ON COLUMN {{analytics}}.approvals.run_id IS 'The run (see runs).';
COMMENT ON COLUMN {{analytics}}.approvals.organization_id IS 'The organization the run belongs to.';
COMMENT ON COLUMN {{analytics}}.approvals.workflow_id IS 'The run''s workflow.';
COMMENT ON COLUMN {{analytics}}.approvals.block_id IS 'The human_approval block.';
COMMENT ON COLUMN {{analytics}}.approvals.requested_at IS 'When the approval was requested.';
COMMENT ON COLUMN {{analytics}}.approvals.deadline_at IS 'When it times out; NULL when it never does.';
COMMENT ON COLUMN {{analytics}}.approvals.outcome IS 'One of: pending, approved, rejected, timed_out, run_ended (the run was cancelled or failed before a decision).';
COMMENT ON COLUMN {{analytics}}.approvals.decided_by IS 'Who decided: the approver named with the decision, else the deciding user or API key id; NULL when undecided or anonymous.';
COMMENT ON COLUMN {{analytics}}.approvals.decided_at IS 'When it was decided; NULL when undecided.';
COMMENT ON COLUMN {{analytics}}.approvals.latency_ms IS 'Time from requested_at to decided_at; NULL when undecided.';
