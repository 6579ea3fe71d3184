import type { FastifyRequest } from 'fastify';
import type { Pool, PoolClient } from 'pg';
import { inTransaction } from '../database/pool';
import { unknownEmailStream, userStream, type IdentityEvent, type IdentityRecord } from '../domain/identity/identity.events';
import type { EventMetadata } from '../event-store/event';
import type { EventStore } from '../event-store/event-store';
import { hashSecret } from './credentials';

/** Where a sign-in came from, as recorded in the trail. */
export interface ClientInfo {
  clientAddress: string | null;
  userAgent: string | null;
}

const MAX_USER_AGENT = 300;

/** The socket's address (`X-Forwarded-For` only behind a trusted proxy, like the rate limits) and the User-Agent. */
export function clientInfo(request: FastifyRequest): ClientInfo {
  const header = request.headers['user-agent'];
  const userAgent = (Array.isArray(header) ? header[0] : header)?.replace(/[^\x20-\x7e]/g, '').trim().slice(0, MAX_USER_AGENT);
  return { clientAddress: request.ip ? request.ip.replace(/^::ffff:/, '') : null, userAgent: userAgent || null };
}

/** The key failed sign-ins of an unknown email are filed under: a hash, so the trail never holds what was typed. */
export function emailHash(email: string): string {
  return hashSecret(`thodare:sign-in-email:${email}`);
}

/**
 * Appends identity facts, each on its (user, organization) stream, in the caller's transaction
 * (the session row commits or rolls back with them). One advisory lock per user serialises that
 * user's concurrent sign-ins, so each append's expected version is the one just read.
 */
export async function recordForUser(client: PoolClient, store: EventStore, userId: string, records: readonly IdentityRecord[], metadata: EventMetadata): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`thodare:user-${userId}`]);
  await appendEach(client, store, records.map((r) => ({ ...r, streamId: userStream(userId, r.organizationId) })), metadata);
}

/** A failed sign-in for an email no account has: the platform's trail, in its own transaction. */
export async function recordUnknownEmail(pool: Pool, store: EventStore, hash: string, record: IdentityRecord, metadata: EventMetadata): Promise<void> {
  const streamId = unknownEmailStream(hash);
  await inTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`thodare:${streamId}`]);
    await appendEach(client, store, [{ ...record, streamId }], metadata);
  });
}

async function appendEach(
  client: PoolClient,
  store: EventStore,
  entries: readonly { streamId: string; organizationId: string; event: IdentityEvent }[],
  metadata: EventMetadata,
): Promise<void> {
  // Every stream's version in one round trip: sign-in appends to one stream per organization.
  const { rows } = await client.query<{ stream_id: string; version: number }>(
    'SELECT stream_id, max(stream_version)::int AS version FROM events WHERE stream_id = ANY($1::text[]) GROUP BY stream_id',
    [entries.map((e) => e.streamId)],
  );
  const versions = new Map(rows.map((row) => [row.stream_id, row.version]));
  for (const entry of entries) {
    await store.append(entry.streamId, versions.get(entry.streamId) ?? 0, [entry.event], { organizationId: entry.organizationId, metadata, client });
  }
}
