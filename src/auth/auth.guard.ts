import { CanActivate, ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply } from 'fastify';
import { Passport } from 'passport';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { AppError } from '../errors';
import { PUBLIC_ROUTE } from '../http/api-route.decorator';
import type { AuthenticatedRequest, Principal, Role } from '../http/principal';
import { REQUIRED_ROLE, ROLE_RANK } from '../http/require-role.decorator';
import { ApiKeyStrategy } from './api-key.strategy';
import { assertCsrfProof, assertSameOriginSignIn } from './csrf';
import { OPENS_SESSION } from './opens-session.decorator';
import { setSessionCookie } from './session-cookie';
import { RENEWED_COOKIE, SessionStrategy, type RenewableRequest } from './session.strategy';
import { WITHOUT_ORGANIZATION } from './without-organization.decorator';

/**
 * The role a route needs when it declares none: reading needs `viewer` (any member), anything
 * else needs `member`. A write route that forgets `@RequireRole` is closed to viewers rather
 * than open to them; routes a viewer may call with POST say `@RequireRole('viewer')`.
 */
export function defaultRole(method: string): Role {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? 'viewer' : 'member';
}

/**
 * The global guard (first APP_GUARD): `@Public()` routes pass (sign-in and sign-up only from
 * this origin, see `csrf.ts`); every other route needs an API key or a session (401
 * `unauthorized`), a write authenticated by the session cookie needs the CSRF header (403
 * `csrf_required`), and the principal's role must reach the route's `@RequireRole` (403
 * `forbidden`). Sets `request.principal` for everything after it.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly passport = new Passport();

  constructor(
    private readonly reflector: Reflector,
    apiKeys: ApiKeyStrategy,
    sessions: SessionStrategy,
    @Optional() @Inject(CONFIG) private readonly config?: Config,
  ) {
    this.passport.use('api-key', apiKeys);
    this.passport.use('session', sessions);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) {
      if (this.reflector.getAllAndOverride<boolean>(OPENS_SESSION, targets)) assertSameOriginSignIn(request, this.config?.publicUrl);
      return true;
    }
    const reply = http.getResponse<FastifyReply>();
    const principal = await this.authenticate(request, reply);
    assertCsrfProof(request);
    request.principal = principal;
    const renewed = (request as RenewableRequest)[RENEWED_COOKIE];
    if (renewed) setSessionCookie(request, reply, renewed.token, renewed.expiresAt);
    if (!principal.organizationId && !this.reflector.getAllAndOverride<boolean>(WITHOUT_ORGANIZATION, targets)) {
      throw new AppError('no_organization', 'you belong to no organization: create one (POST /api/organizations) or accept an invitation');
    }
    const required = this.reflector.getAllAndOverride<Role | undefined>(REQUIRED_ROLE, targets) ?? defaultRole(request.method);
    if (ROLE_RANK[principal.role] < ROLE_RANK[required]) {
      throw new AppError('forbidden', `this needs the ${required} role; you act as ${principal.role}`, { requiredRole: required, role: principal.role });
    }
    return true;
  }

  /** Tries the API-key strategy, then the session strategy; a presented but bad credential fails at once. */
  private authenticate(request: AuthenticatedRequest, reply: FastifyReply): Promise<Principal> {
    return new Promise((resolve, reject) => {
      const middleware = this.passport.authenticate(['api-key', 'session'], { session: false }, (error: unknown, principal: Principal | false) => {
        if (error) reject(error);
        else if (!principal) reject(new AppError('unauthorized', 'authentication required: send Authorization: Bearer <API key or session token>, x-api-key, or the session cookie'));
        else resolve(principal);
      }) as (req: unknown, res: unknown, next: (error?: unknown) => void) => void;
      middleware(request, reply, (error) => reject(error ?? new AppError('unauthorized', 'authentication required')));
    });
  }
}
