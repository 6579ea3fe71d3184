-- Up Migration

-- Workers that serve some organizations (src/run-queue/README.md):
-- - a tenant's own workers take only the runs of the organizations they are given
--   (THODARE_WORKER_ORGANIZATIONS): `claim_organizations_runs`, each one's oldest due runs through
--   `run_state_claimable_by_org`, one index descent per organization, ranked by turn as
--   `claim_runs` ranks a walked backlog (0020). Its cost is the organizations' it looks at, never
--   the rest of the queue's.
-- - the shared pool, once those tenants have workers of their own, takes every organization's runs
--   but theirs (THODARE_WORKER_EXCLUDED_ORGANIZATIONS): `claim_runs` with `p_except`, below.
-- `claim_runs(text, integer, integer)` stays as it is for the workers that serve everyone (the
-- default, and the release before this one): their claim is not touched.

-- The runs of `p_candidates` (best first) still due and free, at most `p_limit` of them, leased to
-- `p_owner`: the last part of both claims below, as of 0020's.
CREATE FUNCTION lease_claim_candidates(p_owner text, p_limit integer, p_lease_ms integer, p_candidates text[])
RETURNS TABLE (run_id text, organization_id text, stream_version integer, lease_epoch integer)
LANGUAGE plpgsql
ROWS 32
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
#variable_conflict use_column
BEGIN
  RETURN QUERY
  WITH candidate AS (
    SELECT c.run_id, c.rank FROM unnest(p_candidates) WITH ORDINALITY AS c(run_id, rank)
  ), picked AS (
    SELECT r.run_id FROM run_state r JOIN candidate c ON c.run_id = r.run_id
    WHERE r.run_id = ANY (p_candidates)
      AND (r.available_at <= now() AND (r.lease_until IS NULL OR r.lease_until < now())) IS TRUE
    ORDER BY c.rank
    LIMIT p_limit
    FOR UPDATE OF r SKIP LOCKED
  )
  UPDATE run_state s SET lease_owner = p_owner, lease_until = now() + p_lease_ms * interval '1 millisecond',
    lease_epoch = s.lease_epoch + 1
  WHERE s.run_id = ANY (ARRAY(SELECT p.run_id FROM picked p))
  RETURNING s.run_id, s.organization_id, s.stream_version, s.lease_epoch;
END;
$$;

-- A tenant's own workers: each of `p_organizations`' oldest due runs, ranked by turn.
CREATE FUNCTION claim_organizations_runs(p_owner text, p_limit integer, p_lease_ms integer, p_organizations text[])
RETURNS TABLE (run_id text, organization_id text, stream_version integer, lease_epoch integer)
LANGUAGE plpgsql
ROWS 32
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
#variable_conflict use_column
DECLARE
  v_candidates text[];
BEGIN
  SELECT array_agg(k.run_id ORDER BY k.turn, k.available_at) INTO v_candidates FROM (
    SELECT d.run_id, d.available_at, row_number() OVER (PARTITION BY d.organization_id ORDER BY d.available_at) AS turn
    FROM unnest(p_organizations) AS o(org)
    CROSS JOIN LATERAL (
      SELECT q.run_id, q.organization_id, q.available_at FROM run_state q
      WHERE q.organization_id = o.org AND (q.available_at AT TIME ZONE 'UTC') <= (now() AT TIME ZONE 'UTC')
        AND (q.lease_until IS NULL OR q.lease_until < now())
      ORDER BY q.available_at AT TIME ZONE 'UTC' LIMIT p_limit
    ) d
    ORDER BY turn, d.available_at LIMIT p_limit * 4
  ) k;
  RETURN QUERY SELECT * FROM lease_claim_candidates(p_owner, p_limit, p_lease_ms, v_candidates);
END;
$$;

-- The shared pool's claim: 0020's, leaving `p_except` out. It walks the organizations with queued
-- or sleeping runs first (0020 counted the due runs first, in time order, which would read past
-- every due run of an excluded tenant), stepping over an excluded one with one index descent:
-- - no more than `p_limit` others: their oldest due runs, as a tenant's own workers claim them;
-- - more: the due runs ranked whole, as 0020 ranks a backlog of many organizations, read in time
--   order through `run_state_claimable` and so past the excluded tenants' due runs too.
CREATE FUNCTION claim_runs(p_owner text, p_limit integer, p_lease_ms integer, p_except text[])
RETURNS TABLE (run_id text, organization_id text, stream_version integer, lease_epoch integer)
LANGUAGE plpgsql
ROWS 32
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
#variable_conflict use_column
DECLARE
  v_orgs text[];
  v_candidates text[];
BEGIN
  p_except := coalesce(p_except, '{}');
  WITH RECURSIVE orgs(org, served) AS (
    SELECT min(q.organization_id), 0 FROM run_state q WHERE q.available_at IS NOT NULL
    UNION ALL
    SELECT (SELECT min(q.organization_id) FROM run_state q WHERE q.available_at IS NOT NULL AND q.organization_id > o.org),
           o.served + CASE WHEN o.org = ANY (p_except) THEN 0 ELSE 1 END
    FROM orgs o WHERE o.org IS NOT NULL AND o.served <= p_limit
  )
  SELECT array_agg(o.org) INTO v_orgs FROM orgs o WHERE o.org IS NOT NULL AND NOT (o.org = ANY (p_except));
  IF coalesce(cardinality(v_orgs), 0) <= p_limit THEN
    RETURN QUERY SELECT * FROM claim_organizations_runs(p_owner, p_limit, p_lease_ms, v_orgs);
    RETURN;
  END IF;

  SELECT array_agg(k.run_id ORDER BY k.turn, k.available_at) INTO v_candidates FROM (
    SELECT q.run_id, q.available_at, row_number() OVER (PARTITION BY q.organization_id ORDER BY q.available_at) AS turn
    FROM run_state q
    WHERE q.available_at <= now() AND (q.lease_until IS NULL OR q.lease_until < now()) AND NOT (q.organization_id = ANY (p_except))
    ORDER BY turn, q.available_at LIMIT p_limit * 4
  ) k;
  RETURN QUERY SELECT * FROM lease_claim_candidates(p_owner, p_limit, p_lease_ms, v_candidates);
END;
$$;

-- Down Migration
DROP FUNCTION claim_organizations_runs(text, integer, integer, text[]);
DROP FUNCTION claim_runs(text, integer, integer, text[]);
DROP FUNCTION lease_claim_candidates(text, integer, integer, text[]);
