import type { KeyObject } from 'node:crypto';
import type { Queryable } from '../event-store/projection';
import { ChainVerifier, type AuditBreakReason } from './proof/chain-verifier';
import { GENESIS_CHAIN } from './proof/hash-chain';
import { MerkleFrontier } from './proof/merkle';
import { listCheckpoints, sealedThrough } from './audit-rows';
import { sealEntries } from './seal-reads';

export interface VerifyReport {
  ok: boolean;
  /** Events whose seals were recomputed and found intact. */
  checked: number;
  sealedThrough: number;
  lastCheckpoint: { number: number; sequence: number; createdAt: string; keyId: string; hash: string } | null;
  brokenAt?: { sequence: number; position: number | null };
  reason?: AuditBreakReason;
  message?: string;
}

/**
 * Recomputes the organization's whole chain from its stored events and holds it against every
 * signed checkpoint, trusting only `keys` (the server's own signing key and the retired keys
 * the operator lists) — never the key table, which whoever rewrites rows could extend.
 * Once `signal` aborts (the client left), it throws at the next entry.
 */
export async function verifyOrganization(db: Queryable, organizationId: string, keys: ReadonlyMap<string, KeyObject>, signal?: AbortSignal): Promise<VerifyReport> {
  // Checkpoints first, then the head: every checkpoint read then covers only sealed events.
  const checkpoints = await listCheckpoints(db, organizationId);
  const through = await sealedThrough(db, organizationId);
  const verifier = new ChainVerifier(organizationId, { sequence: 0, chain: GENESIS_CHAIN, frontier: MerkleFrontier.empty(), previousCheckpoint: null }, checkpoints, keys);
  let broken;
  for await (const entry of sealEntries(db, organizationId, 0, through)) {
    signal?.throwIfAborted();
    broken = verifier.add(entry);
    if (broken) break;
  }
  broken ??= verifier.checked < through ? { sequence: verifier.checked + 1, position: null, reason: 'sequence_gap' as const, message: `the seals end at sequence ${verifier.checked}, but the head says ${through}` } : verifier.finish();
  const last = [...checkpoints].reverse().find((c) => !broken || c.sequence < broken.sequence);
  return {
    ok: !broken,
    checked: verifier.checked,
    sealedThrough: through,
    lastCheckpoint: last ? { number: last.number, sequence: last.sequence, createdAt: last.createdAt, keyId: last.keyId, hash: last.hash } : null,
    ...(broken ? { brokenAt: { sequence: broken.sequence, position: broken.position }, reason: broken.reason, message: broken.message } : {}),
  };
}
