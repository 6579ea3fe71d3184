import type { Pool } from 'pg';
import { inTransaction } from '../database/pool';
import { inEachOrganization } from '../domain/identity/identity.events';
import { NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import type { Role } from '../http/principal';
import { identityChanged } from './credential-cache';
import { recordForUser } from './identity-journal';
import { revokeSession, setActiveOrganization } from './sessions';
import { organizationsOf } from './users';

/** A signed-in session, as the session-only routes see it. */
export interface SessionRef {
  userId: string;
  sessionId: string;
}

/** Sign-out: the session row goes and `UserSignedOut` is recorded in each of the user's organizations, together. */
export async function signOut(pool: Pool, store: EventStore, session: SessionRef, metadata: EventMetadata): Promise<void> {
  await inTransaction(pool, async (db) => {
    await revokeSession(db, session.sessionId);
    const organizations = await organizationsOf(db, session.userId);
    const event = { type: 'UserSignedOut' as const, data: { ...session } };
    await recordForUser(db, store, session.userId, inEachOrganization(organizations.map((o) => o.id), event), metadata);
  });
  identityChanged();
}

/**
 * Switches the organization a session acts in (404 when the user is not a member), and records
 * `ActiveOrganizationSwitched` in the organization switched to.
 */
export async function switchOrganization(
  pool: Pool,
  store: EventStore,
  session: SessionRef & { organizationId: string },
  to: string,
  metadata: EventMetadata,
): Promise<Role> {
  const role = await inTransaction(pool, async (db) => {
    const { rows } = await db.query<{ role: Role }>('SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2', [to, session.userId]);
    const role = rows[0]?.role;
    if (!role) throw new NotFound('organization');
    await setActiveOrganization(db, session.sessionId, to);
    const data = { userId: session.userId, sessionId: session.sessionId, organizationId: to, from: session.organizationId || null };
    await recordForUser(db, store, session.userId, [{ organizationId: to, event: { type: 'ActiveOrganizationSwitched', data } }], metadata);
    return role;
  });
  identityChanged();
  return role;
}
