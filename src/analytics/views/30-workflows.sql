CREATE OR REPLACE VIEW {{analytics}}.workflow_edits WITH (security_barrier) AS
SELECT e.workflow_id, e.organization_id, e.first_position AS edit_id, e.kind, e.version, e.actor_type, e.actor_id, e.agent,
  e.ops_applied, e.ops_skipped, e.skip_codes, e.recorded_at
FROM {{app}}.analytics_workflow_edits e
WHERE {{visible(e)}};

COMMENT ON VIEW {{analytics}}.workflow_edits IS 'One row per edit of a workflow: its creation, every patch request (a batch of ops, including those that changed nothing) and its deletion. An agent''s repair loop is a series of patched/unchanged rows.';
COMMENT ON COLUMN {{analytics}}.workflow_edits.workflow_id IS 'The workflow.';
COMMENT ON COLUMN {{analytics}}.workflow_edits.organization_id IS 'The organization the workflow belongs to.';
COMMENT ON COLUMN {{analytics}}.workflow_edits.edit_id IS 'A stable id of the edit, increasing in the order edits were recorded.';
COMMENT ON COLUMN {{analytics}}.workflow_edits.kind IS 'One of: created, patched (a new version), unchanged (every op was skipped, or none changed anything), deleted.';
COMMENT ON COLUMN {{analytics}}.workflow_edits.version IS 'The workflow version after the edit.';
COMMENT ON COLUMN {{analytics}}.workflow_edits.actor_type IS 'Who made the edit. One of: user, api_key, system.';
COMMENT ON COLUMN {{analytics}}.workflow_edits.actor_id IS 'The user id or API key id that made it.';
COMMENT ON COLUMN {{analytics}}.workflow_edits.agent IS 'The agent label the client sent (X-Thodare-Agent header); NULL when none.';
COMMENT ON COLUMN {{analytics}}.workflow_edits.ops_applied IS 'Edit ops of the request that applied.';
COMMENT ON COLUMN {{analytics}}.workflow_edits.ops_skipped IS 'Edit ops of the request that were skipped.';
COMMENT ON COLUMN {{analytics}}.workflow_edits.skip_codes IS 'The reason code of each skipped op, in request order (e.g. unknown_block_type, invalid_edge_source, cycle_introduced, duplicate_connection).';
COMMENT ON COLUMN {{analytics}}.workflow_edits.recorded_at IS 'When the edit was recorded.';

CREATE OR REPLACE VIEW {{analytics}}.workflow_versions WITH (security_barrier) AS
SELECT e.workflow_id, e.organization_id, e.version, e.actor_type, e.actor_id, e.agent, e.ops_applied, e.ops_skipped,
  e.skip_codes, e.recorded_at AS created_at
FROM {{app}}.analytics_workflow_edits e
WHERE e.kind IN ('created', 'patched') AND {{visible(e)}};

COMMENT ON VIEW {{analytics}}.workflow_versions IS 'One row per version of a workflow, with the edit that made it. Runs pin a version (runs.workflow_version).';
COMMENT ON COLUMN {{analytics}}.workflow_versions.workflow_id IS 'The workflow.';
COMMENT ON COLUMN {{analytics}}.workflow_versions.organization_id IS 'The organization the workflow belongs to.';
COMMENT ON COLUMN {{analytics}}.workflow_versions.version IS 'The version, from 1 (the creation).';
COMMENT ON COLUMN {{analytics}}.workflow_versions.actor_type IS 'Who made this version. One of: user, api_key, system.';
COMMENT ON COLUMN {{analytics}}.workflow_versions.actor_id IS 'The user id or API key id that made it.';
COMMENT ON COLUMN {{analytics}}.workflow_versions.agent IS 'The agent label the client sent (X-Thodare-Agent header); NULL when none.';
COMMENT ON COLUMN {{analytics}}.workflow_versions.ops_applied IS 'Edit ops applied by the request that made this version (0 for the creation).';
COMMENT ON COLUMN {{analytics}}.workflow_versions.ops_skipped IS 'Edit ops of that same request that were skipped.';
COMMENT ON COLUMN {{analytics}}.workflow_versions.skip_codes IS 'The reason code of each skipped op of that request, in request order.';
COMMENT ON COLUMN {{analytics}}.workflow_versions.created_at IS 'When the version was recorded.';

CREATE OR REPLACE VIEW {{analytics}}.daily_workflow_runs WITH (security_barrier) AS
SELECT d.organization_id, d.workflow_id, d.day, d.runs_started, d.runs_completed, d.runs_failed, d.runs_cancelled,
  d.step_attempts, d.retries, d.run_duration_ms
FROM {{app}}.analytics_daily_workflow_runs d
WHERE {{visible(d)}};

COMMENT ON VIEW {{analytics}}.daily_workflow_runs IS 'Per workflow and UTC day, counters of the runs that started that day, kept by a projection (cheap to scan). A run''s end counts on its start day, so a day''s failure rate is runs_failed / (runs_completed + runs_failed + runs_cancelled).';
COMMENT ON COLUMN {{analytics}}.daily_workflow_runs.organization_id IS 'The organization the workflow belongs to.';
COMMENT ON COLUMN {{analytics}}.daily_workflow_runs.workflow_id IS 'The workflow.';
COMMENT ON COLUMN {{analytics}}.daily_workflow_runs.day IS 'The UTC day the runs started (runs.started_at).';
COMMENT ON COLUMN {{analytics}}.daily_workflow_runs.runs_started IS 'Runs started that day.';
COMMENT ON COLUMN {{analytics}}.daily_workflow_runs.runs_completed IS 'Of those, runs that completed (so far).';
COMMENT ON COLUMN {{analytics}}.daily_workflow_runs.runs_failed IS 'Of those, runs that failed (so far).';
COMMENT ON COLUMN {{analytics}}.daily_workflow_runs.runs_cancelled IS 'Of those, runs that were cancelled (so far).';
COMMENT ON COLUMN {{analytics}}.daily_workflow_runs.step_attempts IS 'Step attempts those runs made.';
COMMENT ON COLUMN {{analytics}}.daily_workflow_runs.retries IS 'Retries those runs scheduled.';
COMMENT ON COLUMN {{analytics}}.daily_workflow_runs.run_duration_ms IS 'Sum of the durations of those runs that ended (divide by the ended runs for a mean).';

CREATE OR REPLACE VIEW {{analytics}}.organizations WITH (security_barrier) AS
SELECT o.organization_id, o.name, o.slug, o.created_at
FROM (SELECT id AS organization_id, name, slug, created_at FROM {{app}}.organizations) o
WHERE {{visible(o)}};

COMMENT ON VIEW {{analytics}}.organizations IS 'One row per organization (tenant), to name the organization_id of the other views.';
COMMENT ON COLUMN {{analytics}}.organizations.organization_id IS 'The organization''s id.';
COMMENT ON COLUMN {{analytics}}.organizations.name IS 'Its display name.';
COMMENT ON COLUMN {{analytics}}.organizations.slug IS 'Its unique URL-safe name.';
COMMENT ON COLUMN {{analytics}}.organizations.created_at IS 'When it was created.';
