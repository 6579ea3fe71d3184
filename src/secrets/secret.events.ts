import type { PoolClient, Pool } from 'pg';
import { handleCommandInTransaction } from '../event-store/command-runtime';
import type { EventMetadata, NewEvent } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';

/**
 * Secret metadata facts on the organization's `org-<id>` stream (ARCHITECTURE §5). They carry
 * the secret's name only — never its value, ciphertext or any hash of it.
 */
export type SecretEvent =
  | { type: 'SecretStored'; data: { name: string; replaced: boolean } }
  | { type: 'SecretDeleted'; data: { name: string } };

const MAX_ATTEMPTS = 5;

/** A change of one secret: the event decided from whether the name is stored, and its row write. */
export interface SecretChange<E extends SecretEvent, R> {
  organizationId: string;
  name: string;
  metadata: EventMetadata;
  /** Pure: the event, or a domain error (`not_found`). */
  decide: (stored: boolean) => E;
  /** The `secrets` row change, in the append's transaction; returns the answer. */
  write: (client: PoolClient, event: E) => Promise<R>;
}

/**
 * Load → decide → write the row and append the event to `org-<id>`, in one transaction. Every
 * change of a secret appends to that stream, so a change committed after our load makes our
 * append fail: everything rolls back and runs again. The stream is shared with membership and
 * key events, so such conflicts are expected.
 */
export async function changeSecret<E extends SecretEvent, R>(pool: Pool, store: EventStore, change: SecretChange<E, R>): Promise<R> {
  const { organizationId, name, metadata } = change;
  const streamId = `org-${organizationId}`;
  return handleCommandInTransaction<boolean, E, R>(
    pool,
    (client) => ({
      load: async () => {
        // The version first: a change that commits after it makes the append fail, so the row
        // read next is never newer than the version we append at.
        const version = await store.streamVersion(streamId, client);
        const { rowCount } = await client.query('SELECT 1 FROM secrets WHERE organization_id = $1 AND name = $2', [organizationId, name]);
        return { state: rowCount === 1, version };
      },
      decide: change.decide,
      append: async (loaded, event) => {
        const result = await change.write(client, event);
        await store.append(streamId, loaded.version, [event as NewEvent], { organizationId, metadata, client });
        return result;
      },
    }),
    { attempts: MAX_ATTEMPTS },
  );
}
