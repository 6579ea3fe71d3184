import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config';
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
  private loading: Promise<SecretKey> | undefined;

  constructor(@Inject(CONFIG) private readonly config: Config) {}

  key(): Promise<SecretKey> {
    this.loading ??= this.load().catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  private async load(): Promise<SecretKey> {
    const key = this.config.secretKey ? parseSecretKey(this.config.secretKey) : await this.devKey();
    return { key, id: keyId(key) };
  }

  private async devKey(): Promise<Buffer> {
    const dir = resolve(this.config.dataDir);
    const file = join(dir, 'secret.key');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Written aside, then hard-linked into place: link() fails if the file exists, so of two
    // processes starting together exactly one installs its key, and nobody reads a half-written file.
    const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
    try {
      await link(temporary, file);
      this.logger.warn(`THODARE_SECRET_KEY is not set: generated a development key in ${file}; set THODARE_SECRET_KEY in production`);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
      this.logger.warn(`THODARE_SECRET_KEY is not set: using the development key in ${file}; set THODARE_SECRET_KEY in production`);
    } finally {
      await unlink(temporary).catch(() => undefined);
    }
    return parseSecretKey((await readFile(file, 'utf8')).trim());
  }
}
