import { z } from 'zod';
import { pageQuery } from '../http/keyset';
import { AUDIT_BREAK_REASONS } from './proof/chain-verifier';

const instant = z.iso.datetime({ offset: true });

export const verifyResponse = z.object({
  ok: z.boolean(),
  checked: z.number().int().describe('events whose seals were recomputed and found intact'),
  sealedThrough: z.number().int().describe("the organization's last sealed sequence number"),
  lastCheckpoint: z
    .object({ number: z.number().int(), sequence: z.number().int(), createdAt: z.string(), keyId: z.string(), hash: z.string() })
    .nullable()
    .describe('the last checkpoint that verified'),
  brokenAt: z.object({ sequence: z.number().int(), position: z.number().int().nullable() }).optional().describe('the first entry that does not verify'),
  reason: z.enum(AUDIT_BREAK_REASONS).optional(),
  message: z.string().optional(),
}).meta({ id: 'AuditVerifyReport' });

export const checkpointSchema = z.object({
  version: z.literal(1),
  organizationId: z.string(),
  number: z.number().int(),
  sequence: z.number().int(),
  chainHead: z.string().describe('hex SHA-256 chain value at `sequence`'),
  merkleRoot: z.string().describe('hex RFC 6962 Merkle tree head over leaves 1..sequence'),
  previousHash: z.string().nullable(),
  keyId: z.string(),
  createdAt: z.string(),
  hash: z.string().describe('hex SHA-256 of the JCS body (every field above)'),
  signature: z.string().describe('base64 Ed25519 signature over the JCS body'),
}).meta({ id: 'AuditCheckpoint', description: "A signed checkpoint of an organization's sealed chain." });

export const checkpointsQuery = pageQuery(1000, 100);
export const checkpointsResponse = z.object({ data: z.array(checkpointSchema), next: z.string().nullable() });

export const keysResponse = z.object({
  data: z.array(
    z.object({
      keyId: z.string(),
      algorithm: z.literal('Ed25519'),
      publicKey: z.string().describe('raw 32-byte Ed25519 public key, base64'),
      firstUsedAt: z.string(),
      current: z.boolean().describe('this server signs new checkpoints with it'),
      trusted: z.boolean().describe("verify accepts checkpoints signed with it (the current key and THODARE_AUDIT_TRUSTED_KEYS)"),
    }),
  ),
  next: z.null().describe('always one page'),
});

export const exportQuery = z
  .object({ from: instant.optional(), to: instant.optional() })
  .refine((q) => !q.from || !q.to || Date.parse(q.from) <= Date.parse(q.to), { message: '`from` must not be after `to`', path: ['from'] });
