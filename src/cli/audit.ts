import { readFileSync } from 'node:fs';
import { auditKeyId, type AuditPublicKey } from '../audit/proof/checkpoint';
import { verifyBundle } from '../audit/bundle/verify-bundle';

/**
 * `thodare audit verify <bundle> [--public-key <key>]`: offline, no database, no server. The key
 * is the raw Ed25519 public key in base64 (as `GET /api/audit/keys` shows it) or `@file` holding
 * it; it may be repeated for rotated keys. Without one, the bundle's own keys are used, which
 * proves integrity but not origin (stderr says so). Prints the verdict as JSON; exit 0 when the
 * bundle verifies, 1 naming the file and the first broken entry.
 */
export function auditVerify(bundle: string, options: { publicKey?: string[] }, out: (line: string) => void, err: (line: string) => void): number {
  const trusted = options.publicKey?.map(parsePublicKey);
  const verdict = verifyBundle(bundle, trusted);
  out(JSON.stringify(verdict, null, 2));
  if (!verdict.ok) {
    const { file, entry, reason, message } = verdict.problem;
    err(`audit bundle does not verify: ${file}${entry ? `, ${entry}` : ''}: ${reason}: ${message}`);
    return 1;
  }
  if (verdict.trust === 'bundle-keys') err('warning: verified with the keys inside the bundle; pass --public-key to prove who signed it');
  return 0;
}

function parsePublicKey(text: string): AuditPublicKey {
  const value = (text.startsWith('@') ? readFileSync(text.slice(1), 'utf8') : text).trim();
  const raw = Buffer.from(value, 'base64');
  if (raw.length !== 32) throw new Error(`--public-key must be a base64 Ed25519 public key (32 bytes), got ${raw.length} bytes`);
  return { keyId: auditKeyId(raw), algorithm: 'Ed25519', publicKey: raw.toString('base64') };
}
