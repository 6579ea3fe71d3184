import { randomUUID } from 'node:crypto';
import type { Queryable } from '../event-store/projection';
import type { Role } from '../http/principal';
import { hashSecret, newSecret, SESSION_TOKEN_PREFIX } from './credentials';

/** Sliding renewal writes at most this often per session, not on every request. */
const TOUCH_AFTER = '5 minutes';

export interface NewSession {
  id: string;
  /** The raw token: returned to the client once, never stored. */
  token: string;
  expiresAt: Date;
}

export async function createSession(db: Queryable, userId: string, organizationId: string | null, ttlHours: number): Promise<NewSession> {
  const id = randomUUID();
  const token = newSecret(SESSION_TOKEN_PREFIX);
  // The user's expired sessions go in the same statement: no table of dead tokens piles up.
  const { rows } = await db.query<{ expires_at: Date }>(
    `WITH expired AS (DELETE FROM sessions WHERE user_id = $3 AND expires_at <= now())
     INSERT INTO sessions (id, token_hash, user_id, active_organization_id, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(hours => $5::int)) RETURNING expires_at`,
    [id, hashSecret(token), userId, organizationId, ttlHours],
  );
  return { id, token, expiresAt: rows[0]!.expires_at };
}

export interface SessionPrincipal {
  sessionId: string;
  userId: string;
  /** The active organization, or the user's oldest membership when they left the active one. */
  organizationId: string | null;
  role: Role | null;
  /** Set when this lookup slid the expiry forward (at most every few minutes). */
  renewedUntil: Date | null;
  /** When the session expires (after this lookup's renewal, if any). */
  expiresAt: Date;
}

const LOOKUP_SQL = `
WITH s AS (
  SELECT id, user_id, active_organization_id, expires_at FROM sessions WHERE token_hash = $1 AND expires_at > now()
), touched AS (
  UPDATE sessions SET last_seen_at = now(), expires_at = now() + make_interval(hours => $2::int)
  WHERE id = (SELECT id FROM s) AND last_seen_at < now() - interval '${TOUCH_AFTER}'
  RETURNING expires_at
)
SELECT s.id AS session_id, s.user_id, m.organization_id, m.role, t.expires_at AS renewed_until, coalesce(t.expires_at, s.expires_at) AS expires_at
FROM s LEFT JOIN touched t ON true LEFT JOIN LATERAL (
  SELECT organization_id, role FROM memberships
  WHERE user_id = s.user_id
  ORDER BY (organization_id = s.active_organization_id) DESC, joined_at, organization_id
  LIMIT 1
) m ON true`;

/** The live session behind a token hash (renewing its expiry now and then), or undefined. */
export async function lookUpSession(db: Queryable, tokenHash: string, ttlHours: number): Promise<SessionPrincipal | undefined> {
  // Named: runs on every request, so each connection plans it once.
  const { rows } = await db.query<{ session_id: string; user_id: string; organization_id: string | null; role: Role | null; renewed_until: Date | null; expires_at: Date }>({
    name: 'thodare_auth_session',
    text: LOOKUP_SQL,
    values: [tokenHash, ttlHours],
  });
  const row = rows[0];
  return row && { sessionId: row.session_id, userId: row.user_id, organizationId: row.organization_id, role: row.role, renewedUntil: row.renewed_until, expiresAt: row.expires_at };
}

/** Sign-out: the row goes, so the token stops working on the next request. */
export async function revokeSession(db: Queryable, sessionId: string): Promise<void> {
  await db.query('DELETE FROM sessions WHERE id = $1', [sessionId]);
}

export async function setActiveOrganization(db: Queryable, sessionId: string, organizationId: string): Promise<void> {
  await db.query('UPDATE sessions SET active_organization_id = $2 WHERE id = $1', [sessionId, organizationId]);
}
