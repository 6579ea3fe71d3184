-- Up Migration

-- The run append function locks every started run's `run_state` row before it inserts the runs'
-- events, fenced or not, as every writer of a run now does (the one-statement append in
-- src/run-queue/run-append.ts, the organization events' chunks). Its unfenced items (API
-- commands grouped with other runs' batches) inserted first and took their rows after: against a
-- writer that held a row and inserted the same version, each waited for the other, and Postgres
-- failed one of them a second later. The body is otherwise 0032's.
CREATE OR REPLACE FUNCTION append_run_batches(p_items jsonb, p_channel text)
RETURNS TABLE (ord integer, inserted integer, fenced integer)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan -- as append_streams
SET enable_seqscan = off
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
  ), held AS (
    -- Every started run's row, locked in the items' order (a group's are sorted by run) before
    -- any event goes in, fenced or not: see `refused`.
    SELECT i.n, r.lease_owner, r.lease_epoch FROM item i
    CROSS JOIN LATERAL (
      SELECT r.lease_owner, r.lease_epoch FROM run_state r
      WHERE r.run_id = i.run AND r.organization_id = i.organization
      FOR UPDATE
    ) AS r
    WHERE i.expected <> 0
  ), fence AS (
    SELECT i.n FROM item i JOIN held h ON h.n = i.n
    WHERE i.fence_owner IS NOT NULL AND h.lease_owner = i.fence_owner AND h.lease_epoch = i.fence_epoch
  ), refused AS (
    -- A fence that failed, or a workflow that moved since its writer read it (0014). Read with
    -- the count of `held`, so the rows are locked before `append_streams` inserts.
    SELECT coalesce(array_agg(i.n), '{}') AS ords FROM item i, (SELECT count(*) FROM held) AS locked(runs)
    WHERE (i.fence_owner IS NOT NULL AND i.n NOT IN (SELECT f.n FROM fence f))
       OR (coalesce(i.check_workflow, false) AND (
             SELECT w.version FROM workflows w
             WHERE w.id = i.workflow_id AND w.organization_id = i.organization AND w.deleted_at IS NULL
           ) IS DISTINCT FROM i.workflow_version)
  ), appended AS (
    SELECT a.ord, count(*)::integer AS events, min(a.global_position) AS first_position,
           min(a.recorded_at) AS first_at, max(a.recorded_at) AS last_at
    FROM append_streams(p_items, (SELECT r.ords FROM refused r)) AS a
    GROUP BY a.ord
  ), landed AS (
    -- The items whose batch was appended, with what it got.
    SELECT i.*, a.events, a.first_position, a.first_at, a.last_at
    FROM item i JOIN appended a ON a.ord = i.n
  ), created AS (
    INSERT INTO run_state AS r (run_id, organization_id, workflow_id, workflow_version, seq, status, stream_version,
      error, waiting_for, started_at, ended_at, available_at, created_at, updated_at, lease_owner, lease_until, lease_epoch)
    SELECT l.run, l.organization, l.workflow_id, l.workflow_version, l.first_position,
      l.status, l.version, nullif(l.error, 'null'), nullif(l.waiting_for, 'null'),
      l.started_at, l.ended_at,
      CASE WHEN l.due_now THEN l.first_at ELSE l.available_at END,
      l.started_at, l.last_at,
      l.lease_owner,
      CASE WHEN l.lease_owner IS NULL THEN NULL ELSE now() + l.lease_ms * interval '1 millisecond' END,
      CASE WHEN l.lease_owner IS NULL THEN 0 ELSE 1 END
    FROM landed l
    WHERE l.expected = 0
    ON CONFLICT ON CONSTRAINT run_state_pkey DO NOTHING
    RETURNING 1
  ), updated AS (
    -- available_at: due now keeps the time the run has been due since (a HOT update).
    UPDATE run_state r SET status = l.status, stream_version = l.version,
      error = nullif(l.error, 'null'), waiting_for = nullif(l.waiting_for, 'null'), ended_at = l.ended_at,
      available_at = CASE WHEN NOT l.due_now THEN l.available_at
        WHEN r.available_at IS NOT NULL AND r.available_at <= l.last_at THEN r.available_at ELSE l.last_at END,
      updated_at = l.last_at,
      lease_owner = CASE WHEN l.release THEN NULL ELSE r.lease_owner END,
      lease_until = CASE WHEN l.release THEN NULL ELSE r.lease_until END
    FROM landed l
    WHERE l.expected <> 0 AND r.run_id = l.run
      -- The rows to update, as an index condition: never a scan of run_state to join against.
      AND r.run_id = ANY (ARRAY(SELECT u.run FROM landed u WHERE u.expected <> 0))
    RETURNING 1
  ), notified AS (
    SELECT pg_notify(p_channel, l.notify) FROM landed l
    WHERE p_channel IS NOT NULL AND l.notify IS NOT NULL
  ), done AS (
    -- Read by the answer's WHERE so that the NOTIFYs are sent: a CTE nobody reads is not
    -- evaluated, and an output column nobody reads is dropped (the DML CTEs always run).
    SELECT (SELECT count(*) FROM created) + (SELECT count(*) FROM updated) + (SELECT count(*) FROM notified) AS writes
  )
  SELECT i.n, coalesce(l.events, 0), (i.n IN (SELECT f.n FROM fence f))::integer
  FROM item i LEFT JOIN landed l ON l.n = i.n CROSS JOIN done
  WHERE done.writes >= 0
  ORDER BY i.n;
END;
$$;

-- Down Migration

-- 0032's body: unfenced items take their rows after their events.
CREATE OR REPLACE FUNCTION append_run_batches(p_items jsonb, p_channel text)
RETURNS TABLE (ord integer, inserted integer, fenced integer)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan -- as append_streams
SET enable_seqscan = off
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
    SELECT i.n FROM item i
    CROSS JOIN LATERAL (
      SELECT 1 FROM run_state r
      WHERE r.run_id = i.run AND r.lease_owner = i.fence_owner AND r.lease_epoch = i.fence_epoch
      FOR UPDATE
    ) AS held
    WHERE i.fence_owner IS NOT NULL
  ), refused AS (
    -- A fence that failed, or a workflow that moved since its writer read it (0014).
    SELECT coalesce(array_agg(i.n), '{}') AS ords FROM item i
    WHERE (i.fence_owner IS NOT NULL AND i.n NOT IN (SELECT f.n FROM fence f))
       OR (coalesce(i.check_workflow, false) AND (
             SELECT w.version FROM workflows w
             WHERE w.id = i.workflow_id AND w.organization_id = i.organization AND w.deleted_at IS NULL
           ) IS DISTINCT FROM i.workflow_version)
  ), appended AS (
    SELECT a.ord, count(*)::integer AS events, min(a.global_position) AS first_position,
           min(a.recorded_at) AS first_at, max(a.recorded_at) AS last_at
    FROM append_streams(p_items, (SELECT r.ords FROM refused r)) AS a
    GROUP BY a.ord
  ), landed AS (
    -- The items whose batch was appended, with what it got.
    SELECT i.*, a.events, a.first_position, a.first_at, a.last_at
    FROM item i JOIN appended a ON a.ord = i.n
  ), created AS (
    INSERT INTO run_state AS r (run_id, organization_id, workflow_id, workflow_version, seq, status, stream_version,
      error, waiting_for, started_at, ended_at, available_at, created_at, updated_at, lease_owner, lease_until, lease_epoch)
    SELECT l.run, l.organization, l.workflow_id, l.workflow_version, l.first_position,
      l.status, l.version, nullif(l.error, 'null'), nullif(l.waiting_for, 'null'),
      l.started_at, l.ended_at,
      CASE WHEN l.due_now THEN l.first_at ELSE l.available_at END,
      l.started_at, l.last_at,
      l.lease_owner,
      CASE WHEN l.lease_owner IS NULL THEN NULL ELSE now() + l.lease_ms * interval '1 millisecond' END,
      CASE WHEN l.lease_owner IS NULL THEN 0 ELSE 1 END
    FROM landed l
    WHERE l.expected = 0
    ON CONFLICT ON CONSTRAINT run_state_pkey DO NOTHING
    RETURNING 1
  ), updated AS (
    -- available_at: due now keeps the time the run has been due since (a HOT update).
    UPDATE run_state r SET status = l.status, stream_version = l.version,
      error = nullif(l.error, 'null'), waiting_for = nullif(l.waiting_for, 'null'), ended_at = l.ended_at,
      available_at = CASE WHEN NOT l.due_now THEN l.available_at
        WHEN r.available_at IS NOT NULL AND r.available_at <= l.last_at THEN r.available_at ELSE l.last_at END,
      updated_at = l.last_at,
      lease_owner = CASE WHEN l.release THEN NULL ELSE r.lease_owner END,
      lease_until = CASE WHEN l.release THEN NULL ELSE r.lease_until END
    FROM landed l
    WHERE l.expected <> 0 AND r.run_id = l.run
      -- The rows to update, as an index condition: never a scan of run_state to join against.
      AND r.run_id = ANY (ARRAY(SELECT u.run FROM landed u WHERE u.expected <> 0))
    RETURNING 1
  ), notified AS (
    SELECT pg_notify(p_channel, l.notify) FROM landed l
    WHERE p_channel IS NOT NULL AND l.notify IS NOT NULL
  ), done AS (
    -- Read by the answer's WHERE so that the NOTIFYs are sent: a CTE nobody reads is not
    -- evaluated, and an output column nobody reads is dropped (the DML CTEs always run).
    SELECT (SELECT count(*) FROM created) + (SELECT count(*) FROM updated) + (SELECT count(*) FROM notified) AS writes
  )
  SELECT i.n, coalesce(l.events, 0), (i.n IN (SELECT f.n FROM fence f))::integer
  FROM item i LEFT JOIN landed l ON l.n = i.n CROSS JOIN done
  WHERE done.writes >= 0
  ORDER BY i.n;
END;
$$;
