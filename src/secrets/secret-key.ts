import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/config';
import { loadOnce, readOrCreateKeyFile } from '../config/generated-key-file';
import { CONFIG } from '../database/database.module';
import { keyId, parseSecretKey } from './secret-cipher';

/** The key that seals organization secrets, and its fingerprint. */
export interface SecretKey {
  key: Buffer;
  id: string;
}

/**
 * THODARE_SECRET_KEY, or — when unset — a development key generated once and kept in
 * `<dataDir>/secret.key` (mode 0600). Loaded on first use, so a process that never touches a
 * secret never writes the file. Losing that file makes stored secrets unreadable.
 */
@Injectable()
export class SecretKeyProvider {
  private readonly logger = new Logger('secrets');

  constructor(@Inject(CONFIG) private readonly config: Config) {}

  readonly key: () => Promise<SecretKey> = loadOnce(() => this.load());

  private async load(): Promise<SecretKey> {
    const key = this.config.secretKey ? parseSecretKey(this.config.secretKey) : await this.devKey();
    return { key, id: keyId(key) };
  }

  private async devKey(): Promise<Buffer> {
    const { file, contents, created } = await readOrCreateKeyFile(this.config.dataDir, 'secret.key', () => randomBytes(32).toString('hex'));
    this.logger.warn(`THODARE_SECRET_KEY is not set: ${created ? 'generated a development key in' : 'using the development key in'} ${file}; set THODARE_SECRET_KEY in production`);
    return parseSecretKey(contents);
  }
}
