import type { Pool } from 'pg';
import type { EventMetadata } from '../event-store/event';
import { deliverOrgEvent } from '../runs/deliver-org-event';
import type { RunStore } from '../runs/run-store';

/** How long a publisher may take to deliver before a worker does it instead. */
const GRACE_MS = 10_000;

/**
 * Housekeeping of organization events, run by every worker now and then: delivers the events a
 * publisher stored but did not get to deliver (it crashed in between), and deletes events past
 * their retention. Safe to run anywhere at once: delivery is idempotent per run.
 */
export async function sweepOrgEvents(pool: Pool, runs: RunStore, metadata: EventMetadata): Promise<void> {
  const { rows } = await pool.query<{ event_id: string; organization_id: string; name: string; correlation_key: string | null; payload: unknown }>(
    `SELECT event_id, organization_id, name, correlation_key, payload FROM org_events
     WHERE delivered_at IS NULL AND published_at < now() - $1::int * interval '1 millisecond'
     ORDER BY published_at LIMIT 20`,
    [GRACE_MS],
  );
  for (const row of rows) {
    await deliverOrgEvent(pool, runs, { eventId: row.event_id, organizationId: row.organization_id, name: row.name, correlationKey: row.correlation_key, payload: row.payload }, metadata);
  }
  await pool.query('DELETE FROM org_events WHERE expires_at < now()');
}
