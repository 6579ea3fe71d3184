import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical';
import { sha256 } from './hash-chain';

/**
 * What a checkpoint commits to: the organization's sealed sequence at that point, its chain
 * head and RFC 6962 Merkle root, and the hash of the checkpoint before it (so checkpoints form
 * a chain of their own). The Ed25519 signature covers the JCS bytes of exactly this object.
 */
export interface CheckpointBody {
  version: 1;
  organizationId: string;
  /** 1, 2, 3… per organization. */
  number: number;
  /** The last sealed event sequence this checkpoint covers. */
  sequence: number;
  chainHead: string;
  merkleRoot: string;
  /** Hex SHA-256 of the previous checkpoint's body; null for the first. */
  previousHash: string | null;
  keyId: string;
  createdAt: string;
}

export interface SignedCheckpoint extends CheckpointBody {
  /** Hex SHA-256 of the JCS body: what the next checkpoint names as `previousHash`. */
  hash: string;
  /** Base64 Ed25519 signature over the JCS body. */
  signature: string;
}

/** A public key that verifies checkpoints, as `GET /api/audit/keys` and export bundles carry it. */
export interface AuditPublicKey {
  keyId: string;
  algorithm: 'Ed25519';
  /** The raw 32-byte Ed25519 public key, base64. */
  publicKey: string;
}

function bodyBytes(checkpoint: CheckpointBody): Buffer {
  const { version, organizationId, number, sequence, chainHead, merkleRoot, previousHash, keyId, createdAt } = checkpoint;
  return Buffer.from(canonicalJson({ version, organizationId, number, sequence, chainHead, merkleRoot, previousHash, keyId, createdAt }));
}

export const checkpointHash = (checkpoint: CheckpointBody): string => sha256(bodyBytes(checkpoint)).toString('hex');

export function signCheckpoint(body: CheckpointBody, privateKey: KeyObject): SignedCheckpoint {
  return { ...body, hash: checkpointHash(body), signature: sign(null, bodyBytes(body), privateKey).toString('base64') };
}

/** Whether `key` signed exactly this body. A malformed signature or key is simply `false`. */
export function checkpointSignatureValid(checkpoint: SignedCheckpoint, key: KeyObject): boolean {
  try {
    return verify(null, bodyBytes(checkpoint), key, Buffer.from(checkpoint.signature, 'base64'));
  } catch {
    return false;
  }
}

// DER prefixes that wrap a raw 32-byte Ed25519 key (RFC 8410), so Node can load it.
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const ed25519PrivateKeyFromSeed = (seed: Buffer): KeyObject =>
  createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });

export const ed25519PublicKeyFromRaw = (raw: Buffer): KeyObject =>
  createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });

export function rawPublicKey(key: KeyObject): Buffer {
  const der = createPublicKey(key).export({ format: 'der', type: 'spki' });
  return der.subarray(der.length - 32);
}

/** A key id is the first 16 hex digits of SHA-256 over the raw public key: stable, and new on rotation. */
export const auditKeyId = (raw: Buffer): string => sha256(raw).toString('hex').slice(0, 16);

export function publicKeyView(key: KeyObject): AuditPublicKey {
  const raw = rawPublicKey(key);
  return { keyId: auditKeyId(raw), algorithm: 'Ed25519', publicKey: raw.toString('base64') };
}
