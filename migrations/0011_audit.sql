-- Up Migration

-- The audit seal (issue 11), owned by the `audit_sealer` async projection: each organization's
-- events get a gap-free sequence in commit order, a leaf hash (SHA-256 of the event's JCS form)
-- and a chain value (SHA-256(previous chain ‖ leaf)). Appends never touch these tables, so
-- writers stay lock-free; the sealer follows them through the subscription runner.
CREATE TABLE audit_seals (
  organization_id text NOT NULL,
  sequence bigint NOT NULL CHECK (sequence > 0),
  global_position bigint NOT NULL UNIQUE,
  leaf bytea NOT NULL,
  chain bytea NOT NULL,
  PRIMARY KEY (organization_id, sequence)
);

-- Each organization's seal head: the last sequence, its chain value, and the RFC 6962 Merkle
-- frontier (the roots of the perfect subtrees, largest first) so a checkpoint's tree head
-- never needs the whole history re-read.
CREATE TABLE audit_heads (
  organization_id text PRIMARY KEY,
  sequence bigint NOT NULL,
  chain bytea NOT NULL,
  merkle_frontier bytea NOT NULL
);

-- Signed checkpoints, owned by the checkpointer (worker processes). The private key that signs
-- them never enters the database, so whoever can rewrite rows cannot re-sign history.
CREATE TABLE audit_checkpoints (
  organization_id text NOT NULL,
  number integer NOT NULL CHECK (number > 0),
  sequence bigint NOT NULL,
  chain_head text NOT NULL,
  merkle_root text NOT NULL,
  previous_hash text,
  key_id text NOT NULL,
  created_at text NOT NULL,
  hash text NOT NULL,
  signature text NOT NULL,
  PRIMARY KEY (organization_id, number)
);

-- The public halves of every signing key ever used (a rotation adds a row), so old
-- checkpoints stay verifiable.
CREATE TABLE audit_keys (
  key_id text PRIMARY KEY,
  algorithm text NOT NULL DEFAULT 'Ed25519',
  public_key text NOT NULL,
  first_used_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE audit_keys;
DROP TABLE audit_checkpoints;
DROP TABLE audit_heads;
DROP TABLE audit_seals;
