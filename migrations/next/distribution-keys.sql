-- Up Migration

-- NOT YET A MIGRATION: the next release numbers it (docs/scaling.md, "Past one database").
-- Every unique key of a per-organization table includes `organization_id`: Citus, distributing
-- these tables by it, accepts a primary key or unique constraint only when it holds the
-- distribution column. It is appended last, so every lookup that used a key's leading columns
-- still uses them. Nothing a key kept unique changes: each key's other columns were already
-- unique per organization (server-made ids; streams, ticks and deliveries are each one
-- organization's), so the organization can only repeat what they name. The keys keep their
-- names: writes since the release that wrote this file name them (`ON CONFLICT ON CONSTRAINT …`), and
-- the code tells a stream version conflict and a webhook's repeated delivery by them. Shipped in
-- the same release as those writes, it would break the previous release's (they name the old
-- columns) on every instance still running it. `test/integration/distribution-keys.test.ts`
-- applies it and runs today's code against it.
ALTER TABLE analytics_runs DROP CONSTRAINT analytics_runs_pkey, ADD CONSTRAINT analytics_runs_pkey PRIMARY KEY (run_id, organization_id);
ALTER TABLE analytics_step_attempts DROP CONSTRAINT analytics_step_attempts_pkey, ADD CONSTRAINT analytics_step_attempts_pkey PRIMARY KEY (id, organization_id);
ALTER TABLE analytics_step_attempts DROP CONSTRAINT analytics_step_attempts_key, ADD CONSTRAINT analytics_step_attempts_key UNIQUE (run_id, block_id, attempt, organization_id);
ALTER TABLE analytics_waits DROP CONSTRAINT analytics_waits_pkey, ADD CONSTRAINT analytics_waits_pkey PRIMARY KEY (run_id, block_id, organization_id);
ALTER TABLE analytics_workflow_edits DROP CONSTRAINT analytics_workflow_edits_pkey, ADD CONSTRAINT analytics_workflow_edits_pkey PRIMARY KEY (workflow_id, transaction_id, organization_id);
ALTER TABLE api_key_credentials DROP CONSTRAINT api_key_credentials_pkey, ADD CONSTRAINT api_key_credentials_pkey PRIMARY KEY (api_key_id, organization_id);
ALTER TABLE api_key_credentials DROP CONSTRAINT api_key_credentials_key_hash_key, ADD CONSTRAINT api_key_credentials_key_hash_key UNIQUE (key_hash, organization_id);
ALTER TABLE api_keys DROP CONSTRAINT api_keys_pkey, ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id, organization_id);
ALTER TABLE audit_seals DROP CONSTRAINT audit_seals_global_position_key, ADD CONSTRAINT audit_seals_global_position_key UNIQUE (global_position, organization_id);
ALTER TABLE event_triggers DROP CONSTRAINT event_triggers_pkey, ADD CONSTRAINT event_triggers_pkey PRIMARY KEY (workflow_id, organization_id);
ALTER TABLE events DROP CONSTRAINT events_pkey, ADD CONSTRAINT events_pkey PRIMARY KEY (global_position, organization_id);
ALTER TABLE events DROP CONSTRAINT events_stream_version_unique, ADD CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version, organization_id);
ALTER TABLE invitation_tokens DROP CONSTRAINT invitation_tokens_pkey, ADD CONSTRAINT invitation_tokens_pkey PRIMARY KEY (invitation_id, organization_id);
ALTER TABLE invitation_tokens DROP CONSTRAINT invitation_tokens_token_hash_key, ADD CONSTRAINT invitation_tokens_token_hash_key UNIQUE (token_hash, organization_id);
ALTER TABLE invitations DROP CONSTRAINT invitations_pkey, ADD CONSTRAINT invitations_pkey PRIMARY KEY (id, organization_id);
ALTER TABLE org_events DROP CONSTRAINT org_events_pkey, ADD CONSTRAINT org_events_pkey PRIMARY KEY (event_id, organization_id);
ALTER TABLE run_approvals DROP CONSTRAINT run_approvals_pkey, ADD CONSTRAINT run_approvals_pkey PRIMARY KEY (token_hash, organization_id);
ALTER TABLE run_concurrency DROP CONSTRAINT run_concurrency_pkey, ADD CONSTRAINT run_concurrency_pkey PRIMARY KEY (run_id, organization_id);
ALTER TABLE run_event_waits DROP CONSTRAINT run_event_waits_pkey, ADD CONSTRAINT run_event_waits_pkey PRIMARY KEY (run_id, block_id, organization_id);
ALTER TABLE run_failures DROP CONSTRAINT run_failures_pkey, ADD CONSTRAINT run_failures_pkey PRIMARY KEY (run_id, organization_id);
ALTER TABLE run_logs DROP CONSTRAINT run_logs_pkey, ADD CONSTRAINT run_logs_pkey PRIMARY KEY (id, organization_id);
ALTER TABLE run_logs DROP CONSTRAINT run_logs_attempt_unique, ADD CONSTRAINT run_logs_attempt_unique UNIQUE (run_id, block_id, attempt, organization_id);
ALTER TABLE run_state DROP CONSTRAINT run_state_pkey, ADD CONSTRAINT run_state_pkey PRIMARY KEY (run_id, organization_id);
ALTER TABLE schedule_ticks DROP CONSTRAINT schedule_ticks_pkey, ADD CONSTRAINT schedule_ticks_pkey PRIMARY KEY (global_position, organization_id);
DROP INDEX schedule_ticks_fired_once;
CREATE UNIQUE INDEX schedule_ticks_fired_once ON schedule_ticks (schedule_id, tick, organization_id) WHERE outcome = 'fired';
ALTER TABLE schedules DROP CONSTRAINT schedules_pkey, ADD CONSTRAINT schedules_pkey PRIMARY KEY (schedule_id, organization_id);
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey, ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (delivery_id, organization_id);
DROP INDEX webhook_deliveries_dedupe;
CREATE UNIQUE INDEX webhook_deliveries_dedupe ON webhook_deliveries (webhook_id, dedupe_key, organization_id) WHERE dedupe_key IS NOT NULL;
ALTER TABLE webhooks DROP CONSTRAINT webhooks_pkey, ADD CONSTRAINT webhooks_pkey PRIMARY KEY (webhook_id, organization_id);
ALTER TABLE workflow_versions DROP CONSTRAINT workflow_versions_pkey, ADD CONSTRAINT workflow_versions_pkey PRIMARY KEY (workflow_id, version, organization_id);
ALTER TABLE workflows DROP CONSTRAINT workflows_pkey, ADD CONSTRAINT workflows_pkey PRIMARY KEY (id, organization_id);

