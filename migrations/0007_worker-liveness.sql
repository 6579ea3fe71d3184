-- Up Migration

-- The leases held right now, by owner: a worker looks for owners whose process is gone (their
-- liveness lock is free) without scanning every run. Only claims and releases change
-- lease_owner, so a step's UPDATE stays HOT.
CREATE INDEX run_state_leased ON run_state (lease_owner) WHERE lease_owner IS NOT NULL;

-- Down Migration
DROP INDEX run_state_leased;
