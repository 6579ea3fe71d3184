import { hash, randomBytes } from 'node:crypto';

/** Prefixes make a leaked credential recognisable (secret scanners, logs) and tell kinds apart. */
export const API_KEY_PREFIX = 'thd_';
export const SESSION_TOKEN_PREFIX = 'ths_';
export const INVITATION_TOKEN_PREFIX = 'thi_';

/** Characters of an API key shown in listings (`thd_` + 8): enough to recognise, far too few to use. */
const VISIBLE_KEY_CHARS = API_KEY_PREFIX.length + 8;

/** A new opaque credential: the prefix + base64url of 32 random bytes (256 bits). */
export function newSecret(prefix: string): string {
  return `${prefix}${randomBytes(32).toString('base64url')}`;
}

/**
 * SHA-256 (hex) of a credential. High-entropy tokens need no slow hash: the hash only has to
 * be one-way, and a fast one keeps the per-request lookup an index probe. Every request hashes
 * its credential (the cache is keyed by the hash): the one-shot `hash` skips a Hash object.
 */
export function hashSecret(secret: string): string {
  return hash('sha256', secret, 'hex');
}

/** The non-secret, displayable start of an API key. */
export function keyPrefix(key: string): string {
  return key.slice(0, VISIBLE_KEY_CHARS);
}
