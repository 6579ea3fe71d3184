-- Up Migration

-- NOT YET A MIGRATION: the next release numbers it (docs/scaling.md, "Past one database").
-- Every unique key of a per-organization table includes `organization_id`: Citus, distributing
-- these tables by it, accepts a primary key or unique constraint only when it holds the
-- distribution column. It is appended last, so every lookup that used a key's leading columns
-- still uses them. Nothing a key kept unique changes: each key's other columns were already
-- unique per organization (server-made ids; streams, ticks and deliveries are each one
-- organization's), so the organization can only repeat what they name. The keys keep their
-- names: writes since migration 0032's release name them (`ON CONFLICT ON CONSTRAINT …`), and
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
