import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';
import { Pool } from 'pg';
import { budgetState, gcraParams, type BudgetState, type GcraParams } from './gcra';
import { everyPeriod, type Periodic } from '../periodic';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** The throttler record plus millisecond-precise figures for the headers and `retryAfterMs`. */
export interface PgThrottlerRecord extends ThrottlerStorageRecord, BudgetState {}

/**
 * One statement per lease (one request, unless the budget is large: see `leaseSize`), on the
 * database clock so every instance agrees on time. The row lock taken by ON CONFLICT serialises
 * concurrent requests for one key, so counts are exact. This request's "now" is its clock
 * reading, but never earlier than the reading of the request before it on this key
 * (`greatest(b.seen_at, excluded.seen_at)`): the clock is read before the row lock, so a request
 * that waited for the lock may carry an older reading than the one that held it, and counting
 * from that older time would report the same `remaining` twice. Every SET expression reads the
 * old row (`b`). $2 = emission (µs), $3 = burst (µs), $4 = requests asked for: it grants as many
 * as fit in the budget now, at most $4, and pushes `tat` by as many emissions; when not even one
 * fits it changes nothing but `seen_at`. See `gcraStep` for the one-request rule in TypeScript.
 */
const LEASE = `
INSERT INTO rate_limit_buckets AS b (key, tat, seen_at, admitted, granted)
SELECT $1, clock.now_us + least($4::bigint, $3::bigint / $2::bigint) * $2::bigint, clock.now_us, true, least($4::bigint, $3::bigint / $2::bigint)
FROM (SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS now_us) AS clock
ON CONFLICT (key) DO UPDATE SET
  granted = greatest(0, least($4::bigint,
    ($3::bigint - greatest(b.tat, b.seen_at, excluded.seen_at) + greatest(b.seen_at, excluded.seen_at)) / $2::bigint)),
  admitted = greatest(b.tat, b.seen_at, excluded.seen_at) + $2::bigint - greatest(b.seen_at, excluded.seen_at) <= $3::bigint,
  tat = CASE WHEN greatest(b.tat, b.seen_at, excluded.seen_at) + $2::bigint - greatest(b.seen_at, excluded.seen_at) <= $3::bigint
             THEN greatest(b.tat, b.seen_at, excluded.seen_at) + $2::bigint * least($4::bigint,
               ($3::bigint - greatest(b.tat, b.seen_at, excluded.seen_at) + greatest(b.seen_at, excluded.seen_at)) / $2::bigint)
             ELSE b.tat END,
  seen_at = greatest(b.seen_at, excluded.seen_at)
RETURNING tat, seen_at, granted`;

/**
 * A lease lasts this long: requests it granted that this instance has not used by then are
 * given up (the budget is never overspent, only underspent by at most one lease per instance:
 * the grants were taken from the shared budget when leased, however long they wait). At 1 s, a
 * client calling about once a second (an agent polling a run, the peers harness's S1 starts,
 * 1.01 s apart) found its lease just gone on every call and waited for a lease statement first:
 * 1.3-2.7 ms of S1's pickup over HTTP. Ten seconds covers a poll every few seconds; a lease still
 * asks for no more than 100 ms of the budget's earnings (`LEASE_WINDOW_MS`).
 */
const LEASE_TTL_MS = 10_000;
/** A lease asks for the requests the budget earns in this long at its full rate ... */
const LEASE_WINDOW_MS = 100;
/** ... and at most this many. */
const MAX_LEASE = 100;

/**
 * How many requests one statement asks for: the budget's earnings in `LEASE_WINDOW_MS`, so a
 * busy key (a webhook at 60,000/min asks 100 at a time) costs a statement per lease rather than
 * per request, while a small budget (600/min, 20/min) stays one statement per request, exact to
 * the request across instances.
 */
export function leaseSize(limit: number, windowMs: number): number {
  return Math.max(1, Math.min(MAX_LEASE, Math.floor((limit * LEASE_WINDOW_MS) / windowMs)));
}

