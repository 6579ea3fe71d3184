-- Up Migration

-- Analytics (issue 11). Analysts read a versioned contract of views (`analytics_v1`, installed
-- by src/analytics/analytics-schema.ts at the end of every migrate); these are its base objects
-- in the deployment schema, which analysts can never read directly.

-- Tables of the `analytics` async projection (src/analytics/analytics.projection.ts), rebuilt
-- from the events like any read model. They hold no input, output, error message or secret:
-- codes, times and counts only. Times are the domain times the events carry (`at`, `startedAt`).

-- One row per run. `status`: active | completed | failed | cancelled. `block_types` maps the
-- pinned workflow's block ids to their types, to name an attempt that failed without starting.
CREATE TABLE analytics_runs (
  run_id text PRIMARY KEY,
  organization_id text NOT NULL,
  workflow_id text NOT NULL,
  workflow_version integer NOT NULL,
  trigger_kind text NOT NULL,
  actor_type text NOT NULL,
  actor_id text NOT NULL,
  agent text,
  status text NOT NULL,
  error_code text,
  error_block_id text,
  recorded_at timestamptz NOT NULL,
  started_at timestamptz NOT NULL,
  first_step_at timestamptz,
  ended_at timestamptz,
  step_attempts integer NOT NULL DEFAULT 0,
  failed_attempts integer NOT NULL DEFAULT 0,
  retries integer NOT NULL DEFAULT 0,
  wait_ms bigint NOT NULL DEFAULT 0,
  block_types jsonb NOT NULL
);
CREATE INDEX analytics_runs_org_started ON analytics_runs (organization_id, started_at);
CREATE INDEX analytics_runs_workflow ON analytics_runs (workflow_id, workflow_version);

-- One row per step attempt (waits are in analytics_waits). `id`: the global position of its
-- StepAttemptStarted (or of its failure when it never started). `status`: running | succeeded |
-- failed | cancelled | abandoned; `final` is NULL while it runs.
CREATE TABLE analytics_step_attempts (
  id bigint PRIMARY KEY,
  run_id text NOT NULL,
  organization_id text NOT NULL,
  block_id text NOT NULL,
  connector_type text NOT NULL,
  attempt integer NOT NULL,
  status text NOT NULL,
  final boolean,
  error_code text,
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  duration_ms integer,
  backoff_ms integer,
  CONSTRAINT analytics_step_attempts_key UNIQUE (run_id, block_id, attempt)
);
CREATE INDEX analytics_step_attempts_org_started ON analytics_step_attempts (organization_id, started_at);

-- One row per wait block of a run. `kind`: wait_duration | wait_for_event | human_approval;
-- `end_reason`: elapsed | signal | approval | timeout | run_ended; `decision`: approved | rejected.
CREATE TABLE analytics_waits (
  run_id text NOT NULL,
  block_id text NOT NULL,
  organization_id text NOT NULL,
  kind text NOT NULL,
  event_name text,
  started_at timestamptz NOT NULL,
  until timestamptz,
  ended_at timestamptz,
  end_reason text,
  decision text,
  decided_by text,
  decided_at timestamptz,
  PRIMARY KEY (run_id, block_id)
);
CREATE INDEX analytics_waits_org_started ON analytics_waits (organization_id, started_at);

-- One row per edit of a workflow: its creation, each patch batch (one append, so one
-- transaction) and its deletion. `kind`: created | patched | unchanged (every op skipped, or
-- nothing changed) | deleted; `version`: the workflow's version after the edit.
CREATE TABLE analytics_workflow_edits (
  workflow_id text NOT NULL,
  transaction_id xid8 NOT NULL,
  organization_id text NOT NULL,
  first_position bigint NOT NULL,
  kind text NOT NULL,
  version integer NOT NULL,
  actor_type text NOT NULL,
  actor_id text NOT NULL,
  agent text,
  ops_applied integer NOT NULL,
  ops_skipped integer NOT NULL,
  skip_codes text[] NOT NULL,
  recorded_at timestamptz NOT NULL,
  PRIMARY KEY (workflow_id, transaction_id)
);
CREATE INDEX analytics_workflow_edits_org ON analytics_workflow_edits (organization_id, recorded_at);

-- The daily per-workflow rollup: counters of the runs that started that UTC day (their ends
-- count on their start day, so a day's failure rate is about the runs it started).
CREATE TABLE analytics_daily_workflow_runs (
  organization_id text NOT NULL,
  workflow_id text NOT NULL,
  day date NOT NULL,
  runs_started integer NOT NULL,
  runs_completed integer NOT NULL,
  runs_failed integer NOT NULL,
  runs_cancelled integer NOT NULL,
  step_attempts integer NOT NULL,
  retries integer NOT NULL,
  run_duration_ms bigint NOT NULL,
  PRIMARY KEY (organization_id, workflow_id, day)
);

-- Analyst login roles made by `thodare analytics grant` (src/analytics/analytics-grants.ts):
-- `organization_id` NULL = every organization. `created_role`: the grant created the role, so
-- the revoke may drop it.
CREATE TABLE analytics_grants (
  role_name text PRIMARY KEY,
  organization_id text,
  created_role boolean NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now()
);

-- What the current role may see, as one row. A view runs with its owner's rights (so analysts
-- need no privilege here), but `current_user` stays the caller. A role is limited by every
-- grant whose privileges it has (a login role in a granted group role is limited like it);
-- superusers and roles under no grant (the operator's own) are unrestricted.
CREATE VIEW analytics_scope AS
SELECT coalesce(bool_or(g.organization_id IS NULL), true) AS unrestricted,
       coalesce(array_agg(g.organization_id) FILTER (WHERE g.organization_id IS NOT NULL), '{}') AS organization_ids
FROM analytics_grants g
JOIN pg_roles r ON r.rolname = g.role_name
WHERE NOT coalesce((SELECT me.rolsuper FROM pg_roles me WHERE me.rolname = current_user), false)
  AND pg_has_role(current_user, r.oid, 'USAGE');

-- The installed contract version and the hash of its SQL: an unchanged contract is not
-- re-created (that would wait for every running analyst query on the views).
CREATE TABLE analytics_contract (
  version text PRIMARY KEY,
  sha256 text NOT NULL,
  installed_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
-- CASCADE: the contract's views depend on these (the empty analytics schema stays).
DROP TABLE analytics_contract;
DROP VIEW analytics_scope CASCADE;
DROP TABLE analytics_grants;
DROP TABLE analytics_daily_workflow_runs CASCADE;
DROP TABLE analytics_workflow_edits CASCADE;
DROP TABLE analytics_waits CASCADE;
DROP TABLE analytics_step_attempts CASCADE;
DROP TABLE analytics_runs CASCADE;
