-- Up Migration

-- The append functions (0015) keep one generic plan per connection, made at their first call. The
-- planner costs their items at 100 rows (its guess for jsonb_array_elements) and, on a young
-- database, `run_state` and `workflows` at a page or two. So it chose to read those tables whole
-- and hash them: every later append read every row of `run_state` twice, and every new run whose
-- workflow version came from a cache hashed every live workflow. An append grew with the store
-- (0.27 ms with a few hundred runs, 1.05 ms with 3,000; a C100 chain 115 ms, then 210 ms), and
-- ANALYZE did not help: against 100 items, scanning a few thousand rows still looks cheaper.
-- Every row these functions touch is found by its key, so they now plan without sequential
-- scans and hash or merge joins (nested loops over the items, index lookups), whatever the
-- tables held when they were planned; and the workflow check is a per-item lookup.

CREATE OR REPLACE FUNCTION append_run_batches(p_items jsonb, p_channel text)
RETURNS TABLE (ord integer, inserted integer, fenced integer)
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan -- as append_streams
-- Every row it touches is found by its key (see the top of this file).
SET enable_seqscan = off
SET enable_hashjoin = off
SET enable_mergejoin = off
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
       -- A scalar subquery, looked up by key for each item: as NOT EXISTS the planner hashed
       -- every live workflow of every organization for each new run.
       OR (coalesce(i.check_workflow, false) AND (
             SELECT w.version FROM workflows w
             WHERE w.id = i.workflow_id AND w.organization_id = i.organization AND w.deleted_at IS NULL
           ) IS DISTINCT FROM i.workflow_version)
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

ALTER FUNCTION append_streams(jsonb, integer[]) SET enable_seqscan = off;
ALTER FUNCTION append_streams(jsonb, integer[]) SET enable_hashjoin = off;
ALTER FUNCTION append_streams(jsonb, integer[]) SET enable_mergejoin = off;

-- Down Migration
ALTER FUNCTION append_streams(jsonb, integer[]) RESET enable_seqscan;
ALTER FUNCTION append_streams(jsonb, integer[]) RESET enable_hashjoin;
ALTER FUNCTION append_streams(jsonb, integer[]) RESET enable_mergejoin;
ALTER FUNCTION append_run_batches(jsonb, text) RESET enable_seqscan;
ALTER FUNCTION append_run_batches(jsonb, text) RESET enable_hashjoin;
ALTER FUNCTION append_run_batches(jsonb, text) RESET enable_mergejoin;
-- The workflow check keeps its per-item form: it refuses exactly what 0015's NOT EXISTS refused.
