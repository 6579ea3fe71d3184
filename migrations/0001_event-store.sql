-- Up Migration

-- The event store (ARCHITECTURE §5): one append-only table, the source of truth.
CREATE TABLE events (
  global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The writing transaction: catch-up readers order by (transaction_id, global_position) and
  -- stop below the oldest open transaction, so a late commit is never skipped.
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_id text NOT NULL,
  stream_version integer NOT NULL CHECK (stream_version > 0),
  organization_id text NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT events_stream_version_unique UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_commit_order ON events (transaction_id, global_position);
CREATE INDEX events_organization_order ON events (organization_id, transaction_id, global_position);

-- The database itself refuses to rewrite history, whatever the client.
CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the events table is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_no_update_or_delete
  BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE FUNCTION events_are_append_only();

CREATE TRIGGER events_no_truncate
  BEFORE TRUNCATE ON events
  FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only();

-- Checkpoints of async projections: the (transaction_id, global_position) pair of the last
-- event each one has applied, written in the same transaction as the projection's rows.
CREATE TABLE projection_checkpoints (
  name text PRIMARY KEY,
  transaction_id xid8 NOT NULL DEFAULT '0'::xid8,
  global_position bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Events a projection failed on repeatedly; parked so the projection can move on.
CREATE TABLE projection_parked_events (
  projection text NOT NULL,
  global_position bigint NOT NULL,
  error text NOT NULL,
  attempts integer NOT NULL,
  parked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (projection, global_position)
);

-- A first read model for analysts: events per organization, stream kind, type and day.
CREATE TABLE event_counts (
  organization_id text NOT NULL,
  stream_kind text NOT NULL,
  event_type text NOT NULL,
  day date NOT NULL,
  count bigint NOT NULL,
  PRIMARY KEY (organization_id, stream_kind, event_type, day)
);

-- Down Migration
DROP TABLE event_counts;
DROP TABLE projection_parked_events;
DROP TABLE projection_checkpoints;
DROP TABLE events;
DROP FUNCTION events_are_append_only();
