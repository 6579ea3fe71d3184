import { randomUUID } from 'node:crypto';
import type { EventMetadata } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import type { PassResult } from './tick-recorder';

/**
 * `POST /api/admin/tick` is an operator's act — possibly with a `now` that replays an outage — so
 * it is in the audit trail even when the pass found nothing due (the ticks it fired or skipped
 * are facts on their schedules' streams as well).
 */
export interface AdminTickRequested {
  type: 'AdminTickRequested';
  data: { now: string; fired: number; skipped: number; buffered: number };
}

/**
 * Each request is a stream of its own: nothing orders two admins' ticks, so a shared stream would
 * only make concurrent ticks race for its version (fifty at once exhausted any retry budget).
 */
export const adminTickStream = (tickId: string) => `admin-tick-${tickId}`;

export async function recordAdminTick(store: EventStore, organizationId: string, now: Date, result: PassResult, metadata: EventMetadata): Promise<void> {
  const event: AdminTickRequested = {
    type: 'AdminTickRequested',
    data: { now: now.toISOString(), fired: result.fired.length, skipped: result.skipped.length, buffered: result.buffered.length },
  };
  await store.append(adminTickStream(randomUUID()), 0, [event], { organizationId, metadata });
}
