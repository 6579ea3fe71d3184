-- Up Migration

-- A set-returning function is estimated at 1,000 rows unless it says otherwise. The worker's claim
-- statement (src/run-queue/run-claims.ts) reads each claimed run's short stream in a subquery per
-- row of `claim_runs`, so on a store whose `events` had no statistics yet (a young store, or
-- autovacuum off or behind) it was costed at ~600,000 for a claim of one run: over
-- `jit_above_cost`, and Postgres spent ~77 ms compiling it, on every claim (the scale bench's
-- claim p50 went from ~1 ms to 85-128 ms right after its bursts). A claim returns at most the
-- worker's free slots; 32 is the estimate now. (The application's connections also plan without
-- JIT, `createPool`: no statement of the hot path is worth compiling.)
ALTER FUNCTION claim_runs(text, integer, integer) ROWS 32;

-- Down Migration
ALTER FUNCTION claim_runs(text, integer, integer) ROWS 1000;
