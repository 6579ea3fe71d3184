import type { PoolClient, Pool } from 'pg';
import { retryOnConflict } from '../event-store/retry-on-conflict';
import type { EventMetadata, NewEvent } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import { inTransaction } from '../database/pool';

/**
 * Secret metadata facts on the organization's `org-<id>` stream (ARCHITECTURE §5). They carry
 * the secret's name only — never its value, ciphertext or any hash of it.
 */
export type SecretEvent =
  | { type: 'SecretStored'; data: { name: string; replaced: boolean } }
  | { type: 'SecretDeleted'; data: { name: string } };

const MAX_ATTEMPTS = 5;

/**
 * Runs `write` (the `secrets` row change) and appends its events to `org-<id>` in one
 * transaction. The org stream is shared with membership and key events, so a concurrent
 * writer is expected: on a version conflict everything rolls back and runs again.
 */
export async function writeWithOrganizationEvent<R>(
  pool: Pool,
  store: EventStore,
  organizationId: string,
  metadata: EventMetadata,
  write: (client: PoolClient) => Promise<{ event: SecretEvent; result: R }>,
): Promise<R> {
  const streamId = `org-${organizationId}`;
  return retryOnConflict(
    () =>
      inTransaction(pool, async (client) => {
        const { event, result } = await write(client);
        const expected = await store.streamVersion(streamId, client);
        await store.append(streamId, expected, [event as NewEvent], { organizationId, metadata, client });
        return result;
      }),
    { attempts: MAX_ATTEMPTS },
  );
}
