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

/** The chain value before an organization's first event. */
export const GENESIS_CHAIN = Buffer.alloc(32);

/**
 * Where `sha256` lays its parts end to end: per event the sealer hashes a chain input (64 bytes),
 * a Merkle leaf (33) and on average one Merkle node (65), and a fresh Buffer for each was a third
 * of the buffers it allocated. Safe to share: nothing runs between the copy and the hash.
 */
const scratch = Buffer.allocUnsafe(128);

/**
 * SHA-256 as a Buffer, through the one-shot `hash` (faster than a Hash object per call). Asked
 * for as binary (latin1) text and copied into a pooled Buffer: a `'buffer'` digest allocates an
 * ArrayBuffer of its own, and that cost three times the hashing (1.4 µs a digest against 0.45,
 * and the garbage collector's time on top). A string is hashed as its UTF-8 bytes.
 */
const digest = (data: string | Buffer): Buffer => Buffer.from(hash('sha256', data, 'binary'), 'binary');

/** SHA-256 of the parts concatenated. */
export function sha256(...parts: Buffer[]): Buffer {
  if (parts.length === 1) return digest(parts[0] as Buffer);
  let length = 0;
  for (const part of parts) length += part.length;
  if (length > scratch.length) return digest(Buffer.concat(parts));
  let offset = 0;
  for (const part of parts) offset += part.copy(scratch, offset);
  return digest(scratch.subarray(0, length));
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
export function leafOf(event: SealableEvent): Buffer {
  let text = '';
  for (const { key, quoted } of LEAF_MEMBERS) {
    const value = canonicalMember(event[key]);
    if (value === undefined) continue;
    text += text === '' ? '{' : ',';
    text += quoted;
    text += value;
  }
  // Hashed as text: the hash encodes it as UTF-8 itself, sparing a Buffer per event.
  return digest(text === '' ? '{}' : `${text}}`);
}

/** chain = SHA-256(previous chain ‖ leaf). */
export function nextChain(previous: Buffer, leaf: Buffer): Buffer {
  return sha256(previous, leaf);
}
