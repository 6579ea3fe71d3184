-- Up Migration

-- Read model `workflows` (inline projection, src/projections/workflows.projection.ts): the
-- current state of every workflow, rebuilt from `workflow-<id>` streams. `version` is the
-- workflow version agents see (1 at creation, +1 per batch that changed something);
-- `stream_version` is the stream version of the last event that changed this row (created,
-- patched, deleted). Skipped-op events move the stream but not the row: writers read the
-- stream's own version from `events` (see getCurrentWorkflow).
CREATE TABLE workflows (
  id text PRIMARY KEY,
  organization_id text NOT NULL,
  name text NOT NULL,
  description text NOT NULL,
  version integer NOT NULL,
  stream_version integer NOT NULL,
  workflow jsonb NOT NULL,
  deleted_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Keyset listing of an organization's live workflows, in creation order.
CREATE INDEX workflows_organization_list ON workflows (organization_id, created_at, id) WHERE deleted_at IS NULL;

-- Same projection: where each version's workflow JSON is. WorkflowCreated and WorkflowPatched
-- events carry the whole workflow, so this is an index into the event store (no second copy):
-- GET /api/workflows/:id/versions/:version is two primary-key reads, not a fold of a stream
-- that holds one event per op.
CREATE TABLE workflow_versions (
  workflow_id text NOT NULL,
  version integer NOT NULL,
  organization_id text NOT NULL,
  global_position bigint NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (workflow_id, version)
);

-- Idempotency-Key of patches, scoped per organization and workflow. Written in the same
-- transaction as the patch's events, so a stored response exists iff the patch committed.
-- `response` is json (not jsonb) so a replay is the stored response with its key order.
CREATE TABLE workflow_patch_idempotency (
  organization_id text NOT NULL,
  workflow_id text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  response json NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, workflow_id, key)
);

-- Organization secrets (hidden connector params), AES-256-GCM encrypted. Plaintext never
-- reaches this table, the events or the logs; `key_id` fingerprints the key that sealed a row
-- so a wrong THODARE_SECRET_KEY is reported as such, not as corrupted data.
CREATE TABLE secrets (
  organization_id text NOT NULL,
  name text NOT NULL,
  ciphertext bytea NOT NULL,
  iv bytea NOT NULL,
  auth_tag bytea NOT NULL,
  key_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, name)
);

-- Down Migration
DROP TABLE secrets;
DROP TABLE workflow_patch_idempotency;
DROP TABLE workflow_versions;
DROP TABLE workflows;
