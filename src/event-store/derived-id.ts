import { createHash } from 'node:crypto';

/**
 * A UUID-shaped id derived from a name (SHA-256, RFC 4122 version 8 layout), for records that
 * another stream's events define implicitly — e.g. the schedule a workflow's trigger block
 * defines — so a projection rebuild gives them the same id every time.
 */
export function derivedId(...parts: string[]): string {
  const hash = createHash('sha256').update(parts.join('\u0000')).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x80;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
