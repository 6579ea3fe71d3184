-- Up Migration

-- Organization events become events (issue 8): each publication is `OrgEventPublished` on its
-- own stream `orgevent-<eventId>`, its delivery `OrgEventDelivered`, and `org_events` is their
-- inline projection (src/runs/org-events.projection.ts), which sets every column from the event.

-- Retention is now applied by the projection, per organization, at each publication (rows that
-- expired by its recorded time); the sweeper's global DELETE is gone, and so is its index.
DROP INDEX org_events_expiry;
CREATE INDEX org_events_org_expiry ON org_events (organization_id, expires_at);
-- Set from the event's recorded_at, never from the clock of the insert.
ALTER TABLE org_events ALTER COLUMN published_at DROP DEFAULT;

-- Rows published before this migration have no event: record them, so a rebuild keeps them.
-- Expired rows go first (the old sweeper would have deleted them; no event should revive them).
DELETE FROM org_events WHERE expires_at <= now();

INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata, recorded_at)
SELECT 'orgevent-' || event_id, 1, organization_id, 'OrgEventPublished',
       jsonb_strip_nulls(jsonb_build_object(
         'eventId', event_id, 'name', name, 'correlationKey', correlation_key, 'idempotencyKey', idempotency_key,
         'requestHash', request_hash,
         'retentionMs', round(extract(epoch FROM expires_at - published_at) * 1000)::bigint))
         || jsonb_build_object('payload', payload),
       '{"actor": {"type": "system", "id": "migration:0006_org-events-stream"}}'::jsonb, published_at
FROM org_events ORDER BY published_at, event_id;

INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata, recorded_at)
SELECT 'orgevent-' || event_id, 2, organization_id, 'OrgEventDelivered',
       jsonb_build_object('eventId', event_id, 'matchedRuns', matched_runs),
       '{"actor": {"type": "system", "id": "migration:0006_org-events-stream"}}'::jsonb, delivered_at
FROM org_events WHERE delivered_at IS NOT NULL ORDER BY delivered_at, event_id;

-- Down Migration
-- The recorded events stay: the event store is append-only.
ALTER TABLE org_events ALTER COLUMN published_at SET DEFAULT now();
DROP INDEX org_events_org_expiry;
CREATE INDEX org_events_expiry ON org_events (expires_at);
