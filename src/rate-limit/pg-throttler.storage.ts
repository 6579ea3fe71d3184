import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Pool } from 'pg';
import { budgetState, gcraParams, type BudgetState } from './gcra';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** The throttler record plus millisecond-precise figures for the headers and `retryAfterMs`. */
export interface PgThrottlerRecord extends ThrottlerStorageRecord, BudgetState {}

/**
 * One statement per request, on the database clock so every instance agrees on time. The row
 * lock taken by ON CONFLICT serialises concurrent requests for one key, so counts are exact.
 * This request's "now" is its clock reading, but never earlier than the reading of the request
 * before it on this key (`greatest(b.seen_at, excluded.seen_at)`): the clock is read before the
 * row lock, so a request that waited for the lock may carry an older reading than the one that
 * held it, and counting from that older time would report the same `remaining` twice.
 * Every SET expression reads the old row (`b`).
 * $2 = emission (µs), $3 = burst (µs); see `gcraStep` for the same rule in TypeScript.
 */
const INCREMENT = `
INSERT INTO rate_limit_buckets AS b (key, tat, seen_at, admitted)
SELECT $1, clock.now_us + $2::bigint, clock.now_us, true
FROM (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now_us) AS clock
ON CONFLICT (key) DO UPDATE SET
  admitted = greatest(b.tat, b.seen_at, excluded.seen_at) + $2::bigint - greatest(b.seen_at, excluded.seen_at) <= $3::bigint,
  tat = CASE WHEN greatest(b.tat, b.seen_at, excluded.seen_at) + $2::bigint - greatest(b.seen_at, excluded.seen_at) <= $3::bigint
             THEN greatest(b.tat, b.seen_at, excluded.seen_at) + $2::bigint ELSE b.tat END,
  seen_at = greatest(b.seen_at, excluded.seen_at)
RETURNING tat, seen_at, admitted`;

/** A bucket whose tat has passed holds a full budget: deleting it changes nothing. */
const SWEEP = `DELETE FROM rate_limit_buckets WHERE tat < (extract(epoch FROM clock_timestamp()) * 1000000)::bigint`;

export const SWEEP_INTERVAL_MS = 60_000;

/**
 * `ThrottlerStorage` backed by Postgres (table `rate_limit_buckets`, migration 0003), so every
 * API instance spends from one budget per key. GCRA rather than fixed windows: no burst of
 * twice the limit across a window boundary, one row per key, and refused requests cost
 * nothing. `blockDuration` is ignored — a refused caller is admitted again as soon as the
 * budget earns one request back.
 */
@Injectable()
export class PgThrottlerStorage implements ThrottlerStorage, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('rate-limit');
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(@Inject(Pool) private readonly pool: Pool) {}

  /** `ttl` is the window in milliseconds (throttler v6); the record's times are in seconds. */
  async increment(key: string, ttl: number, limit: number, _blockDuration?: number, _throttlerName?: string): Promise<PgThrottlerRecord> {
    const params = gcraParams(limit, ttl);
    const result = await this.pool.query<{ tat: string; seen_at: string; admitted: boolean }>({ name: 'thodare_rate_limit', text: INCREMENT, values: [key, params.emissionUs, params.burstUs] });
    const row = result.rows[0];
    if (!row) throw new Error('rate-limit upsert returned no row');
    const state = budgetState({ tat: Number(row.tat), seenAt: Number(row.seen_at), admitted: row.admitted }, params);
    return {
      ...state,
      totalHits: state.admitted ? limit - state.remaining : limit + 1,
      timeToExpire: Math.ceil(state.resetMs / 1000),
      isBlocked: !state.admitted,
      timeToBlockExpire: Math.ceil(state.retryAfterMs / 1000),
    };
  }

  /** Deletes buckets that hold a full budget; returns how many. */
  async sweep(): Promise<number> {
    const result = await this.pool.query(SWEEP);
    return result.rowCount ?? 0;
  }

  onModuleInit(): void {
    this.timer = setInterval(() => {
      this.sweeping ??= this.sweep()
        .catch((error: unknown) => this.logger.warn({ err: error }, 'rate-limit sweep failed; retrying next interval'))
        .finally(() => (this.sweeping = undefined));
    }, SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.sweeping;
  }
}
