-- Up Migration

-- A scheduler batch locked its due schedules through a bitmap scan of every due schedule and a
-- sort of them all, for the first 250: the planner's choice on a table whose statistics lag
-- (schedules created within the last minute, as in a burst of sign-ups or a deploy). A pass over
-- 10,000 due schedules sorted 10,000, then 9,750, ... rows: quadratic in the backlog, 10-18 ms a
-- batch of 250. An organization's pass (`POST /api/admin/tick`) intersected two bitmaps as well.
--
-- Now the batch reads the due index in order and stops at its limit, by construction: the lock
-- is a function that plans without sequential or bitmap scans, and an organization's pass reads
-- its own index, keyed by the due time as UTC wall time (an expression only that index holds,
-- which the statement names), so it never reads other organizations' due schedules first.
CREATE INDEX schedules_due_by_org ON schedules (organization_id, (next_fire_at AT TIME ZONE 'UTC')) WHERE next_fire_at IS NOT NULL;

CREATE FUNCTION lock_due_schedules(p_now timestamptz, p_limit integer, p_organization text)
RETURNS SETOF schedules
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
BEGIN
  -- SKIP LOCKED applies while scanning: concurrent callers each get rows nobody else holds.
  IF p_organization IS NULL THEN
    RETURN QUERY
      SELECT * FROM schedules s
      WHERE s.next_fire_at <= p_now AND s.state = 'active'
      ORDER BY s.next_fire_at LIMIT p_limit
      FOR UPDATE SKIP LOCKED;
  ELSE
    RETURN QUERY
      SELECT * FROM schedules s
      WHERE s.organization_id = p_organization AND s.next_fire_at IS NOT NULL
        AND (s.next_fire_at AT TIME ZONE 'UTC') <= (p_now AT TIME ZONE 'UTC') AND s.state = 'active'
      ORDER BY (s.next_fire_at AT TIME ZONE 'UTC') LIMIT p_limit
      FOR UPDATE SKIP LOCKED;
  END IF;
END;
$$;

-- Down Migration
DROP FUNCTION lock_due_schedules(timestamptz, integer, text);
DROP INDEX schedules_due_by_org;
