import { z } from 'zod';
import type { AuditPublicKey, SignedCheckpoint } from '../proof/checkpoint';
import { BUNDLE_FORMAT, type BundleEventLine, type BundleManifest, type BundleStart } from './bundle-format';

// The shapes of a bundle's JSON, checked before anything reads a field of them. A bundle's digests
// prove only that its files are the ones its manifest lists: whoever writes a bundle by hand can
// make them agree over any JSON at all, so a file of another shape must be named as such by the
// verifier, not crash it. Each schema is typed by the interface it checks, so the two cannot drift.

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `${bytes * 2} lowercase hex digits`);
const sequence = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const manifestSchema: z.ZodType<BundleManifest> = z.object({
  format: z.literal(BUNDLE_FORMAT),
  organizationId: z.string(),
  createdAt: z.string(),
  files: z.array(z.object({ name: z.string(), sha256: z.string(), bytes: z.number().int().min(0) })),
  digest: z.string(),
});

export const startSchema: z.ZodType<BundleStart> = z
  .object({
    organizationId: z.string(),
    afterSequence: sequence,
    throughSequence: sequence,
    chain: hex(32),
    merkleFrontier: z.string().regex(/^(?:[0-9a-f]{64})*$/, 'whole 32-byte hashes in lowercase hex'),
    previousCheckpoint: z.object({ number: z.number().int().min(1), hash: z.string() }).nullable(),
    from: z.string().nullable(),
    to: z.string().nullable(),
  })
  .refine((start) => start.throughSequence >= start.afterSequence, { message: 'throughSequence is before afterSequence', path: ['throughSequence'] });

export const keysSchema: z.ZodType<AuditPublicKey[]> = z.array(
  z.object({
    keyId: z.string(),
    algorithm: z.literal('Ed25519'),
    publicKey: z.string().refine((key) => /^[A-Za-z0-9+/]*={0,2}$/.test(key) && Buffer.from(key, 'base64').length === 32, 'a base64 Ed25519 public key (32 bytes)'),
  }),
);

export const checkpointSchema: z.ZodType<SignedCheckpoint> = z.object({
  version: z.literal(1),
  organizationId: z.string(),
  number: z.number().int().min(1),
  sequence,
  chainHead: z.string(),
  merkleRoot: z.string(),
  previousHash: z.string().nullable(),
  keyId: z.string(),
  createdAt: z.string(),
  hash: z.string(),
  signature: z.string(),
});

/** A deleted event is exported as null: the verifier names it `event_missing`. */
export const eventLineSchema: z.ZodType<Omit<BundleEventLine, 'event'> & { event: BundleEventLine['event'] | null }> = z.object({
  sequence,
  leaf: hex(32),
  chain: hex(32),
  event: z
    .object({
      position: z.number().int(),
      streamId: z.string(),
      streamVersion: z.number().int(),
      organizationId: z.string(),
      type: z.string(),
      data: z.unknown(),
      metadata: z.unknown(),
      recordedAt: z.string(),
    })
    .nullable(),
});
