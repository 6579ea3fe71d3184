-- Up Migration

-- `GET /api/events`: an organization's publications newest first (within their retention), with
-- or without a name. `org_events_match` serves a name; this serves the rest, in key order.
CREATE INDEX org_events_recent ON org_events (organization_id, published_at DESC, event_id DESC);

-- Down Migration

DROP INDEX org_events_recent;
