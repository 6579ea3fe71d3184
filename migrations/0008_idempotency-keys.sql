-- Up Migration

-- One store for idempotency keys (issue 8), owned by src/idempotency/idempotency-keys.ts. A key
-- is unique per organization and scope (`run-start`, `org-event`, `workflow-patch:<id>`) and is
-- claimed in the transaction of the work it guards, with the answer that work gives: a row
-- exists if and only if the work committed. `result` is json, not jsonb, so a replay is the
-- recorded answer with its key order. `expires_at` NULL: kept forever (run starts).
CREATE TABLE idempotency_keys (
  organization_id text NOT NULL,
  scope text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  result json NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  PRIMARY KEY (organization_id, scope, key)
);

-- Each claim prunes its organization's expired keys.
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (organization_id, expires_at) WHERE expires_at IS NOT NULL;

INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, result, created_at, expires_at)
SELECT organization_id, 'run-start', idempotency_key, request_hash, json_build_object('runId', run_id), created_at, NULL
FROM run_start_keys;

-- Patch keys lived 24 hours from their creation; the expired ones are not worth moving.
INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, result, created_at, expires_at)
SELECT organization_id, 'workflow-patch:' || workflow_id, key, request_hash, response, created_at, created_at + interval '24 hours'
FROM workflow_patch_idempotency
WHERE created_at > now() - interval '24 hours';

-- An event's key lived as long as the publication stays matchable.
INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, result, created_at, expires_at)
SELECT organization_id, 'org-event', idempotency_key, request_hash, json_build_object('eventId', event_id), published_at, expires_at
FROM org_events
WHERE idempotency_key IS NOT NULL AND expires_at > now();

DROP TABLE run_start_keys;
DROP TABLE workflow_patch_idempotency;
-- `org_events` keeps the key as a column (it is in the event) but no longer enforces it: a key
-- freed at expiry may be reused while the expired row still waits for its pruning.
DROP INDEX org_events_idempotency;

-- Down Migration
CREATE TABLE run_start_keys (
  organization_id text NOT NULL,
  idempotency_key text NOT NULL,
  request_hash text NOT NULL,
  run_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, idempotency_key)
);
INSERT INTO run_start_keys (organization_id, idempotency_key, request_hash, run_id, created_at)
SELECT organization_id, key, request_hash, result->>'runId', created_at
FROM idempotency_keys WHERE scope = 'run-start';

CREATE TABLE workflow_patch_idempotency (
  organization_id text NOT NULL,
  workflow_id text NOT NULL,
  key text NOT NULL,
  request_hash text NOT NULL,
  response json NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, workflow_id, key)
);
INSERT INTO workflow_patch_idempotency (organization_id, workflow_id, key, request_hash, response, created_at)
SELECT organization_id, substr(scope, length('workflow-patch:') + 1), key, request_hash, result, created_at
FROM idempotency_keys WHERE scope LIKE 'workflow-patch:%';

-- A key reused after its expiry would break the unique index: the older, expired rows give it up.
UPDATE org_events o SET idempotency_key = NULL
WHERE o.idempotency_key IS NOT NULL AND o.expires_at <= now()
  AND EXISTS (SELECT 1 FROM org_events n
              WHERE n.organization_id = o.organization_id AND n.idempotency_key = o.idempotency_key
                AND n.published_at > o.published_at);
CREATE UNIQUE INDEX org_events_idempotency ON org_events (organization_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;

DROP TABLE idempotency_keys;
