-- Up Migration

-- The batch claim (0018) ranked every due run on every claim, to put each organization's oldest due
-- run before anyone's second: a claim grew with the backlog (3.4 ms with 2,000 runs queued, 13 ms
-- with 20,000), so a worker slowed down exactly when it had the most to do.
--
-- Now a claim first counts the due runs, up to its window (four times what it asks for):
-- - no more than that: it ranks them all, as before;
-- - more (a backlog): it walks the organizations that have runs in the queue, one index descent
--   each, and takes from each only its `p_limit` oldest due runs: no organization needs more to
--   fill the claim, so the ranking is the same, and its cost no longer depends on the backlog's
--   size but on the number of organizations with queued or sleeping runs;
-- - a backlog among more organizations than the claim's limit: ranked whole, as before (walking
--   20,000 organizations that each have one sleeping run took 150-190 ms a claim against 3-5 ms).
-- Leased runs still sit among the due ones until they are released; there are only as many as
-- the workers have slots.
-- The due time is indexed here as UTC wall time, an expression only this index holds: the
-- per-organization reads below name it, so the planner cannot serve them from the global
-- `run_state_claimable` filtered by organization (which reads older organizations' backlog
-- first) whatever its estimates say.
CREATE INDEX run_state_claimable_by_org ON run_state (organization_id, (available_at AT TIME ZONE 'UTC')) WHERE available_at IS NOT NULL;

CREATE OR REPLACE FUNCTION claim_runs(p_owner text, p_limit integer, p_lease_ms integer)
RETURNS TABLE (run_id text, organization_id text, stream_version integer, lease_epoch integer)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
#variable_conflict use_column
DECLARE
  -- Room for the runs that concurrent claimers hold (SKIP LOCKED passes over them).
  v_window constant integer := p_limit * 4;
  v_orgs text[];
  -- Whether the organizations were walked (and few enough to take from one by one).
  v_walked boolean;
  v_candidates text[];
BEGIN
  IF (SELECT count(*) FROM (
        SELECT 1 FROM run_state q
        WHERE q.available_at <= now() AND (q.lease_until IS NULL OR q.lease_until < now())
        LIMIT v_window + 1) due) > v_window THEN
    -- A backlog: the organizations with runs in the queue (queued or sleeping), one index descent
    -- each, but no more than p_limit of them: past that, walking them costs more than ranking a
    -- modest backlog (many tenants with sleeping runs), so the claim ranks the due runs instead.
    WITH RECURSIVE orgs(org, n) AS (
      SELECT min(q.organization_id), 1 FROM run_state q WHERE q.available_at IS NOT NULL
      UNION ALL
      SELECT (SELECT min(q.organization_id) FROM run_state q WHERE q.available_at IS NOT NULL AND q.organization_id > o.org), o.n + 1
      FROM orgs o WHERE o.org IS NOT NULL AND o.n <= p_limit
    )
    SELECT array_agg(o.org) INTO v_orgs FROM orgs o WHERE o.org IS NOT NULL;
  END IF;
  v_walked := coalesce(cardinality(v_orgs) <= p_limit, false);

  -- Ranked by turn within each organization, oldest first; the window is all the claim can use.
  SELECT array_agg(k.run_id ORDER BY k.turn, k.available_at) INTO v_candidates FROM (
    SELECT d.run_id, d.available_at, row_number() OVER (PARTITION BY d.organization_id ORDER BY d.available_at) AS turn
    FROM (
      -- A backlog among few organizations: each one's oldest due runs, as many as the claim takes.
      SELECT q.run_id, q.organization_id, q.available_at FROM unnest(v_orgs) AS o(org)
      CROSS JOIN LATERAL (
        SELECT q.run_id, q.organization_id, q.available_at FROM run_state q
        WHERE q.organization_id = o.org AND (q.available_at AT TIME ZONE 'UTC') <= (now() AT TIME ZONE 'UTC')
          AND (q.lease_until IS NULL OR q.lease_until < now())
        ORDER BY q.available_at AT TIME ZONE 'UTC' LIMIT p_limit
      ) q
      WHERE v_walked
      UNION ALL
      -- Few due runs (they fit in the window), or too many organizations to walk: every due run.
      SELECT q.run_id, q.organization_id, q.available_at FROM run_state q
      WHERE NOT v_walked AND q.available_at <= now() AND (q.lease_until IS NULL OR q.lease_until < now())
    ) d
    ORDER BY turn, d.available_at LIMIT v_window
  ) k;

  RETURN QUERY
  WITH candidate AS (
    SELECT c.run_id, c.rank FROM unnest(v_candidates) WITH ORDINALITY AS c(run_id, rank)
  ), picked AS (
    SELECT r.run_id FROM run_state r JOIN candidate c ON c.run_id = r.run_id
    -- The candidates' rows by key: never a scan of the due runs again.
    WHERE r.run_id = ANY (v_candidates)
      -- Still due and free, checked as one expression: as separate conditions the planner may
      -- read the due runs through the claimable index and filter them by id, the whole backlog.
      AND (r.available_at <= now() AND (r.lease_until IS NULL OR r.lease_until < now())) IS TRUE
    ORDER BY c.rank
    LIMIT p_limit
    FOR UPDATE OF r SKIP LOCKED
  )
  -- An array, not a join with picked: joined, the planner hashed the whole of run_state (0018).
  UPDATE run_state s SET lease_owner = p_owner, lease_until = now() + p_lease_ms * interval '1 millisecond',
    lease_epoch = s.lease_epoch + 1
  WHERE s.run_id = ANY (ARRAY(SELECT p.run_id FROM picked p))
  RETURNING s.run_id, s.organization_id, s.stream_version, s.lease_epoch;
END;
$$;

-- Down Migration
-- The claim ranks every due run again (the same runs in the same order, at a cost that grows with the backlog).
CREATE OR REPLACE FUNCTION claim_runs(p_owner text, p_limit integer, p_lease_ms integer)
RETURNS TABLE (run_id text, organization_id text, stream_version integer, lease_epoch integer)
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH ranked AS (
    SELECT q.run_id, q.available_at,
           row_number() OVER (PARTITION BY q.organization_id ORDER BY q.available_at) AS turn
    FROM run_state q WHERE q.available_at <= now() AND (q.lease_until IS NULL OR q.lease_until < now())
  ), picked AS (
    SELECT r.run_id FROM run_state r
    JOIN (SELECT k.run_id, k.turn, k.available_at FROM ranked k ORDER BY k.turn, k.available_at LIMIT p_limit * 4) k
      ON k.run_id = r.run_id
    WHERE r.available_at <= now() AND (r.lease_until IS NULL OR r.lease_until < now())
    ORDER BY k.turn, k.available_at
    LIMIT p_limit
    FOR UPDATE OF r SKIP LOCKED
  )
  UPDATE run_state s SET lease_owner = p_owner, lease_until = now() + p_lease_ms * interval '1 millisecond',
    lease_epoch = s.lease_epoch + 1
  WHERE s.run_id = ANY (ARRAY(SELECT p.run_id FROM picked p))
  RETURNING s.run_id, s.organization_id, s.stream_version, s.lease_epoch;
END;
$$;
DROP INDEX run_state_claimable_by_org;
