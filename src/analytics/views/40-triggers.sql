CREATE OR REPLACE VIEW {{analytics}}.schedule_ticks WITH (security_barrier) AS
SELECT t.global_position AS tick_id, t.schedule_id, t.organization_id, s.workflow_id, s.source AS schedule_source,
  t.tick AS tick_at, t.through_tick AS through_tick_at, t.tick_count, t.outcome, t.reason AS skip_reason, t.origin, t.run_id,
  t.recorded_at, round(EXTRACT(EPOCH FROM (t.recorded_at - t.tick)) * 1000)::bigint AS recorded_after_ms
FROM {{app}}.schedule_ticks t
LEFT JOIN {{app}}.schedules s ON s.schedule_id = t.schedule_id
WHERE {{visible(t)}};

COMMENT ON VIEW {{analytics}}.schedule_ticks IS 'The schedules'' ledger: one row per tick that fired or was buffered, and per range of ticks skipped for one reason.';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.tick_id IS 'A stable id of the row, increasing in the order rows were recorded.';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.schedule_id IS 'The schedule.';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.organization_id IS 'The organization the schedule belongs to.';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.workflow_id IS 'The workflow the schedule starts.';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.schedule_source IS 'Where the schedule is defined. One of: workflow (a trigger_schedule block), api.';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.tick_at IS 'The tick: the time the cron named (the first of a skipped range).';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.through_tick_at IS 'The last tick of a skipped range; NULL for a single tick.';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.tick_count IS 'How many ticks the row stands for (1 unless a skipped range).';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.outcome IS 'One of: fired (a run started), buffered (it waits for the active run to end), skipped.';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.skip_reason IS 'Why it was skipped. One of: paused, overlap, ended, missed, workflow_deleted, not_runnable; NULL unless skipped.';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.origin IS 'How the tick came up. One of: schedule (the clock), trigger (fired by hand), backfill.';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.run_id IS 'The run it started (see runs); NULL unless fired.';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.recorded_at IS 'When its fate was recorded.';
COMMENT ON COLUMN {{analytics}}.schedule_ticks.recorded_after_ms IS 'Time from tick_at to recorded_at: for a fired tick, how late the run started.';

CREATE OR REPLACE VIEW {{analytics}}.webhook_deliveries WITH (security_barrier) AS
SELECT d.delivery_id, d.webhook_id, d.organization_id, w.workflow_id, w.source AS webhook_source, d.run_id, d.replay_of,
  d.dedupe_key IS NOT NULL AS has_dedupe_key, d.received_at
FROM {{app}}.webhook_deliveries d
LEFT JOIN {{app}}.webhooks w ON w.webhook_id = d.webhook_id
WHERE {{visible(d)}};

COMMENT ON VIEW {{analytics}}.webhook_deliveries IS 'One row per accepted inbound webhook delivery (each starts a run; a duplicate is answered with the first one''s run and adds no row). Bodies and headers are not exposed.';
COMMENT ON COLUMN {{analytics}}.webhook_deliveries.delivery_id IS 'The delivery.';
COMMENT ON COLUMN {{analytics}}.webhook_deliveries.webhook_id IS 'The webhook it came through.';
COMMENT ON COLUMN {{analytics}}.webhook_deliveries.organization_id IS 'The organization the webhook belongs to.';
COMMENT ON COLUMN {{analytics}}.webhook_deliveries.workflow_id IS 'The workflow the webhook starts.';
COMMENT ON COLUMN {{analytics}}.webhook_deliveries.webhook_source IS 'Where the webhook is defined. One of: workflow (a trigger_webhook block), api.';
COMMENT ON COLUMN {{analytics}}.webhook_deliveries.run_id IS 'The run it started (see runs).';
COMMENT ON COLUMN {{analytics}}.webhook_deliveries.replay_of IS 'The delivery this one replayed; NULL for an original delivery.';
COMMENT ON COLUMN {{analytics}}.webhook_deliveries.has_dedupe_key IS 'Whether the delivery carried a deduplication key (its value is not exposed).';
COMMENT ON COLUMN {{analytics}}.webhook_deliveries.received_at IS 'When it was received.';
