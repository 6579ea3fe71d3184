-- Up Migration

-- The event store's append as one function, so every writer that composes its own statement
-- (the run hot path adds its run_state row and a lease fence) calls the store's append instead
-- of splicing its SQL. Inserts the batch only when the stream is at `p_expected` (0 = new) and
-- `p_allowed` holds: the max(stream_version) check rejects stale writers, and the unique
-- (stream_id, stream_version) index rejects concurrent ones that read the same max. Returns the
-- inserted rows; none when the version check or `p_allowed` failed.
CREATE FUNCTION append_events(
  p_stream_id text, p_expected integer, p_organization_id text, p_types text[], p_data jsonb[],
  p_metadata jsonb, p_allowed boolean DEFAULT true
) RETURNS TABLE (global_position bigint, transaction_id xid8, stream_version integer, recorded_at timestamptz)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
  IF NOT p_allowed THEN
    RETURN;
  END IF;
  RETURN QUERY
  INSERT INTO events AS e (stream_id, stream_version, organization_id, type, data, metadata)
  SELECT p_stream_id, p_expected + batch.ord::integer, p_organization_id, batch.type, batch.data, p_metadata
  FROM unnest(p_types, p_data) WITH ORDINALITY AS batch(type, data, ord)
  WHERE (SELECT coalesce(max(s.stream_version), 0) FROM events s WHERE s.stream_id = p_stream_id) = p_expected
  RETURNING e.global_position, e.transaction_id, e.stream_version, e.recorded_at;
END;
$$;

-- Down Migration
DROP FUNCTION append_events(text, integer, text, text[], jsonb[], jsonb, boolean);
