-- Up Migration

-- The worker's batch claim (src/run-queue/run-claims.ts) as a function, so that it plans with
-- index scans only. Every finished run leaves a dead entry in run_state_claimable until VACUUM
-- reaches the table. The planner read "every due run" with a bitmap scan, which visits the heap
-- page of each dead entry again on every claim: with the ~30,000 dead entries that 10,000 W3 runs
-- leave, every claim took 2.8-5 ms until autovacuum came by. A plain index scan marks the dead
-- entries it meets and skips them from then on: the first claim takes 12 ms, the next ones
-- 0.5-0.7 ms. Without statistics (a young or just-vacuumed table) the planner also read the whole
-- of run_state for the due runs: no sequential scans either.
--
-- Fair between organizations: every organization's oldest due run comes before anyone's second
-- (`turn`), so one tenant's backlog cannot starve another. SKIP LOCKED lets workers claim side by
-- side; the lease epoch fences the previous holder.
CREATE FUNCTION claim_runs(p_owner text, p_limit integer, p_lease_ms integer)
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
  -- An array, not a join with picked: joined, the planner hashed the whole of run_state.
  UPDATE run_state s SET lease_owner = p_owner, lease_until = now() + p_lease_ms * interval '1 millisecond',
    lease_epoch = s.lease_epoch + 1
  WHERE s.run_id = ANY (ARRAY(SELECT p.run_id FROM picked p))
  RETURNING s.run_id, s.organization_id, s.stream_version, s.lease_epoch;
END;
$$;

-- Down Migration
DROP FUNCTION claim_runs(text, integer, integer);
