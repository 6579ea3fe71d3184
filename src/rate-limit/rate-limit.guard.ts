import { ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { normalizeIp, ThrottlerGuard, type ThrottlerRequest } from '@nestjs/throttler';
import type { FastifyReply } from 'fastify';
import { classifyDatabaseError } from '../database/pg-errors';
import { AppError } from '../errors';
import type { AuthenticatedRequest } from '../http/principal';
import { WEBHOOK_TOKEN_SHAPE } from '../webhooks/webhook-credentials';
import type { PgThrottlerRecord, PgThrottlerStorage } from './pg-throttler.storage';
import { AUTH_RATE_LIMIT, AUTH_ROUTES, NO_RATE_LIMIT, WEBHOOK_RATE_LIMIT } from './rate-limit.decorators';

/**
 * Spends one request of the caller's budget, sets `X-RateLimit-Limit/Remaining/Reset` (Reset in
 * seconds until the whole budget is back) and refuses with 429 `rate_limited` + `retryAfterMs`.
 * Runs after the auth guard, so `request.principal` names whose budget it is.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  private readonly log = new Logger('rate-limit');

  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    return this.reflector.getAllAndOverride<boolean>(NO_RATE_LIMIT, [context.getHandler(), context.getClass()]) === true;
  }

  /** `org:<organizationId>:<actor type>:<actor id>`; the client address on public routes. */
  protected override async getTracker(request: AuthenticatedRequest): Promise<string> {
    const principal = request.principal;
    // A signed-in user outside any organization (WithoutOrganization routes) still has a budget.
    if (principal) return `org:${principal.organizationId || '-'}:${principal.actor.type}:${principal.actor.id}`;
    return clientAddress(request);
  }

  /** One budget per tracker across every route (the default key is per handler). */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  protected override async handleRequest({ context, limit, ttl, throttler, getTracker, generateKey }: ThrottlerRequest): Promise<boolean> {
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const key = generateKey(context, await getTracker(request, context), throttler.name ?? 'api');
    let record: PgThrottlerRecord;
    try {
      record = await (this.storageService as unknown as PgThrottlerStorage).increment(key, ttl, limit);
    } catch (error) {
      // The database away: answered 503 database_unavailable like every route (logged once).
      if (classifyDatabaseError(error) === 'unavailable') throw error;
      // The API fails open (a limiter hiccup must not become an outage); sign-in/up fail closed,
      // so a broken limiter never opens the door to password guessing.
      this.log.error({ err: error }, `rate-limit storage failed; ${throttler.name === 'auth' ? 'request refused' : 'request let through unmetered'}`);
      if (throttler.name === 'auth') throw new AppError('not_ready', 'sign-in and sign-up are briefly unavailable; retry shortly');
      return true;
    }
    void reply.header('x-ratelimit-limit', limit);
    void reply.header('x-ratelimit-remaining', record.remaining);
    void reply.header('x-ratelimit-reset', Math.ceil(record.resetMs / 1000));
    if (!record.admitted) {
      throw new AppError('rate_limited', `rate limit of ${limit} requests per ${ttl / 1000} s exceeded; retry in ${record.retryAfterMs} ms`, {
        retryAfterMs: record.retryAfterMs,
      });
    }
    return true;
  }
}

/** The socket's address (IPv6 grouped by /64 so one host cannot rotate through its subnet). */
export function clientAddress(request: AuthenticatedRequest): string {
  return `ip:${normalizeIp(request.ip)}`;
}

const reflector = new Reflector();

/** Whether the route spends the credential-guessing budget rather than the general one. */
export function isAuthRoute(context: ExecutionContext): boolean {
  if (reflector.getAllAndOverride<boolean>(AUTH_RATE_LIMIT, [context.getHandler(), context.getClass()])) return true;
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  return AUTH_ROUTES.has(`${request.method} ${request.routeOptions.url ?? ''}`);
}

/** Whether the route spends a webhook's delivery budget (`@WebhookRateLimit()`). */
export function isWebhookRoute(context: ExecutionContext): boolean {
  return reflector.getAllAndOverride<boolean>(WEBHOOK_RATE_LIMIT, [context.getHandler(), context.getClass()]) === true;
}

/**
 * The delivery budget's key: the webhook's token (its id part), so each webhook has its own. A
 * path that is no token spends its sender's: the key was the path's first 22 characters, and one
 * with a NUL (`/hooks/%00`) was a key Postgres refuses, so the limiter failed open and logged an
 * error for every such request.
 */
export function webhookTracker(request: AuthenticatedRequest): string {
  const token = (request.params as { token?: string } | undefined)?.token ?? '';
  return WEBHOOK_TOKEN_SHAPE.test(token) ? `hook:${token.slice(0, 22)}` : `hook:${clientAddress(request)}`;
}
