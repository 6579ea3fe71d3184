-- Up Migration

-- `append_run_batches` (0013) learns one more item field: `check_workflow`. A new run whose writer
-- pinned its workflow from a cached read (src/workflows/current-workflows.ts) sets it, and the
-- run is written only while that version is still the workflow's current one and the workflow is
-- not deleted (`workflows`, whose inline projection commits with every patch); otherwise the item
-- inserts nothing (inserted = 0) and its writer reads the workflow again. The cache thus never
-- pins a stale version, and a run start costs no workflow read once the version is cached.
-- Items without the field behave exactly as under 0013.
CREATE OR REPLACE FUNCTION append_run_batches(p_items jsonb, p_channel text)
RETURNS TABLE (ord integer, inserted integer, fenced integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
  -- One typed record per item: each field is read from the JSON once, not once per use.
  item record;
  v_fenced integer;
  v_inserted integer;
  v_first bigint;
  v_first_at timestamptz;
  v_last_at timestamptz;
BEGIN
  FOR item IN
    SELECT x.*, t.n FROM jsonb_array_elements(p_items) WITH ORDINALITY AS t(value, n),
      jsonb_to_record(t.value) AS x(
        stream text, expected integer, organization text, types text[], data jsonb, metadata jsonb, run text,
        notify text, fence_owner text, fence_epoch integer, release boolean, status text, version integer,
        error jsonb, waiting_for jsonb, ended_at timestamptz, due_now boolean, available_at timestamptz,
        workflow_id text, workflow_version integer, started_at timestamptz, lease_owner text, lease_ms integer,
        check_workflow boolean)
  LOOP
    v_fenced := 0;
    IF item.fence_owner IS NOT NULL THEN
      PERFORM 1 FROM run_state r
        WHERE r.run_id = item.run AND r.lease_owner = item.fence_owner AND r.lease_epoch = item.fence_epoch
        FOR UPDATE;
      IF FOUND THEN v_fenced := 1; END IF;
    END IF;
    IF item.check_workflow AND NOT EXISTS (
      SELECT 1 FROM workflows w
      WHERE w.id = item.workflow_id AND w.organization_id = item.organization
        AND w.version = item.workflow_version AND w.deleted_at IS NULL
    ) THEN
      v_inserted := 0; -- the workflow moved since its writer read it
    ELSE
      SELECT count(*)::integer, min(a.global_position), min(a.recorded_at), max(a.recorded_at)
        INTO v_inserted, v_first, v_first_at, v_last_at
        FROM append_events(
          item.stream, item.expected, item.organization, item.types,
          ARRAY(SELECT jsonb_array_elements(item.data)), item.metadata,
          item.fence_owner IS NULL OR v_fenced = 1) AS a;
    END IF;
    IF v_inserted > 0 THEN
      IF item.expected = 0 THEN
        INSERT INTO run_state AS r (run_id, organization_id, workflow_id, workflow_version, seq, status, stream_version,
          error, waiting_for, started_at, ended_at, available_at, created_at, updated_at, lease_owner, lease_until, lease_epoch)
        VALUES (item.run, item.organization, item.workflow_id, item.workflow_version, v_first,
          item.status, item.version, nullif(item.error, 'null'), nullif(item.waiting_for, 'null'),
          item.started_at, item.ended_at,
          CASE WHEN item.due_now THEN v_first_at ELSE item.available_at END,
          item.started_at, v_last_at,
          item.lease_owner,
          CASE WHEN item.lease_owner IS NULL THEN NULL ELSE now() + item.lease_ms * interval '1 millisecond' END,
          CASE WHEN item.lease_owner IS NULL THEN 0 ELSE 1 END)
        ON CONFLICT (run_id) DO NOTHING;
      ELSE
        -- available_at: due now keeps the time the run has been due since (a HOT update).
        UPDATE run_state r SET status = item.status, stream_version = item.version,
          error = nullif(item.error, 'null'), waiting_for = nullif(item.waiting_for, 'null'), ended_at = item.ended_at,
          available_at = CASE WHEN NOT item.due_now THEN item.available_at
            WHEN r.available_at IS NOT NULL AND r.available_at <= v_last_at THEN r.available_at ELSE v_last_at END,
          updated_at = v_last_at,
          lease_owner = CASE WHEN item.release THEN NULL ELSE r.lease_owner END,
          lease_until = CASE WHEN item.release THEN NULL ELSE r.lease_until END
        WHERE r.run_id = item.run;
      END IF;
      IF p_channel IS NOT NULL AND item.notify IS NOT NULL THEN
        PERFORM pg_notify(p_channel, item.notify);
      END IF;
    END IF;
    ord := item.n;
    inserted := v_inserted;
    fenced := v_fenced;
    RETURN NEXT;
  END LOOP;
END;
$$;

-- Down Migration
-- Nothing to undo: the function without 0014's check is the same for items without the field.
