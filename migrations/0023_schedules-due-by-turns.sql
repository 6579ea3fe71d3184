-- Up Migration

-- A scheduler pass over a backlog now lets organizations take turns (src/schedules/scheduler-pass.ts):
-- each organization with a batch's worth of due schedules takes its own batches, and all the
-- others share batches in due order. Those shared batches must pass over the large ones' rows:
-- `p_except` names them. In due order alone, one organization's 10,000 schedules due at a tick
-- held another's single schedule back for 2 s. The default keeps the three-argument call of an
-- instance still running the previous release working.
DROP FUNCTION lock_due_schedules(timestamptz, integer, text);

CREATE FUNCTION lock_due_schedules(p_now timestamptz, p_limit integer, p_organization text, p_except text[] DEFAULT '{}')
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
      WHERE s.next_fire_at <= p_now AND s.state = 'active' AND s.organization_id <> ALL (p_except)
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
DROP FUNCTION lock_due_schedules(timestamptz, integer, text, text[]);
CREATE FUNCTION lock_due_schedules(p_now timestamptz, p_limit integer, p_organization text)
RETURNS SETOF schedules
LANGUAGE plpgsql
SET enable_seqscan = off
SET enable_bitmapscan = off
AS $$
BEGIN
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
