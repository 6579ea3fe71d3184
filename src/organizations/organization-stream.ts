import type { Pool, PoolClient } from 'pg';
import { handleCommandInTransaction } from '../event-store/command-runtime';
import type { EventMetadata } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import { notFound } from '../domain/organization/organization.errors';
import { organizationStream, type OrganizationEvent } from '../domain/organization/organization.events';
import { foldOrganization, type OrganizationState } from '../domain/organization/organization.state';
import { identityChanged } from '../auth/credential-cache';

const MAX_ATTEMPTS = 5;

export interface OrganizationDecision<R> {
  events: OrganizationEvent[];
  /** Extra writes in the same transaction (credential rows), run after the append. */
  alsoWrite?: (client: PoolClient) => Promise<void>;
  result: R;
}

/**
 * Load → fold → decide → append at the expected version, in one transaction with the inline
 * projections and any credential rows. A concurrent writer makes the append fail; we reload
 * and decide again, a bounded number of times (the decision may well change: the other
 * writer may have removed the member we were about to promote).
 */
export async function decideOnOrganization<R>(
  pool: Pool,
  store: EventStore,
  organizationId: string,
  metadata: EventMetadata,
  decide: (state: OrganizationState) => OrganizationDecision<R>,
): Promise<R> {
  const streamId = organizationStream(organizationId);
  const result = await handleCommandInTransaction<OrganizationState, OrganizationDecision<R>, R>(
    pool,
    (client) => ({
      load: async () => {
        // Our own writers queue on this lock instead of racing; the expected version still
        // catches other capabilities that append to the same stream (secrets metadata).
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`thodare:${streamId}`]);
        const history = await store.readStream(streamId, { organizationId, db: client });
        const state = foldOrganization(history);
        if (!state.exists) throw notFound('organization');
        return { state, version: history.at(-1)?.streamVersion ?? 0 };
      },
      decide,
      append: async (loaded, decision) => {
        if (decision.events.length > 0) {
          await store.append(streamId, loaded.version, decision.events, { organizationId, metadata, client });
          await decision.alsoWrite?.(client);
        }
        return decision.result;
      },
    }),
    { attempts: MAX_ATTEMPTS },
  );
  identityChanged(); // memberships, roles, keys: cached principals of this process are stale
  return result;
}
