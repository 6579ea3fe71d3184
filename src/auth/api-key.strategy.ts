import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { Pool } from 'pg';
import { AppError } from '../errors';
import type { Principal, Role } from '../http/principal';
import { hashSecret } from './credentials';
import { throwawayPassport } from './passport-instance';
import { apiKeyFrom } from './request-credentials';

/**
 * Looks the key up by its SHA-256 on every request — no cache, so a revocation or expiry
 * takes effect on the very next call — and records `last_used_at` at most once a minute.
 */
const KEY_SQL = `
WITH k AS (
  SELECT k.id, k.organization_id, k.role
  FROM api_key_credentials c JOIN api_keys k ON k.id = c.api_key_id AND k.organization_id = c.organization_id
  WHERE c.key_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
), touched AS (
  UPDATE api_key_credentials SET last_used_at = now()
  WHERE api_key_id = (SELECT id FROM k) AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
  RETURNING 1
)
SELECT id, organization_id, role FROM k`;

/** `Authorization: Bearer thd_…` or `x-api-key`: the key acts with its own role in its organization. */
@Injectable()
export class ApiKeyStrategy extends PassportStrategy(Strategy, 'thodare-api-key') {
  constructor(@Inject(Pool) private readonly pool: Pool) {
    super();
  }

  getPassportInstance() {
    return throwawayPassport();
  }

  /** null = no key on this request (the next strategy may try); throws for a key that is not valid. */
  async validate(request: FastifyRequest): Promise<Principal | null> {
    const key = apiKeyFrom(request);
    if (!key) return null;
    const { rows } = await this.pool.query<{ id: string; organization_id: string; role: Role }>({ name: 'thodare_auth_key', text: KEY_SQL, values: [hashSecret(key)] });
    const row = rows[0];
    if (!row) throw new AppError('unauthorized', 'the API key is invalid, expired or revoked');
    return {
      organizationId: row.organization_id,
      role: row.role,
      actor: { type: 'api_key', id: row.id },
      authMode: 'api_key',
      apiKeyId: row.id,
    };
  }
}
