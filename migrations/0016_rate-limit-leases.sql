-- Up Migration

-- A metered request may take a lease of several requests of its key's budget at once (the
-- instance then admits the next ones itself, src/rate-limit/README.md "Leases"). RETURNING
-- cannot see the old row, so the statement leaves how many it granted here: 0 (refused) or
-- between 1 and the number asked for.
ALTER TABLE rate_limit_buckets ADD COLUMN granted integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE rate_limit_buckets DROP COLUMN granted;