-- The run append function lives in the schema, so its conflict target changes with the keys: it
-- names the run's key by constraint, which holds under either key (the down part keeps it).
CREATE OR REPLACE FUNCTION append_run_batches(p_items jsonb, p_channel text)
RETURNS TABLE (ord integer, inserted integer, fenced integer)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan -- as append_streams
SET enable_seqscan = off
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH item AS (
    SELECT t.n::integer AS n, x.*
    FROM jsonb_array_elements(p_items) WITH ORDINALITY AS t(value, n),
      jsonb_to_record(t.value) AS x(
        stream text, expected integer, organization text, run text, notify text, fence_owner text, fence_epoch integer,
        release boolean, status text, version integer, error jsonb, waiting_for jsonb, ended_at timestamptz,
        due_now boolean, available_at timestamptz, workflow_id text, workflow_version integer, started_at timestamptz,
        lease_owner text, lease_ms integer, check_workflow boolean)
  ), fence AS (
    SELECT i.n FROM item i
    CROSS JOIN LATERAL (
      SELECT 1 FROM run_state r
      WHERE r.run_id = i.run AND r.lease_owner = i.fence_owner AND r.lease_epoch = i.fence_epoch
      FOR UPDATE
    ) AS held
    WHERE i.fence_owner IS NOT NULL
  ), refused AS (
    -- A fence that failed, or a workflow that moved since its writer read it (0014).
    SELECT coalesce(array_agg(i.n), '{}') AS ords FROM item i
    WHERE (i.fence_owner IS NOT NULL AND i.n NOT IN (SELECT f.n FROM fence f))
       OR (coalesce(i.check_workflow, false) AND (
             SELECT w.version FROM workflows w
             WHERE w.id = i.workflow_id AND w.organization_id = i.organization AND w.deleted_at IS NULL
           ) IS DISTINCT FROM i.workflow_version)
  ), appended AS (
    SELECT a.ord, count(*)::integer AS events, min(a.global_position) AS first_position,
           min(a.recorded_at) AS first_at, max(a.recorded_at) AS last_at
    FROM append_streams(p_items, (SELECT r.ords FROM refused r)) AS a
    GROUP BY a.ord
  ), landed AS (
    -- The items whose batch was appended, with what it got.
    SELECT i.*, a.events, a.first_position, a.first_at, a.last_at
    FROM item i JOIN appended a ON a.ord = i.n
  ), created AS (
    INSERT INTO run_state AS r (run_id, organization_id, workflow_id, workflow_version, seq, status, stream_version,
      error, waiting_for, started_at, ended_at, available_at, created_at, updated_at, lease_owner, lease_until, lease_epoch)
    SELECT l.run, l.organization, l.workflow_id, l.workflow_version, l.first_position,
      l.status, l.version, nullif(l.error, 'null'), nullif(l.waiting_for, 'null'),
      l.started_at, l.ended_at,
      CASE WHEN l.due_now THEN l.first_at ELSE l.available_at END,
      l.started_at, l.last_at,
      l.lease_owner,
      CASE WHEN l.lease_owner IS NULL THEN NULL ELSE now() + l.lease_ms * interval '1 millisecond' END,
      CASE WHEN l.lease_owner IS NULL THEN 0 ELSE 1 END
    FROM landed l
    WHERE l.expected = 0
    ON CONFLICT ON CONSTRAINT run_state_pkey DO NOTHING
    RETURNING 1
  ), updated AS (
    -- available_at: due now keeps the time the run has been due since (a HOT update).
    UPDATE run_state r SET status = l.status, stream_version = l.version,
      error = nullif(l.error, 'null'), waiting_for = nullif(l.waiting_for, 'null'), ended_at = l.ended_at,
      available_at = CASE WHEN NOT l.due_now THEN l.available_at
        WHEN r.available_at IS NOT NULL AND r.available_at <= l.last_at THEN r.available_at ELSE l.last_at END,
      updated_at = l.last_at,
      lease_owner = CASE WHEN l.release THEN NULL ELSE r.lease_owner END,
      lease_until = CASE WHEN l.release THEN NULL ELSE r.lease_until END
    FROM landed l
    WHERE l.expected <> 0 AND r.run_id = l.run
      -- The rows to update, as an index condition: never a scan of run_state to join against.
      AND r.run_id = ANY (ARRAY(SELECT u.run FROM landed u WHERE u.expected <> 0))
    RETURNING 1
  ), notified AS (
    SELECT pg_notify(p_channel, l.notify) FROM landed l
    WHERE p_channel IS NOT NULL AND l.notify IS NOT NULL
  ), done AS (
    -- Read by the answer's WHERE so that the NOTIFYs are sent: a CTE nobody reads is not
    -- evaluated, and an output column nobody reads is dropped (the DML CTEs always run).
    SELECT (SELECT count(*) FROM created) + (SELECT count(*) FROM updated) + (SELECT count(*) FROM notified) AS writes
  )
  SELECT i.n, coalesce(l.events, 0), (i.n IN (SELECT f.n FROM fence f))::integer
  FROM item i LEFT JOIN landed l ON l.n = i.n CROSS JOIN done
  WHERE done.writes >= 0
  ORDER BY i.n;
