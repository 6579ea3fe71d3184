-- Up Migration

-- Triggers (issue 10). Every table here is an inline projection: rebuilding from the events
-- gives the same rows.

-- `schedules` (src/schedules/schedules.projection.ts): one row per schedule, defined either by a
-- workflow's `trigger_schedule` block (source 'workflow', derived from WorkflowCreated/Patched/
-- Deleted; its id is derived from workflow and block ids) or through POST /api/schedules
-- (source 'api', from ScheduleCreated). `cursor_at`: every tick up to it has its fate recorded;
-- `next_fire_at` is NULL while paused, ended, retired or deleted, so the due index stays small.
-- `stream_version` is the `schedule-<id>` stream's version (0 before its first event).
CREATE TABLE schedules (
  schedule_id text PRIMARY KEY,
  organization_id text NOT NULL,
  workflow_id text NOT NULL,
  source text NOT NULL CHECK (source IN ('workflow', 'api')),
  block_id text,
  cron text NOT NULL,
  timezone text NOT NULL,
  input jsonb NOT NULL,
  end_at timestamptz,
  overlap text NOT NULL,
  catchup_window_sec integer NOT NULL,
  state text NOT NULL CHECK (state IN ('active', 'paused', 'ended', 'workflow_deleted', 'deleted')),
  note text,
  cursor_at timestamptz NOT NULL,
  next_fire_at timestamptz,
  buffered_tick timestamptz,
  last_run_id text,
  last_scheduled_at timestamptz,
  stream_version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE next_fire_at IS NOT NULL;
CREATE INDEX schedules_buffered ON schedules (schedule_id) WHERE buffered_tick IS NOT NULL;
CREATE INDEX schedules_org ON schedules (organization_id, created_at, schedule_id);
CREATE INDEX schedules_workflow ON schedules (workflow_id);

-- `schedule_ticks` (same projection): the ledger, one row per ScheduleFired, ScheduleTickBuffered
-- or ScheduleTickSkipped (a skipped range — missed, paused — is one row with `through_tick` and
-- `tick_count`). The partial unique index is the claim: a tick fires at most once, because a
-- second ScheduleFired for it fails inside the transaction that would start its run.
CREATE TABLE schedule_ticks (
  global_position bigint PRIMARY KEY,
  schedule_id text NOT NULL,
  organization_id text NOT NULL,
  tick timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('fired', 'skipped', 'buffered')),
  reason text,
  run_id text,
  through_tick timestamptz,
  tick_count integer NOT NULL DEFAULT 1,
  origin text NOT NULL,
  recorded_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX schedule_ticks_fired_once ON schedule_ticks (schedule_id, tick) WHERE outcome = 'fired';
CREATE INDEX schedule_ticks_ledger ON schedule_ticks (schedule_id, global_position);

-- `webhooks` (src/webhooks/webhooks.projection.ts): one row per inbound webhook, defined by a
-- `trigger_webhook` block (source 'workflow') or POST /api/workflows/:id/webhooks (source 'api').
-- No credential is stored: the token and signing secret are derived from the deployment key and
-- `secret_generation` (see src/webhooks/webhook-credentials.ts).
CREATE TABLE webhooks (
  webhook_id text PRIMARY KEY,
  organization_id text NOT NULL,
  workflow_id text NOT NULL,
  source text NOT NULL CHECK (source IN ('workflow', 'api')),
  block_id text,
  signing text NOT NULL,
  idempotency_key_path text,
  secret_generation integer NOT NULL,
  previous_secret_until timestamptz,
  revoked_at timestamptz,
  stream_version integer NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX webhooks_workflow ON webhooks (workflow_id, created_at);

-- `webhook_deliveries` (same projection): one row per WebhookReceived. The unique index on
-- (webhook, dedupe key) is the deduplication: a repeated delivery fails inside the transaction
-- that would start its run, and is answered with the first delivery's run.
CREATE TABLE webhook_deliveries (
  delivery_id text PRIMARY KEY,
  webhook_id text NOT NULL,
  organization_id text NOT NULL,
  dedupe_key text,
  run_id text NOT NULL,
  replay_of text,
  global_position bigint NOT NULL,
  received_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX webhook_deliveries_dedupe ON webhook_deliveries (webhook_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX webhook_deliveries_list ON webhook_deliveries (webhook_id, global_position);

-- Down Migration
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
DROP TABLE schedule_ticks;
DROP TABLE schedules;
