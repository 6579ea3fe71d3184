-- Up Migration

-- `event_triggers` (src/runs/event-triggers.projection.ts): the workflows a published organization
-- event starts, one row per workflow with an enabled `trigger_event` block, kept by an inline
-- projection of the workflow's own events (created, patched, deleted), so a publication that
-- commits after a patch sees it. Looked up by (organization, event name) at each publication.
CREATE TABLE event_triggers (
  workflow_id text PRIMARY KEY,
  organization_id text NOT NULL,
  block_id text NOT NULL,
  event_name text NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX event_triggers_by_name ON event_triggers (organization_id, event_name);

-- The runs a publication started, as its `OrgEventDelivered` records them: `[{workflowId, runId}]`,
-- and the workflows it could not start `[{workflowId, error, message}]` (an idempotent replay of
-- the publication answers them again).
ALTER TABLE org_events ADD COLUMN started_runs jsonb NOT NULL DEFAULT '[]';
ALTER TABLE org_events ADD COLUMN refused_starts jsonb NOT NULL DEFAULT '[]';

-- Down Migration

ALTER TABLE org_events DROP COLUMN refused_starts;
ALTER TABLE org_events DROP COLUMN started_runs;
DROP TABLE event_triggers;
