import { Module } from '@nestjs/common';
import { ThrottlerModule, type ThrottlerModuleOptions } from '@nestjs/throttler';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import type { AuthenticatedRequest } from '../http/principal';
import { PgThrottlerStorage } from './pg-throttler.storage';
import { clientAddress, isAuthRoute, isWebhookRoute, webhookTracker } from './rate-limit.guard';

const MINUTE_MS = 60_000;

/** The storage lives here so Nest runs its sweep timer's lifecycle hooks. */
@Module({ providers: [PgThrottlerStorage], exports: [PgThrottlerStorage] })
class RateLimitStorageModule {}

/**
 * Three budgets, exactly one of which applies to a request: `api` (THODARE_RATE_LIMIT_PER_MIN)
 * per organization and principal — per client address on public token routes — and `auth`
 * (THODARE_AUTH_RATE_LIMIT_PER_MIN) per client address on sign-in and sign-up, and `webhook`
 * (THODARE_WEBHOOK_RATE_LIMIT_PER_MIN) per inbound webhook on `/hooks/:token`. Import in API
 * processes and list `RateLimitGuard` as an APP_GUARD after the auth guard.
 */
@Module({
  imports: [
    ThrottlerModule.forRootAsync({
      imports: [RateLimitStorageModule],
      inject: [CONFIG, PgThrottlerStorage],
      useFactory: (config: Config, storage: PgThrottlerStorage): ThrottlerModuleOptions => ({
        storage,
        throttlers: [
          { name: 'api', limit: config.rateLimitPerMin, ttl: MINUTE_MS, skipIf: (context) => isAuthRoute(context) || isWebhookRoute(context) },
          { name: 'auth', limit: config.authRateLimitPerMin, ttl: MINUTE_MS, skipIf: (context) => !isAuthRoute(context), getTracker: (request) => clientAddress(request as AuthenticatedRequest) },
          { name: 'webhook', limit: config.webhookRateLimitPerMin, ttl: MINUTE_MS, skipIf: (context) => !isWebhookRoute(context), getTracker: (request) => webhookTracker(request as AuthenticatedRequest) },
        ],
      }),
    }),
  ],
})
export class RateLimitModule {}
