import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/** A secret value sealed with AES-256-GCM: what the `secrets` table stores. */
export interface SealedSecret {
  ciphertext: Buffer;
  /** 12 random bytes, fresh for every sealing. */
  iv: Buffer;
  /** The GCM tag: any change to ciphertext, iv or AAD fails the opening. */
  authTag: Buffer;
  /** Fingerprint of the key that sealed it (`keyId`). */
  keyId: string;
}

const ALGORITHM = 'aes-256-gcm';

/** A 32-byte key from THODARE_SECRET_KEY's text: 64 hex characters or base64. */
export function parseSecretKey(text: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error('the secret key must be 32 bytes (64 hex characters or base64)');
  return key;
}

/** A short, non-reversible fingerprint of a key, stored beside each ciphertext. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('thodare-secret-key-id').update(key).digest('hex').slice(0, 16);
}

/**
 * Binds a ciphertext to its organization and name: a row copied to another tenant or renamed
 * fails authentication instead of decrypting. JSON keeps the two parts unambiguous.
 */
function additionalData(organizationId: string, name: string): Buffer {
  return Buffer.from(JSON.stringify(['thodare-secret-v1', organizationId, name]), 'utf8');
}

export function sealSecret(key: Buffer, organizationId: string, name: string, plaintext: string): SealedSecret {
  const iv = randomBytes(12);
  const cipher = createCipheriv(ALGORITHM, key, iv);
  cipher.setAAD(additionalData(organizationId, name));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { ciphertext, iv, authTag: cipher.getAuthTag(), keyId: keyId(key) };
}

/** The plaintext; throws when the key, the tenant, the name or any stored byte is wrong. */
export function openSecret(key: Buffer, organizationId: string, name: string, sealed: SealedSecret): string {
  const decipher = createDecipheriv(ALGORITHM, key, sealed.iv);
  decipher.setAAD(additionalData(organizationId, name));
  decipher.setAuthTag(sealed.authTag);
  return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8');
}
