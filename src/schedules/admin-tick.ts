import { handleCommand } from '../event-store/command-runtime';
import type { EventMetadata } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import type { PassResult } from './scheduler-pass';

/**
 * `POST /api/admin/tick` is an operator's act — possibly with a `now` that replays an outage — so
 * it is in the audit trail even when the pass found nothing due (the ticks it fired or skipped
 * are facts on their schedules' streams as well). One stream per organization.
 */
export interface AdminTickRequested {
  type: 'AdminTickRequested';
  data: { now: string; fired: number; skipped: number; buffered: number };
}

export const adminTickStream = (organizationId: string) => `scheduler-${organizationId}`;

export async function recordAdminTick(store: EventStore, organizationId: string, now: Date, result: PassResult, metadata: EventMetadata): Promise<void> {
  const streamId = adminTickStream(organizationId);
  const event: AdminTickRequested = {
    type: 'AdminTickRequested',
    data: { now: now.toISOString(), fired: result.fired.length, skipped: result.skipped.length, buffered: result.buffered.length },
  };
  // Two admins ticking at once: the loser of the version race reloads and appends after the winner.
  await handleCommand(
    {
      load: async () => ({ state: null, version: await store.streamVersion(streamId) }),
      decide: () => [event],
      append: async (loaded, events) => {
        await store.append(streamId, loaded.version, events, { organizationId, metadata });
      },
    },
    { attempts: 5 },
  );
}