/** Requests granted to this instance and not used yet, with the bucket as the grant left it. */
interface Lease {
  left: number;
  expiresAt: number;
  bucket: { tat: number; seenAt: number };
  /** `performance.now()` at the grant: the bucket's times move on by the time elapsed since. */
  grantedAt: number;
}

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
  private timer: Periodic | undefined;
  private sweeping: Promise<unknown> | undefined;

  constructor(@Inject(Pool) private readonly pool: Pool) {}

  private readonly leases = new Map<string, Lease>();
  /** The lease statement in flight per key: requests arriving meanwhile wait for its grant. */
  private readonly leasing = new Map<string, Promise<BucketGrant>>();

  /** `ttl` is the window in milliseconds (throttler v6); the record's times are in seconds. */
  async increment(key: string, ttl: number, limit: number, _blockDuration?: number, _throttlerName?: string): Promise<PgThrottlerRecord> {
    const params = gcraParams(limit, ttl);
    const size = leaseSize(limit, ttl);
    if (size === 1) return recordOf(await this.grant(key, params, 1), params, limit, 0);
    for (;;) {
      const lease = this.leases.get(key);
      const now = performance.now();
      if (lease && lease.left > 0 && now < lease.expiresAt) {
        lease.left -= 1;
        return recordOf({ ...lease.bucket, granted: 1 }, params, limit, lease.left, now - lease.grantedAt);
      }
      const pending = this.leasing.get(key);
      if (pending) {
        const granted = await pending;
        // Refused: so is everyone who waited for that answer (no statement per waiter).
        if (granted.granted === 0) return recordOf(granted, params, limit, 0);
        continue;
      }
      const asked = this.grant(key, params, size).then((granted) => {
        if (granted.granted > 0) this.leases.set(key, { left: granted.granted, expiresAt: performance.now() + LEASE_TTL_MS, bucket: granted, grantedAt: performance.now() });
        else this.leases.delete(key);
        return granted;
      });
      this.leasing.set(key, asked);
      try {
        await asked;
      } finally {
        this.leasing.delete(key);
      }
    }
  }

  /** One lease statement: up to `wanted` requests of `key`'s budget. */
  private async grant(key: string, params: GcraParams, wanted: number): Promise<BucketGrant> {
    const result = await this.pool.query<{ tat: string; seen_at: string; granted: number }>({ name: 'thodare_rate_limit_lease', text: LEASE, values: [key, params.emissionUs, params.burstUs, wanted] });
    const row = result.rows[0];
    if (!row) throw new Error('rate-limit upsert returned no row');
    return { tat: Number(row.tat), seenAt: Number(row.seen_at), granted: row.granted };
  }

  /** Deletes buckets that hold a full budget; returns how many. */
  async sweep(): Promise<number> {
    const result = await this.pool.query(SWEEP);
    return result.rowCount ?? 0;
  }

  private forgetExpiredLeases(): void {
    const now = performance.now();
    for (const [key, lease] of this.leases) if (lease.expiresAt <= now) this.leases.delete(key);
  }

  /**
   * Nest calls this once for each module that provides the instance: ours, and the throttler's,
   * whose storage it is. A second timer would outlive `onModuleDestroy` and sweep on an ended pool.
   */
  onModuleInit(): void {
    if (this.timer) return;
    this.timer = everyPeriod(
      SWEEP_INTERVAL_MS,
      () => {
        this.forgetExpiredLeases();
        this.sweeping ??= this.sweep()
          .catch((error: unknown) => this.logger.warn({ err: error }, 'rate-limit sweep failed; retrying next interval'))
          .finally(() => (this.sweeping = undefined));
      },
      { unref: true },
    );
  }

  async onModuleDestroy(): Promise<void> {
    this.timer?.stop();
    this.timer = undefined;
    await this.sweeping;
  }
}

/** The bucket after a lease statement, and how many requests it granted. */
interface BucketGrant {
  tat: number;
  seenAt: number;
  granted: number;
}

/**
 * The throttler record of one request: admitted when `bucket` granted any. `unused` requests
 * still leased to this instance count as remaining; `elapsedMs` since the grant moves the
 * bucket's clock on.
 */
function recordOf(bucket: BucketGrant, params: GcraParams, limit: number, unused: number, elapsedMs = 0): PgThrottlerRecord {
  const elapsedUs = Math.round(elapsedMs * 1000);
  const state = budgetState({ tat: bucket.tat, seenAt: bucket.seenAt + elapsedUs, admitted: bucket.granted > 0 }, params);
  const remaining = Math.min(limit, state.remaining + unused);
  return {
    ...state,
    remaining,
    totalHits: state.admitted ? limit - remaining : limit + 1,
    timeToExpire: Math.ceil(state.resetMs / 1000),
    isBlocked: !state.admitted,
    timeToBlockExpire: Math.ceil(state.retryAfterMs / 1000),
  };
}
