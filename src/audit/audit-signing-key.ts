import { Inject, Injectable, Logger } from '@nestjs/common';
import { createPrivateKey, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Config } from '../config/config';
import { loadOnce, readOrCreateKeyFile } from '../config/generated-key-file';
import { CONFIG } from '../database/database.module';
import { auditKeyId, ed25519PrivateKeyFromSeed, ed25519PublicKeyFromRaw, publicKeyView, type AuditPublicKey } from './proof/checkpoint';

export interface AuditSigningKey {
  privateKey: KeyObject;
  publicKey: AuditPublicKey;
}

/**
 * The Ed25519 key that signs checkpoints: THODARE_AUDIT_SIGNING_KEY, or a key generated once
 * into `<dataDir>/audit-signing.key` (mode 0600). Never Postgres: a database administrator who
 * rewrites history must not be able to re-sign it. A new key is a rotation (a new key id);
 * old checkpoints stay verifiable with the old public key, which stays listed.
 */
@Injectable()
export class AuditSigningKeyProvider {
  private readonly logger = new Logger('audit');

  constructor(@Inject(CONFIG) private readonly config: Config) {}

  readonly key: () => Promise<AuditSigningKey> = loadOnce(() => this.load());

  /** The keys verification trusts: this server's own and the retired ones the operator lists. */
  async trustedKeys(): Promise<Map<string, KeyObject>> {
    const { privateKey, publicKey } = await this.key();
    const trusted = new Map([[publicKey.keyId, createPublicKey(privateKey)]]);
    for (const raw of this.config.auditTrustedKeys.map((k) => Buffer.from(k, 'base64'))) trusted.set(auditKeyId(raw), ed25519PublicKeyFromRaw(raw));
    return trusted;
  }

  private async load(): Promise<AuditSigningKey> {
    const privateKey = this.config.auditSigningKey ? parseAuditSigningKey(this.config.auditSigningKey) : await this.devKey();
    return { privateKey, publicKey: publicKeyView(privateKey) };
  }

  private async devKey(): Promise<KeyObject> {
    const { file, contents, created } = await readOrCreateKeyFile(this.config.dataDir, 'audit-signing.key', () => randomBytes(32).toString('hex'));
    this.logger.warn(`THODARE_AUDIT_SIGNING_KEY is not set: ${created ? 'generated an audit signing key in' : 'signing audit checkpoints with'} ${file}; keep it outside the database's reach`);
    return parseAuditSigningKey(contents);
  }
}

/** A 32-byte Ed25519 seed as 64 hex digits or base64, or a PKCS#8 PEM Ed25519 private key. */
export function parseAuditSigningKey(text: string): KeyObject {
  const value = text.trim();
  if (value.startsWith('-----BEGIN')) {
    const key = createPrivateKey(value);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('THODARE_AUDIT_SIGNING_KEY must be an Ed25519 private key');
    return key;
  }
  const seed = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
  if (seed.length !== 32) throw new Error('THODARE_AUDIT_SIGNING_KEY must be a 32-byte Ed25519 seed (64 hex digits or base64) or a PKCS#8 PEM key');
  return ed25519PrivateKeyFromSeed(seed);
}
