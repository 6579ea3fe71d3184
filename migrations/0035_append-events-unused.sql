-- Up Migration

-- The event store appends one stream in a plain statement of its own now (src/event-store/
-- event-store.ts), no longer through `append_events` (0009). The function stays for one release:
-- an instance of the release before this one, still running during a rolling deploy, appends
-- through it. A later release drops it.
COMMENT ON FUNCTION append_events(text, integer, text, text[], jsonb[], jsonb, boolean) IS
  'unused since migration 0035; kept for instances of the previous release during a rolling deploy';

-- Down Migration
COMMENT ON FUNCTION append_events(text, integer, text, text[], jsonb[], jsonb, boolean) IS NULL;
