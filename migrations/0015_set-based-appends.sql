-- Up Migration

-- Appends of many streams in set-based statements instead of one function call per stream.
-- `append_run_batches` (0013, 0014) looped over its items and ran five or six statements for
-- each (the fence, the workflow check, `append_events`, the run_state write, the NOTIFY): about
-- 0.22 ms of server time per run batch, the largest cost of a run. It now does each of those once
-- for all its items, with the same per-item semantics and the same answer.

-- The event store's append for many streams at once (its sibling `append_events` appends one):
-- each batch of `p_batches` is {stream, expected, organization, types[], data[], metadata}; a
-- batch is inserted only when its stream is at `expected` (0 = new) and its ordinal is not in
-- `p_refused`. The streams must differ. Returns the inserted rows with their batch's ordinal;
-- a batch with no row failed its check. The unique (stream_id, stream_version) index rejects
-- concurrent writers that read the same max, failing the whole statement.
CREATE FUNCTION append_streams(p_batches jsonb, p_refused integer[] DEFAULT '{}')
RETURNS TABLE (ord integer, global_position bigint, transaction_id xid8, stream_version integer, recorded_at timestamptz)
LANGUAGE plpgsql
-- One plan per connection, not one per call: PL/pgSQL plans a statement afresh for each of its
-- first five runs on a connection, and planning this one costs more than running it.
SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH batch AS (
    SELECT t.n::integer AS n, x.stream, x.expected, x.organization, x.types, x.data, x.metadata
    FROM jsonb_array_elements(p_batches) WITH ORDINALITY AS t(value, n),
      jsonb_to_record(t.value) AS x(stream text, expected integer, organization text, types text[], data jsonb, metadata jsonb)
  ), accepted AS (
    SELECT b.* FROM batch b
    WHERE b.n <> ALL (p_refused)
      AND (SELECT coalesce(max(s.stream_version), 0) FROM events s WHERE s.stream_id = b.stream) = b.expected
  ), inserted AS (
    INSERT INTO events AS e (stream_id, stream_version, organization_id, type, data, metadata)
    SELECT a.stream, a.expected + ev.k::integer, a.organization, ev.type, a.data -> (ev.k::integer - 1), a.metadata
    FROM accepted a CROSS JOIN LATERAL unnest(a.types) WITH ORDINALITY AS ev(type, k)
    ORDER BY a.n, ev.k
    RETURNING e.stream_id, e.global_position, e.transaction_id, e.stream_version, e.recorded_at
  )
  SELECT a.n, i.global_position, i.transaction_id, i.stream_version, i.recorded_at
  FROM inserted i JOIN accepted a ON a.stream = i.stream_id;
END;
$$;

