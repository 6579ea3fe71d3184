import type { Pool } from 'pg';
import type { EventMetadata } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import { deliverOrgEvent } from '../runs/deliver-org-event';
import type { EventTriggerStarts } from '../runs/event-trigger-starts';
import { undeliveredOrgEvents } from '../runs/org-events';
import type { RunCommands } from '../runs/run-commands';

/** How long a publisher may take to deliver before a worker does it instead. */
const GRACE_MS = 10_000;
const BATCH = 20;

/**
 * Delivers the organization events a publisher recorded but did not get to deliver (it crashed
 * in between) — their triggered runs included —, run by every worker now and then. Safe to run anywhere at once: delivery is
 * idempotent per run and `OrgEventDelivered` is recorded once per event. Expired rows are not
 * deleted here: the `org_events` projection prunes them from event time, so a rebuild matches.
 */
export async function sweepOrgEvents(pool: Pool, events: EventStore, runs: RunCommands, triggers: EventTriggerStarts, metadata: EventMetadata): Promise<void> {
  for (const event of await undeliveredOrgEvents(pool, GRACE_MS, BATCH)) {
    await deliverOrgEvent(pool, events, runs, triggers, event, metadata);
  }
}
