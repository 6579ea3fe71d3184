import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { AppError } from '../errors';
import { openSecret } from './secret-cipher';
import { SecretKeyProvider } from './secret-key';

/** Thrown when a run needs secrets the organization has not stored (`code: secret_missing`). */
export class SecretMissing extends AppError {
  constructor(readonly missing: string[]) {
    super('secret_missing', `missing organization secret${missing.length === 1 ? '' : 's'} ${missing.map((n) => `"${n}"`).join(', ')}: store ${missing.length === 1 ? 'it' : 'them'} with POST /api/secrets`, { missing });
  }
}

/**
 * Thrown when a stored secret cannot be opened: sealed under another THODARE_SECRET_KEY
 * (`secret_key_mismatch`) or altered at rest (`secret_corrupted`). Never carries the value.
 */
export class SecretUnreadable extends AppError {
  constructor(code: 'secret_key_mismatch' | 'secret_corrupted', name: string) {
    super(code, code === 'secret_key_mismatch'
      ? `secret "${name}" was stored under a different THODARE_SECRET_KEY; store it again`
      : `secret "${name}" failed authentication (altered or moved); store it again`, { name });
  }
}

interface SecretRow {
  name: string;
  ciphertext: Buffer;
  iv: Buffer;
  auth_tag: Buffer;
  key_id: string;
}

/**
 * Secret values for the runtime: the only way a plaintext leaves the `secrets` table. Callers
 * pass the values straight to a connector and never record them (runs record "[hidden]").
 */
@Injectable()
export class SecretsService {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(SecretKeyProvider) private readonly keys: SecretKeyProvider,
  ) {}

  /** Name → plaintext for every requested name; `SecretMissing` lists all absent names at once. */
  async resolveSecrets(organizationId: string, names: readonly string[]): Promise<Record<string, string>> {
    const wanted = [...new Set(names)];
    if (wanted.length === 0) return {};
    const { rows } = await this.pool.query<SecretRow>(
      'SELECT name, ciphertext, iv, auth_tag, key_id FROM secrets WHERE organization_id = $1 AND name = ANY($2::text[])',
      [organizationId, wanted],
    );
    const found = new Set(rows.map((row) => row.name));
    const missing = wanted.filter((name) => !found.has(name));
    if (missing.length > 0) throw new SecretMissing(missing);
    const { key, id } = await this.keys.key();
    return Object.fromEntries(rows.map((row) => [row.name, this.open(key, id, organizationId, row)]));
  }

  private open(key: Buffer, id: string, organizationId: string, row: SecretRow): string {
    if (row.key_id !== id) throw new SecretUnreadable('secret_key_mismatch', row.name);
    try {
      return openSecret(key, organizationId, row.name, { ciphertext: row.ciphertext, iv: row.iv, authTag: row.auth_tag, keyId: row.key_id });
    } catch {
      throw new SecretUnreadable('secret_corrupted', row.name);
    }
  }
}
