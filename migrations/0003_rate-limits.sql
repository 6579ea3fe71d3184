-- Up Migration

-- Rate-limit buckets shared by every API instance (src/rate-limit/README.md). One row per
-- limited key, holding a GCRA "theoretical arrival time": the key is over budget while
-- tat - now > burst. A row whose tat has passed is equivalent to no row, so the sweeper may
-- delete it at any time.
--
-- UNLOGGED: budgets are ephemeral. A crash empties the table (everyone gets a fresh budget),
-- and skipping the WAL keeps the one write per request cheap.
CREATE UNLOGGED TABLE rate_limit_buckets (
  key text PRIMARY KEY,
  -- Microseconds since the epoch, on the database clock (one clock for every instance).
  tat bigint NOT NULL,
  -- When the last request for this key arrived (database clock, microseconds).
  seen_at bigint NOT NULL,
  -- Whether that last request was admitted; RETURNING reads it (it cannot see the old row).
  admitted boolean NOT NULL
) WITH (fillfactor = 70);
-- No index besides the key: every request rewrites tat, and with only the primary key (and
-- free space in the page) those updates stay HOT. The sweep scans a table no bigger than the
-- keys active in the last window.

-- Down Migration
DROP TABLE rate_limit_buckets;
