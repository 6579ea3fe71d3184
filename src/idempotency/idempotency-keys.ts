import type { PoolClient } from 'pg';
import { AppError } from '../errors';
import type { Queryable } from '../event-store/projection';

// `idempotency_keys` (migrations/0008): the one store of idempotency keys. This file alone reads
// and writes it.

/** Where a key is unique (with the organization), how long it lives, what a reuse says. */
export interface IdempotencyScope {
  /** e.g. `run-start`, `org-event`, `workflow-patch:<workflowId>`. */
  name: string;
  /** How long a key is remembered, in milliseconds; null: forever. */
  retentionMs: number | null;
  /** The 409 `idempotency_conflict` message when the key comes back with another body. */
  conflictMessage: string;
}

/** A key came back with another body (409 `idempotency_conflict`); nothing was done. */
export class IdempotencyConflict extends AppError {
  constructor(message: string) {
    super('idempotency_conflict', message);
  }
}

/** One request that carries a key. */
export interface KeyedRequest {
  organizationId: string;
  key: string;
  /** `requestHash` of the body: the same key with another hash is a conflict. */
  requestHash: string;
}

/** The key is now ours (`claimed`), or an earlier request with the same body recorded `result`. */
export type Claim<R> = { kind: 'claimed' } | { kind: 'duplicate'; result: R };

interface Row {
  request_hash: string;
  result: unknown;
}

/**
 * Claims `request.key` in the caller's transaction, recording the answer the caller will give,
 * so an answer is recorded if and only if the caller's work commits. A twin claiming the same
 * key at the same time waits on the primary key until this transaction ends, then replays.
 * An expired key is replaced; a claim in a scope whose keys expire also prunes the organization's
 * other expired keys on the way (a claim of keys kept forever — run starts, schedule ticks —
 * skips that round trip: it has nothing of its own to prune).
 * Throws `IdempotencyConflict` when a live key was recorded with another body.
 */
export async function claimIdempotencyKey<R>(client: PoolClient, scope: IdempotencyScope, request: KeyedRequest, result: R): Promise<Claim<R>> {
  if (scope.retentionMs !== null) await pruneExpired(client, scope, request);
  // A live row we collided with can expire and be pruned before we read it: then claim again.
  for (let tries = 0; tries < 3; tries++) {
    if (await insertOrReplaceExpired(client, scope, request, result)) return { kind: 'claimed' };
    const row = await liveRow(client, scope, request);
    if (row) return { kind: 'duplicate', result: replay<R>(scope, row, request.requestHash) };
  }
  throw new Error(`idempotency key ${scope.name}/${request.key} neither claimable nor recorded`);
}

/**
 * `claimIdempotencyKey` for many requests of one scope in one statement (a scheduler pass's run
 * starts): a claim per request, in order. The keys must differ. A key the statement could not
 * take (live, or freed meanwhile) is then settled alone by `claimIdempotencyKey`. The keys are
 * inserted in key order whatever the requests' order: two claimers of the same keys then wait
 * for each other key by key instead of each holding one the other needs (two groups of webhook
 * deliveries holding the same two keys, arrived the other way round, could deadlock).
 */
export async function claimIdempotencyKeys<R>(client: PoolClient, scope: IdempotencyScope, requests: readonly KeyedRequest[], results: readonly R[]): Promise<Claim<R>[]> {
  const id = (organizationId: string, key: string) => `${organizationId}\u0000${key}`;
  if (new Set(requests.map((r) => id(r.organizationId, r.key))).size !== requests.length) throw new Error('claimIdempotencyKeys: the keys must differ');
  if (requests.length === 0) return [];
  if (scope.retentionMs !== null) {
    for (const organization of new Set(requests.map((r) => r.organizationId))) await pruneExpired(client, scope, requests.find((r) => r.organizationId === organization)!);
  }
  const { rows } = await client.query<{ organization_id: string; key: string }>(
    `INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, result, expires_at)
     SELECT r.organization_id, $1, r.key, r.request_hash, r.result, now() + $3::bigint * interval '1 millisecond'
     FROM json_to_recordset($2::json) AS r(organization_id text, key text, request_hash text, result json)
     ORDER BY r.organization_id COLLATE "C", r.key COLLATE "C"
     ON CONFLICT (organization_id, scope, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash, result = EXCLUDED.result,
           created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
       WHERE idempotency_keys.expires_at <= now()
     RETURNING organization_id, key`,
    // One JSON parameter, not parallel arrays: pg builds array literals in JavaScript, escaping
    // every element (each JSON result is full of quotes). See `applyTicks`.
    [scope.name, JSON.stringify(requests.map((r, i) => ({ organization_id: r.organizationId, key: r.key, request_hash: r.requestHash, result: results[i] }))), scope.retentionMs],
  );
  const claimed = new Set(rows.map((row) => id(row.organization_id, row.key)));
  const claims: Claim<R>[] = [];
  for (const [i, request] of requests.entries()) {
    claims.push(claimed.has(id(request.organizationId, request.key)) ? { kind: 'claimed' } : await claimIdempotencyKey(client, scope, request, results[i]!));
  }
  return claims;
}

/**
 * The answer recorded under a live key with the same body; undefined when the key is free.
 * For a command that must replay before it looks at anything else (a patch of a workflow that
 * moved on). Throws `IdempotencyConflict` when the body differs.
 */
export async function recordedAnswer<R>(db: Queryable, scope: IdempotencyScope, request: KeyedRequest): Promise<R | undefined> {
  const row = await liveRow(db, scope, request);
  return row && replay<R>(scope, row, request.requestHash);
}

function replay<R>(scope: IdempotencyScope, row: Row, requestHash: string): R {
  if (row.request_hash !== requestHash) throw new IdempotencyConflict(scope.conflictMessage);
  return row.result as R;
}

async function insertOrReplaceExpired(client: PoolClient, scope: IdempotencyScope, request: KeyedRequest, result: unknown): Promise<boolean> {
  // `result` is json, not jsonb: a replay is the recorded answer with its key order.
  const { rowCount } = await client.query(
    `INSERT INTO idempotency_keys (organization_id, scope, key, request_hash, result, expires_at)
     VALUES ($1, $2, $3, $4, $5::json, now() + $6::bigint * interval '1 millisecond')
     ON CONFLICT (organization_id, scope, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash, result = EXCLUDED.result,
           created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
       WHERE idempotency_keys.expires_at <= now()`,
    [request.organizationId, scope.name, request.key, request.requestHash, JSON.stringify(result), scope.retentionMs],
  );
  return rowCount === 1;
}

async function liveRow(db: Queryable, scope: IdempotencyScope, request: KeyedRequest): Promise<Row | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT request_hash, result FROM idempotency_keys
     WHERE organization_id = $1 AND scope = $2 AND key = $3 AND (expires_at IS NULL OR expires_at > now())`,
    [request.organizationId, scope.name, request.key],
  );
  return rows[0];
}

/**
 * Bounded, and SKIP LOCKED: concurrent claimers of one organization never wait on each other
 * here. The key being claimed is left to the upsert (one statement may not touch a row twice).
 */
async function pruneExpired(client: PoolClient, scope: IdempotencyScope, request: KeyedRequest): Promise<void> {
  await client.query(
    `DELETE FROM idempotency_keys WHERE (organization_id, scope, key) IN (
       SELECT organization_id, scope, key FROM idempotency_keys
       WHERE organization_id = $1 AND expires_at <= now() AND (scope, key) <> ($2, $3)
       LIMIT 100 FOR UPDATE SKIP LOCKED)`,
    [request.organizationId, scope.name, request.key],
  );
}