END;
$$;

-- Down Migration
ALTER TABLE analytics_runs DROP CONSTRAINT analytics_runs_pkey, ADD CONSTRAINT analytics_runs_pkey PRIMARY KEY (run_id);
ALTER TABLE analytics_step_attempts DROP CONSTRAINT analytics_step_attempts_pkey, ADD CONSTRAINT analytics_step_attempts_pkey PRIMARY KEY (id);
ALTER TABLE analytics_step_attempts DROP CONSTRAINT analytics_step_attempts_key, ADD CONSTRAINT analytics_step_attempts_key UNIQUE (run_id, block_id, attempt);
ALTER TABLE analytics_waits DROP CONSTRAINT analytics_waits_pkey, ADD CONSTRAINT analytics_waits_pkey PRIMARY KEY (run_id, block_id);
ALTER TABLE analytics_workflow_edits DROP CONSTRAINT analytics_workflow_edits_pkey, ADD CONSTRAINT analytics_workflow_edits_pkey PRIMARY KEY (workflow_id, transaction_id);
ALTER TABLE api_key_credentials DROP CONSTRAINT api_key_credentials_pkey, ADD CONSTRAINT api_key_credentials_pkey PRIMARY KEY (api_key_id);
ALTER TABLE api_key_credentials DROP CONSTRAINT api_key_credentials_key_hash_key, ADD CONSTRAINT api_key_credentials_key_hash_key UNIQUE (key_hash);
ALTER TABLE api_keys DROP CONSTRAINT api_keys_pkey, ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);
ALTER TABLE audit_seals DROP CONSTRAINT audit_seals_global_position_key, ADD CONSTRAINT audit_seals_global_position_key UNIQUE (global_position);
ALTER TABLE event_triggers DROP CONSTRAINT event_triggers_pkey, ADD CONSTRAINT event_triggers_pkey PRIMARY KEY (workflow_id);
ALTER TABLE events DROP CONSTRAINT events_pkey, ADD CONSTRAINT events_pkey PRIMARY KEY (global_position);
ALTER TABLE events DROP CONSTRAINT events_stream_version_unique, ADD CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version);
ALTER TABLE invitation_tokens DROP CONSTRAINT invitation_tokens_pkey, ADD CONSTRAINT invitation_tokens_pkey PRIMARY KEY (invitation_id);
ALTER TABLE invitation_tokens DROP CONSTRAINT invitation_tokens_token_hash_key, ADD CONSTRAINT invitation_tokens_token_hash_key UNIQUE (token_hash);
ALTER TABLE invitations DROP CONSTRAINT invitations_pkey, ADD CONSTRAINT invitations_pkey PRIMARY KEY (id);
ALTER TABLE org_events DROP CONSTRAINT org_events_pkey, ADD CONSTRAINT org_events_pkey PRIMARY KEY (event_id);
ALTER TABLE run_approvals DROP CONSTRAINT run_approvals_pkey, ADD CONSTRAINT run_approvals_pkey PRIMARY KEY (token_hash);
ALTER TABLE run_concurrency DROP CONSTRAINT run_concurrency_pkey, ADD CONSTRAINT run_concurrency_pkey PRIMARY KEY (run_id);
ALTER TABLE run_event_waits DROP CONSTRAINT run_event_waits_pkey, ADD CONSTRAINT run_event_waits_pkey PRIMARY KEY (run_id, block_id);
ALTER TABLE run_failures DROP CONSTRAINT run_failures_pkey, ADD CONSTRAINT run_failures_pkey PRIMARY KEY (run_id);
ALTER TABLE run_logs DROP CONSTRAINT run_logs_pkey, ADD CONSTRAINT run_logs_pkey PRIMARY KEY (id);
ALTER TABLE run_logs DROP CONSTRAINT run_logs_attempt_unique, ADD CONSTRAINT run_logs_attempt_unique UNIQUE (run_id, block_id, attempt);
ALTER TABLE run_state DROP CONSTRAINT run_state_pkey, ADD CONSTRAINT run_state_pkey PRIMARY KEY (run_id);
ALTER TABLE schedule_ticks DROP CONSTRAINT schedule_ticks_pkey, ADD CONSTRAINT schedule_ticks_pkey PRIMARY KEY (global_position);
DROP INDEX schedule_ticks_fired_once;
CREATE UNIQUE INDEX schedule_ticks_fired_once ON schedule_ticks (schedule_id, tick) WHERE outcome = 'fired';
ALTER TABLE schedules DROP CONSTRAINT schedules_pkey, ADD CONSTRAINT schedules_pkey PRIMARY KEY (schedule_id);
ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_pkey, ADD CONSTRAINT webhook_deliveries_pkey PRIMARY KEY (delivery_id);
DROP INDEX webhook_deliveries_dedupe;
CREATE UNIQUE INDEX webhook_deliveries_dedupe ON webhook_deliveries (webhook_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
ALTER TABLE webhooks DROP CONSTRAINT webhooks_pkey, ADD CONSTRAINT webhooks_pkey PRIMARY KEY (webhook_id);
ALTER TABLE workflow_versions DROP CONSTRAINT workflow_versions_pkey, ADD CONSTRAINT workflow_versions_pkey PRIMARY KEY (workflow_id, version);
ALTER TABLE workflows DROP CONSTRAINT workflows_pkey, ADD CONSTRAINT workflows_pkey PRIMARY KEY (id);
