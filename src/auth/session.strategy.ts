import { Inject, Injectable, Optional } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy } from 'passport-custom';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { AppError } from '../errors';
import type { Principal } from '../http/principal';
import { CredentialCache } from './credential-cache';
import { IdentityNotifications } from './identity-notifications';
import { hashSecret } from './credentials';
import { throwawayPassport } from './passport-instance';
import { sessionTokenFrom } from './request-credentials';
import { lookUpSession } from './sessions';

export const RENEWED_COOKIE = Symbol('thodare.renewedSessionCookie');
export type RenewableRequest = FastifyRequest & { [RENEWED_COOKIE]?: { token: string; expiresAt: Date } };

/**
 * Session tokens (`Authorization: Bearer ths_…` or the `thodare_session` cookie). The role is
 * read from `memberships` with the session, and kept for at most `THODARE_AUTH_CACHE_MS` (see
 * `CredentialCache`: a demotion or removal applies at once in the process that made it, in the
 * others once their listener hears of it, and everywhere within a second whatever the listeners).
 */
@Injectable()
export class SessionStrategy extends PassportStrategy(Strategy, 'thodare-session') {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CONFIG) private readonly config: Config,
    // Only an API process listens; elsewhere nothing is kept past `UNPROVEN_TTL_MS`.
    @Optional() @Inject(IdentityNotifications) hearing?: IdentityNotifications,
  ) {
    super();
    this.cache = new CredentialCache(config.authCacheMs, hearing);
  }

  private readonly cache: CredentialCache<Principal>;

  getPassportInstance() {
    return throwawayPassport();
  }

  async validate(request: FastifyRequest): Promise<Principal | null> {
    const credential = sessionTokenFrom(request);
    if (!credential) return null;
    const hash = hashSecret(credential.token);
    const principal = await this.cache.load(hash, async () => {
      const session = await lookUpSession(this.pool, hash, this.config.sessionTtlHours);
      if (!session) throw new AppError('unauthorized', 'the session is invalid, expired or signed out');
      if (credential.fromCookie && session.renewedUntil) {
        // The expiry slid forward: the guard re-sends the cookie so the browser's copy slides too.
        (request as RenewableRequest)[RENEWED_COOKIE] = { token: credential.token, expiresAt: session.renewedUntil };
      }
      const value: Principal = {
        // '' = the user belongs to no organization any more; the guard only lets such a
        // principal reach routes marked @WithoutOrganization().
        organizationId: session.organizationId ?? '',
        role: session.role ?? 'viewer',
        actor: { type: 'user', id: session.userId },
        authMode: 'session',
        userId: session.userId,
        sessionId: session.sessionId,
      };
      return { value, expiresAt: session.expiresAt };
    });
    return { ...principal };
  }
}
