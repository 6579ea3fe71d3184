import type { Queryable } from '../event-store/projection';
import { recordsOf } from '../database/json-records';
import type { AuditPublicKey, SignedCheckpoint } from './proof/checkpoint';
import { digestFromHex, type Digest } from './proof/hash-chain';

interface CheckpointRow {
  organization_id: string;
  number: number;
  sequence: string;
  chain_head: string;
  merkle_root: string;
  previous_hash: string | null;
  key_id: string;
  created_at: string;
  hash: string;
  signature: string;
}

/** A signed checkpoint's columns: not its kept Merkle frontier (up to ~2 KB a row, read only to rebuild a start state). */
const CHECKPOINT_COLUMNS = 'organization_id, number, sequence, chain_head, merkle_root, previous_hash, key_id, created_at, hash, signature';

const toCheckpoint = (row: CheckpointRow): SignedCheckpoint => ({
  version: 1,
  organizationId: row.organization_id,
  number: row.number,
  sequence: Number(row.sequence),
  chainHead: row.chain_head,
  merkleRoot: row.merkle_root,
  previousHash: row.previous_hash,
  keyId: row.key_id,
  createdAt: row.created_at,
  hash: row.hash,
  signature: row.signature,
});

/** A checkpoint to store, with the Merkle frontier whose root it signs (kept: see `checkpointFrontierAtOrBefore`). */
export interface CheckpointToStore {
  checkpoint: SignedCheckpoint;
  merkleFrontier: Buffer;
}

/** Stores checkpoints; one that lost a race for its number is dropped. Returns the ones stored. */
export async function insertCheckpoints(db: Queryable, stored: readonly CheckpointToStore[]): Promise<SignedCheckpoint[]> {
  const rows = stored.map(({ checkpoint, merkleFrontier }) => ({ ...checkpoint, merkleFrontier: merkleFrontier.toString('hex') }));
  const { rows: inserted } = await db.query<CheckpointRow>(
    `INSERT INTO audit_checkpoints (organization_id, number, sequence, chain_head, merkle_root, previous_hash, key_id, created_at, hash, signature, merkle_frontier)
     SELECT c.organization_id, c.number, c.sequence, c.chain_head, c.merkle_root, c.previous_hash, c.key_id, c.created_at, c.hash, c.signature, decode(c.merkle_frontier, 'hex')
     FROM json_to_recordset($1::json) AS c(organization_id text, number int, sequence bigint, chain_head text, merkle_root text, previous_hash text, key_id text, created_at text, hash text, signature text, merkle_frontier text)
     ON CONFLICT (organization_id, number) DO NOTHING
     RETURNING ${CHECKPOINT_COLUMNS}`,
    [recordsOf(rows, ['organizationId', 'number', 'sequence', 'chainHead', 'merkleRoot', 'previousHash', 'keyId', 'createdAt', 'hash', 'signature', 'merkleFrontier'])],
  );
  return inserted.map(toCheckpoint);
}

/**
 * The last checkpoint at or before `sequence` that kept its Merkle frontier (those signed before
 * migrations/0024 did not): where rebuilding the seal state at `sequence` can start.
 */
export async function checkpointFrontierAtOrBefore(db: Queryable, organizationId: string, sequence: number): Promise<{ sequence: number; chain: Digest; merkleFrontier: Buffer } | undefined> {
  const { rows } = await db.query<{ sequence: string; chain_head: string; merkle_frontier: Buffer }>(
    `SELECT sequence, chain_head, merkle_frontier FROM audit_checkpoints
     WHERE organization_id = $1 AND sequence <= $2 AND merkle_frontier IS NOT NULL
     ORDER BY sequence DESC LIMIT 1`,
    [organizationId, sequence],
  );
  const row = rows[0];
  return row && { sequence: Number(row.sequence), chain: digestFromHex(row.chain_head), merkleFrontier: row.merkle_frontier };
}

/** The organization's checkpoints whose sequence lies in `[from, through]`, in order (the index on sequence). */
export async function checkpointsBetween(db: Queryable, organizationId: string, from: number, through: number): Promise<SignedCheckpoint[]> {
  const { rows } = await db.query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE organization_id = $1 AND sequence >= $2 AND sequence <= $3 ORDER BY sequence`, [organizationId, from, through]);
  return rows.map(toCheckpoint);
}

/** The organization's first checkpoint at or after `sequence`: the one that signs it. */
export async function firstCheckpointAtOrAfter(db: Queryable, organizationId: string, sequence: number): Promise<SignedCheckpoint | undefined> {
  const { rows } = await db.query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE organization_id = $1 AND sequence >= $2 ORDER BY sequence LIMIT 1`, [organizationId, sequence]);
  return rows[0] && toCheckpoint(rows[0]);
}

/** The organization's last checkpoint at or before `sequence`. */
export async function lastCheckpointAtOrBefore(db: Queryable, organizationId: string, sequence: number): Promise<SignedCheckpoint | undefined> {
  const { rows } = await db.query<CheckpointRow>(`SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE organization_id = $1 AND sequence <= $2 ORDER BY sequence DESC LIMIT 1`, [organizationId, sequence]);
  return rows[0] && toCheckpoint(rows[0]);
}

/** The organization's checkpoints by number, `after` one number, at most `limit` (all when absent). */
export async function listCheckpoints(db: Queryable, organizationId: string, options: { after?: number; limit?: number; throughSequence?: number } = {}): Promise<SignedCheckpoint[]> {
  const { rows } = await db.query<CheckpointRow>(
    `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints
     WHERE organization_id = $1 AND number > $2 AND ($3::bigint IS NULL OR sequence <= $3)
     ORDER BY number LIMIT $4`,
    [organizationId, options.after ?? 0, options.throughSequence ?? null, options.limit ?? null],
  );
  return rows.map(toCheckpoint);
}

/** Every public key that ever signed (or may sign) a checkpoint, oldest first. */
export async function listAuditKeys(db: Queryable): Promise<Array<AuditPublicKey & { firstUsedAt: string }>> {
  const { rows } = await db.query<{ key_id: string; public_key: string; first_used_at: Date }>('SELECT key_id, public_key, first_used_at FROM audit_keys ORDER BY first_used_at, key_id');
  return rows.map((row) => ({ keyId: row.key_id, algorithm: 'Ed25519', publicKey: row.public_key, firstUsedAt: row.first_used_at.toISOString() }));
}

/** The organization's seal head: the last sealed sequence (0 when nothing is sealed yet). */
export async function sealedThrough(db: Queryable, organizationId: string): Promise<number> {
  const { rows } = await db.query<{ sequence: string }>('SELECT sequence FROM audit_heads WHERE organization_id = $1', [organizationId]);
  return Number(rows[0]?.sequence ?? 0);
}
