import { hash } from 'node:crypto';
import { canonicalJson } from './canonical';

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

/** SHA-256 of the parts concatenated; the one-shot `hash` is faster than a Hash object per call. */
export const sha256 = (...parts: Buffer[]): Buffer => hash('sha256', parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), 'buffer');

/** leaf = SHA-256(JCS(event)). */
export function leafOf(event: SealableEvent): Buffer {
  const { position, streamId, streamVersion, organizationId, type, data, metadata, recordedAt } = event;
  // Hashed as text: the one-shot hash encodes it as UTF-8 itself, sparing a Buffer per event.
  return hash('sha256', canonicalJson({ position, streamId, streamVersion, organizationId, type, data, metadata, recordedAt }), 'buffer');
}

/** chain = SHA-256(previous chain ‖ leaf). */
export function nextChain(previous: Buffer, leaf: Buffer): Buffer {
  return sha256(previous, leaf);
}
