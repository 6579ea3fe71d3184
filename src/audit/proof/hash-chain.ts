import { hash } from 'node:crypto';
import { canonicalMember } from './canonical';

/** An event exactly as stored, in the form the audit trail hashes (and exports). */
export interface SealableEvent {
  position: number;
  streamId: string;
  streamVersion: number;
  organizationId: string;
  type: string;
  data: unknown;
  metadata: unknown;
  /** `recorded_at` in UTC with Postgres' full microsecond precision, e.g. `2026-12-02T10:00:00.123456Z`. */
  recordedAt: string;
}

/**
 * A SHA-256 value as 32 latin1 characters, one per byte (`hash`'s 'binary' output). The sealer
 * hashes four times an event (its leaf, its chain value, its Merkle leaf and on average one Merkle
 * node): as Buffers, every hash paid for a Buffer of its output and a view of its input, and the
 * hashing of a burst's 2,481 events took 72–86 ms of CPU in a fresh process and ~10–17 warm; as
 * strings 52–69 and ~4–7 (probed alternately). The database's bytea and the exports' hex convert
 * at the edges (`digestOf`, `digestBytes`, `digestHex`, `digestFromHex`).
 */
export type Digest = string;

export const digestOf = (bytes: Buffer): Digest => bytes.toString('latin1');
export const digestBytes = (digest: Digest): Buffer => Buffer.from(digest, 'latin1');
export const digestHex = (digest: Digest): string => digestBytes(digest).toString('hex');
export const digestFromHex = (hex: string): Digest => digestOf(Buffer.from(hex, 'hex'));

/** The chain value before an organization's first event. */
export const GENESIS_CHAIN: Digest = '\0'.repeat(32);

/** SHA-256 of `data` as a Buffer (a string is hashed as its UTF-8 bytes): checkpoints, bundles, key ids. */
export const sha256 = (data: Buffer | string): Buffer => hash('sha256', data, 'buffer');

/**
 * Where `hashDigests` lays its parts end to end (a chain input is 64 bytes, a Merkle leaf 33, a
 * node 65), hashed through one view per length: no Buffer per hash. Safe to share: nothing runs
 * between the copy and the hash.
 */
const scratch = Buffer.allocUnsafe(128);
const scratchViews: Buffer[] = [];

/** SHA-256 of the parts' bytes laid end to end (digests, and the Merkle tree's one-byte prefixes). */
export function hashDigests(...parts: Digest[]): Digest {
  let length = 0;
  for (const part of parts) {
    const written = scratch.write(part, length, 'latin1');
    if (written !== part.length) throw new RangeError(`hashDigests takes at most ${scratch.length} bytes`);
    length += written;
  }
  const view = (scratchViews[length] ??= scratch.subarray(0, length));
  return hash('sha256', view, 'binary');
}

/** A sealable event's members, in the order JCS sorts them (UTF-16 code units), each key quoted once. */
const LEAF_MEMBERS = (['position', 'streamId', 'streamVersion', 'organizationId', 'type', 'data', 'metadata', 'recordedAt'] as const satisfies readonly (keyof SealableEvent)[])
  .slice()
  .sort()
  .map((key) => ({ key, quoted: `${JSON.stringify(key)}:` }));

/**
 * leaf = SHA-256(JCS(event)), its eight members and nothing else. The members are written in
 * their known order: the object the sealer spread, rebuilt and sorted per event to get the same
 * bytes was a sixth of its time. `audit.spec.ts` holds them to the `canonicalize` package's.
 */
export function leafOf(event: SealableEvent): Digest {
  let text = '';
  for (const { key, quoted } of LEAF_MEMBERS) {
    const value = canonicalMember(event[key]);
    if (value === undefined) continue;
    text += text === '' ? '{' : ',';
    text += quoted;
    text += value;
  }
  // Hashed as text: the hash encodes it as UTF-8 itself, sparing a Buffer per event.
  return hash('sha256', text === '' ? '{}' : `${text}}`, 'binary');
}

/** chain = SHA-256(previous chain ‖ leaf). */
export function nextChain(previous: Digest, leaf: Digest): Digest {
  return hashDigests(previous, leaf);
}
