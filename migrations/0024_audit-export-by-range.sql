-- Up Migration

-- An audit export of a time range (`GET /api/audit/export?from=&to=`) cost as much as the whole
-- history of its organization, twice: its bounds were found by joining every seal with its event
-- to read the event's time, and its start state (the chain value and Merkle frontier just before
-- the range) was rebuilt by replaying every earlier leaf. Both now cost what the range and the
-- last checkpoint interval hold (src/audit/audit-export.ts, src/audit/seal-reads.ts):

-- 1. Each seal keeps its event's recorded time, written by the sealer (which has the event in
--    hand), and an index finds a range's seals by it. Seals of events deleted since keep none, as
--    the join found none before. The backfill rewrites every seal once: on a store of tens of
--    millions of seals, run this migration in a quiet hour (the sealer waits for it).
ALTER TABLE audit_seals ADD COLUMN recorded_at timestamptz;
UPDATE audit_seals s SET recorded_at = e.recorded_at FROM events e WHERE e.global_position = s.global_position;
CREATE INDEX audit_seals_recorded_at ON audit_seals (organization_id, recorded_at) INCLUDE (sequence);
-- A sealer of the previous release (still running during a rolling deploy) writes no time: the
-- event's is filled in. The WHEN keeps the function out of this release's inserts.
CREATE FUNCTION audit_seals_fill_recorded_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  SELECT e.recorded_at INTO NEW.recorded_at FROM events e WHERE e.global_position = NEW.global_position;
  RETURN NEW;
END;
$$;
CREATE TRIGGER audit_seals_fill_recorded_at BEFORE INSERT ON audit_seals
  FOR EACH ROW WHEN (NEW.recorded_at IS NULL) EXECUTE FUNCTION audit_seals_fill_recorded_at();

-- 2. Each checkpoint keeps the Merkle frontier it signed the root of, so a start state is rebuilt
--    from the last checkpoint before it. Checkpoints signed before this migration keep none: a
--    start state before the first checkpoint that has one is rebuilt from the beginning, as before.
ALTER TABLE audit_checkpoints ADD COLUMN merkle_frontier bytea;
CREATE INDEX audit_checkpoints_sequence ON audit_checkpoints (organization_id, sequence);

-- Down Migration
DROP INDEX audit_checkpoints_sequence;
ALTER TABLE audit_checkpoints DROP COLUMN merkle_frontier;
DROP TRIGGER audit_seals_fill_recorded_at ON audit_seals;
DROP FUNCTION audit_seals_fill_recorded_at();
DROP INDEX audit_seals_recorded_at;
ALTER TABLE audit_seals DROP COLUMN recorded_at;
