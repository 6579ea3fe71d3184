import type { PoolClient } from 'pg';
import { AppError } from '../errors';
import type { Queryable } from '../event-store/projection';
import type { PatchResponse } from './patch-response';

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** A usable `Idempotency-Key` header value, or undefined when none was sent. */
export function readIdempotencyKey(header: string | string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value === '') return undefined;
  if (!KEY_PATTERN.test(value)) throw new AppError('invalid_idempotency_key', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
  return value;
}

export interface StoredPatch {
  requestHash: string;
  response: PatchResponse;
}

/** How long a patch's `Idempotency-Key` is remembered; after that the key is free again. */
const RETENTION = `interval '24 hours'`;

export async function findStoredPatch(db: Queryable, organizationId: string, workflowId: string, key: string): Promise<StoredPatch | undefined> {
  const { rows } = await db.query<{ request_hash: string; response: PatchResponse }>(
    `SELECT request_hash, response FROM workflow_patch_idempotency
     WHERE organization_id = $1 AND workflow_id = $2 AND key = $3 AND created_at > now() - ${RETENTION}`,
    [organizationId, workflowId, key],
  );
  const row = rows[0];
  return row && { requestHash: row.request_hash, response: row.response };
}

/** Thrown inside the patch transaction when another request stored the same key first. */
export class IdempotencyRace extends Error {}

/** Records the response in the patch's transaction; a concurrent twin makes it roll back. */
export async function storePatch(client: PoolClient, organizationId: string, workflowId: string, key: string, stored: StoredPatch): Promise<void> {
  // Expired keys of this workflow go in the same statement; an expired row under this very key is
  // replaced, a live one means a concurrent twin stored it first.
  const { rowCount } = await client.query(
    `WITH expired AS (
       DELETE FROM workflow_patch_idempotency
       WHERE organization_id = $1 AND workflow_id = $2 AND key <> $3 AND created_at <= now() - ${RETENTION}
     )
     INSERT INTO workflow_patch_idempotency (organization_id, workflow_id, key, request_hash, response)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (organization_id, workflow_id, key) DO UPDATE
       SET request_hash = EXCLUDED.request_hash, response = EXCLUDED.response, created_at = now()
       WHERE workflow_patch_idempotency.created_at <= now() - ${RETENTION}`,
    [organizationId, workflowId, key, stored.requestHash, JSON.stringify(stored.response)],
  );
  if (!rowCount) throw new IdempotencyRace();
}

/** The stored response when the same key came with the same body; 409 with another body. */
export function replay(stored: StoredPatch, hash: string): PatchResponse {
  if (stored.requestHash !== hash) {
    throw new AppError('idempotency_conflict', 'this Idempotency-Key was already used on this workflow with a different body; use a new key');
  }
  return stored.response;
}
