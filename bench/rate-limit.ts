import { PgThrottlerStorage } from '../src/rate-limit/pg-throttler.storage';
import { benchDatabase, percentile, rate, round } from './support';

const SAMPLES = 3000;
const DURATION_MS = 3000;
const DAY_MS = 86_400_000;

async function latencies(op: (i: number) => Promise<unknown>): Promise<{ p50: number; p99: number; mean: number }> {
  for (let i = 0; i < 300; i++) await op(i); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const started = performance.now();
    await op(i);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((sum, s) => sum + s, 0) / samples.length;
  return { p50: round(percentile(samples, 50), 3), p99: round(percentile(samples, 99), 3), mean: round(mean, 3) };
}

/**
 * What the rate limiter adds to a request: one upsert on `rate_limit_buckets`, compared with the
 * bare round trip (`SELECT 1`) on the same connection; then throughput when many requests
 * contend for one bucket (one tenant hammering) versus spread over many.
 */
export async function benchRateLimit(): Promise<Record<string, unknown>> {
  const db = await benchDatabase();
  try {
    const one = db.pool(1);
    const storage = new PgThrottlerStorage(one);
    const roundTripMs = await latencies(() => one.query('SELECT 1'));
    const hotKeyMs = await latencies(() => storage.increment('org:bench:user:hot', DAY_MS, 1_000_000_000));
    const manyKeysMs = await latencies((i) => storage.increment(`org:bench:user:${i % 1000}`, DAY_MS, 1_000_000_000));
    const sixteen = new PgThrottlerStorage(db.pool(16));
    const hotKeyPerSec = await rate(DURATION_MS, 16, () => sixteen.increment('org:bench:contended', DAY_MS, 1_000_000_000));
    const spreadPerSec = await rate(DURATION_MS, 16, (w) => sixteen.increment(`org:bench:spread:${w}`, DAY_MS, 1_000_000_000));
    return {
      benchmark: 'rate-limit',
      database: db.embedded ? 'embedded' : 'DATABASE_URL',
      roundTripMs,
      incrementHotKeyMs: hotKeyMs,
      incrementManyKeysMs: manyKeysMs,
      addedOverRoundTripP50Ms: round(hotKeyMs.p50 - roundTripMs.p50, 3),
      concurrentWorkers: 16,
      oneKeyIncrementsPerSec: round(hotKeyPerSec, 0),
      sixteenKeysIncrementsPerSec: round(spreadPerSec, 0),
    };
  } finally {
    await db.close();
  }
}
