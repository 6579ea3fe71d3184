-- Up Migration

-- Runs (ARCHITECTURE §7). `run_state` is the inline projection of every run stream and the
-- worker's queue: a run is claimable when `available_at <= now()` and its lease is free or
-- expired. The lease columns are operational (a rebuild leaves them empty).
CREATE TABLE run_state (
  run_id text PRIMARY KEY,
  organization_id text NOT NULL,
  workflow_id text NOT NULL,
  workflow_version integer NOT NULL,
  -- Global position of RunStarted: a stable, rebuild-proof keyset for listings.
  seq bigint NOT NULL,
  status text NOT NULL,
  stream_version integer NOT NULL,
  error jsonb,
  waiting_for jsonb,
  created_at timestamptz NOT NULL,
  started_at timestamptz,
  ended_at timestamptz,
  updated_at timestamptz NOT NULL,
  -- When the run next owes work (now, a timer, a retry); NULL = only a signal, an approval or a
  -- cancel can move it (or it has ended).
  available_at timestamptz,
  lease_owner text,
  lease_until timestamptz,
  -- Bumped by every claim: a worker whose epoch is stale can no longer write (fencing).
  lease_epoch integer NOT NULL DEFAULT 0
) WITH (fillfactor = 70); -- room for HOT updates: a step's UPDATE touches no indexed column

CREATE INDEX run_state_claimable ON run_state (available_at) WHERE available_at IS NOT NULL;
CREATE INDEX run_state_org_seq ON run_state (organization_id, seq DESC);
CREATE INDEX run_state_org_workflow_seq ON run_state (organization_id, workflow_id, seq DESC);

-- One row per step attempt (async projection `run_logs`). `id` is the global position of the
-- attempt's StepAttemptStarted (or of its failure when it never started), so a rebuild gives the
-- same ids and the same keyset order.
CREATE TABLE run_logs (
  id bigint PRIMARY KEY,
  run_id text NOT NULL,
  organization_id text NOT NULL,
  block_id text NOT NULL,
  block_type text NOT NULL,
  attempt integer NOT NULL,
  status text NOT NULL,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  duration_ms integer,
  input jsonb,
  output jsonb,
  error jsonb,
  CONSTRAINT run_logs_attempt_unique UNIQUE (run_id, block_id, attempt)
);

CREATE INDEX run_logs_run ON run_logs (run_id, id);

-- Open `wait_for_event` waits (inline projection `run_waits`): what POST /api/events matches.
CREATE TABLE run_event_waits (
  run_id text NOT NULL,
  block_id text NOT NULL,
  organization_id text NOT NULL,
  event_name text NOT NULL,
  correlation_key text,
  until timestamptz,
  since timestamptz NOT NULL,
  PRIMARY KEY (run_id, block_id)
);

CREATE INDEX run_event_waits_match ON run_event_waits (organization_id, event_name, correlation_key);

-- Approval tokens (inline projection `run_waits`), looked up by the SHA-256 of the token.
CREATE TABLE run_approvals (
  token_hash text PRIMARY KEY,
  organization_id text NOT NULL,
  run_id text NOT NULL,
  block_id text NOT NULL,
  prompt text NOT NULL,
  status text NOT NULL,
  requested_at timestamptz NOT NULL,
  expires_at timestamptz,
  decided_by text,
  decided_at timestamptz,
  note text
);

CREATE INDEX run_approvals_run ON run_approvals (run_id, block_id);

-- Organization-wide events (POST /api/events), kept so a wait that begins later still gets them
-- (within the retention window; see src/worker/README.md).
CREATE TABLE org_events (
  event_id text PRIMARY KEY,
  organization_id text NOT NULL,
  name text NOT NULL,
  correlation_key text,
  payload jsonb NOT NULL,
  idempotency_key text,
  request_hash text NOT NULL,
  matched_runs integer NOT NULL DEFAULT 0,
  published_at timestamptz NOT NULL DEFAULT now(),
  -- Set once the runs waiting at publication got it; a worker re-delivers the ones left NULL
  -- (the publisher crashed in between).
  delivered_at timestamptz,
  expires_at timestamptz NOT NULL
);

CREATE UNIQUE INDEX org_events_idempotency ON org_events (organization_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX org_events_match ON org_events (organization_id, name, published_at);
CREATE INDEX org_events_expiry ON org_events (expires_at);
CREATE INDEX org_events_undelivered ON org_events (published_at) WHERE delivered_at IS NULL;

-- Idempotency keys of run starts, scoped to the organization.
CREATE TABLE run_start_keys (
  organization_id text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash text NOT NULL,
  run_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, idempotency_key)
);

-- Down Migration
DROP TABLE run_start_keys;
DROP TABLE org_events;
DROP TABLE run_approvals;
DROP TABLE run_event_waits;
DROP TABLE run_logs;
DROP TABLE run_state;
