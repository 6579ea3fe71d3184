import { Inject, Injectable, Optional } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { AppError } from '../errors';
import type { Principal, Role } from '../http/principal';
import { CredentialCache } from './credential-cache';
import { IdentityNotifications } from './identity-notifications';
import { hashSecret } from './credentials';
import { throwawayPassport } from './passport-instance';
import { apiKeyFrom } from './request-credentials';

/**
 * Looks the key up by its SHA-256 — kept for at most `THODARE_AUTH_CACHE_MS` and never past the
 * key's expiry (see `CredentialCache`: a revocation made in this process applies to the very next
 * call, one made elsewhere once this process's listener hears of it, and within a second whatever
 * the listener) — and records `last_used_at` at most once a minute.
 */
const KEY_SQL = `
WITH k AS (
  SELECT k.id, k.organization_id, k.role, k.expires_at
  FROM api_key_credentials c JOIN api_keys k ON k.id = c.api_key_id AND k.organization_id = c.organization_id
  WHERE c.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
), touched AS (
  UPDATE api_key_credentials SET last_used_at = now()
  WHERE api_key_id = (SELECT id FROM k) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
  RETURNING 1
)
SELECT id, organization_id, role, expires_at FROM k`;

/** `Authorization: Bearer thd_…` or `x-api-key`: the key acts with its own role in its organization. */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, 'thodare-api-key') {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CONFIG) config: Config,
    // Only an API process listens; elsewhere nothing is kept past \`UNPROVEN_TTL_MS\`.
    @Optional() @Inject(IdentityNotifications) hearing?: IdentityNotifications,
  ) {
    super();
    this.cache = new CredentialCache(config.authCacheMs, hearing);
  }

  private readonly cache: CredentialCache<Principal>;

  getPassportInstance() {
    return throwawayPassport();
  }

  /** null = no key on this request (the next strategy may try); throws for a key that is not valid. */
  async validate(request: FastifyRequest): Promise<Principal | null> {
    const key = apiKeyFrom(request);
    if (!key) return null;
    const hash = hashSecret(key);
    const principal = await this.cache.load(hash, async () => {
      const { rows } = await this.pool.query<{ id: string; organization_id: string; role: Role; expires_at: Date | null }>({ name: 'thodare_auth_key', text: KEY_SQL, values: [hash] });
      const row = rows[0];
      if (!row) throw new AppError('unauthorized', 'the API key is invalid, expired or revoked');
      const value: Principal = { organizationId: row.organization_id, role: row.role, actor: { type: 'api_key', id: row.id }, authMode: 'api_key', apiKeyId: row.id };
      return { value, expiresAt: row.expires_at };
    });
    return { ...principal };
  }
}
