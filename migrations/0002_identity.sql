-- Up Migration

-- Identity (issue 3). Users and sessions are plain tables: session churn is not evented.
-- Organizations, memberships, invitations and API keys are read models of the `org-<id>`
-- streams (inline projections, rebuildable). Credentials (token and key hashes) live in their
-- own plain tables, never in an event, so a rebuild never needs them from the event store.

CREATE TABLE users (
  id text PRIMARY KEY,
  -- Normalised (trimmed, lower-cased) before it gets here.
  email text NOT NULL UNIQUE,
  name text,
  -- `scrypt$N$r$p$salt$hash`: the parameters travel with the hash so they can be raised later.
  password_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
  id text PRIMARY KEY,
  -- SHA-256 of the opaque token; the token itself is never stored.
  token_hash text NOT NULL UNIQUE,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  active_organization_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- Sliding expiry: touched at most every few minutes, not on every request.
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Read model `organizations` (projection organizations).
CREATE TABLE organizations (
  id text PRIMARY KEY,
  name text NOT NULL,
  slug text NOT NULL UNIQUE,
  created_by text,
  created_at timestamptz NOT NULL
);

-- Read model `memberships` (projection memberships).
CREATE TABLE memberships (
  organization_id text NOT NULL,
  user_id text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  joined_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id, joined_at);

-- Read model `invitations` (projection invitations).
CREATE TABLE invitations (
  id text PRIMARY KEY,
  organization_id text NOT NULL,
  email text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  accepted_at timestamptz,
  accepted_by text
);
CREATE INDEX invitations_organization ON invitations (organization_id, created_at);
CREATE INDEX invitations_pending_email ON invitations (email) WHERE accepted_at IS NULL;

-- Read model `api_keys` (projection api_keys): names, prefixes, roles — no secret.
CREATE TABLE api_keys (
  id text PRIMARY KEY,
  organization_id text NOT NULL,
  name text NOT NULL,
  prefix text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_by jsonb NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  revoked_at timestamptz
);
CREATE INDEX api_keys_organization ON api_keys (organization_id, created_at);

-- Credentials, written in the same transaction as the event that names their id.
CREATE TABLE invitation_tokens (
  invitation_id text PRIMARY KEY,
  organization_id text NOT NULL,
  token_hash text NOT NULL UNIQUE
);

CREATE TABLE api_key_credentials (
  api_key_id text PRIMARY KEY,
  organization_id text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  -- Usage telemetry, not a domain fact: written at most once a minute, never evented.
  last_used_at timestamptz
);

-- Down Migration
DROP TABLE api_key_credentials;
DROP TABLE invitation_tokens;
DROP TABLE api_keys;
DROP TABLE invitations;
DROP TABLE memberships;
DROP TABLE organizations;
DROP TABLE sessions;
DROP TABLE users;