-- Same contract as 0013/0014 (see there), now set-based: the fences of all fenced items are
-- checked (and their rows locked) at once, every accepted batch goes through one `append_streams`,
-- the new runs' rows are inserted and the others' updated in one statement each, and each
-- accepted item's NOTIFY is sent. The items must name different runs.
CREATE OR REPLACE FUNCTION append_run_batches(p_items jsonb, p_channel text)
RETURNS TABLE (ord integer, inserted integer, fenced integer)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan -- as append_streams
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH item AS (
    SELECT t.n::integer AS n, x.*
    FROM jsonb_array_elements(p_items) WITH ORDINALITY AS t(value, n),
      jsonb_to_record(t.value) AS x(
        stream text, expected integer, organization text, run text, notify text, fence_owner text, fence_epoch integer,
        release boolean, status text, version integer, error jsonb, waiting_for jsonb, ended_at timestamptz,
        due_now boolean, available_at timestamptz, workflow_id text, workflow_version integer, started_at timestamptz,
        lease_owner text, lease_ms integer, check_workflow boolean)
  ), fence AS (
    SELECT i.n FROM item i JOIN run_state r ON r.run_id = i.run
    WHERE i.fence_owner IS NOT NULL AND r.lease_owner = i.fence_owner AND r.lease_epoch = i.fence_epoch
    FOR UPDATE OF r
  ), refused AS (
    -- A fence that failed, or a workflow that moved since its writer read it (0014).
    SELECT coalesce(array_agg(i.n), '{}') AS ords FROM item i
    WHERE (i.fence_owner IS NOT NULL AND i.n NOT IN (SELECT f.n FROM fence f))
       OR (coalesce(i.check_workflow, false) AND NOT EXISTS (
             SELECT 1 FROM workflows w
             WHERE w.id = i.workflow_id AND w.organization_id = i.organization
               AND w.version = i.workflow_version AND w.deleted_at IS NULL))
  ), appended AS (
    SELECT a.ord, count(*)::integer AS events, min(a.global_position) AS first_position,
           min(a.recorded_at) AS first_at, max(a.recorded_at) AS last_at
    FROM append_streams(p_items, (SELECT r.ords FROM refused r)) AS a
    GROUP BY a.ord
  ), created AS (
    INSERT INTO run_state AS r (run_id, organization_id, workflow_id, workflow_version, seq, status, stream_version,
      error, waiting_for, started_at, ended_at, available_at, created_at, updated_at, lease_owner, lease_until, lease_epoch)
    SELECT i.run, i.organization, i.workflow_id, i.workflow_version, a.first_position,
      i.status, i.version, nullif(i.error, 'null'), nullif(i.waiting_for, 'null'),
      i.started_at, i.ended_at,
      CASE WHEN i.due_now THEN a.first_at ELSE i.available_at END,
      i.started_at, a.last_at,
      i.lease_owner,
      CASE WHEN i.lease_owner IS NULL THEN NULL ELSE now() + i.lease_ms * interval '1 millisecond' END,
      CASE WHEN i.lease_owner IS NULL THEN 0 ELSE 1 END
    FROM item i JOIN appended a ON a.ord = i.n
    WHERE i.expected = 0
    ON CONFLICT (run_id) DO NOTHING
    RETURNING 1
  ), updated AS (
    -- available_at: due now keeps the time the run has been due since (a HOT update).
    UPDATE run_state r SET status = i.status, stream_version = i.version,
      error = nullif(i.error, 'null'), waiting_for = nullif(i.waiting_for, 'null'), ended_at = i.ended_at,
      available_at = CASE WHEN NOT i.due_now THEN i.available_at
        WHEN r.available_at IS NOT NULL AND r.available_at <= a.last_at THEN r.available_at ELSE a.last_at END,
      updated_at = a.last_at,
      lease_owner = CASE WHEN i.release THEN NULL ELSE r.lease_owner END,
      lease_until = CASE WHEN i.release THEN NULL ELSE r.lease_until END
    FROM item i JOIN appended a ON a.ord = i.n
    WHERE i.expected <> 0 AND r.run_id = i.run
    RETURNING 1
  ), notified AS (
    SELECT pg_notify(p_channel, i.notify) FROM item i JOIN appended a ON a.ord = i.n
    WHERE p_channel IS NOT NULL AND i.notify IS NOT NULL
  ), done AS (
    -- Read by the answer's WHERE so that the NOTIFYs are sent: a CTE nobody reads is not
    -- evaluated, and an output column nobody reads is dropped (the DML CTEs always run).
    SELECT (SELECT count(*) FROM created) + (SELECT count(*) FROM updated) + (SELECT count(*) FROM notified) AS writes
  )
  SELECT i.n, coalesce(a.events, 0), (i.n IN (SELECT f.n FROM fence f))::integer
  FROM item i LEFT JOIN appended a ON a.ord = i.n CROSS JOIN done
  WHERE done.writes >= 0
  ORDER BY i.n;
END;
$$;

-- Down Migration
DROP FUNCTION append_streams(jsonb, integer[]);
