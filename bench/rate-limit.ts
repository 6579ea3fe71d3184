import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseConfig } from '../src/config/config';
import { startApplication, type RunningThodare } from '../src/main';
import { PgThrottlerStorage } from '../src/rate-limit/pg-throttler.storage';
import { benchDatabase, percentile, rate, round, type BenchDatabase } from './support';

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
 * What the rate limiter adds to a request: one upsert on `rate_limit_buckets` (a small budget),
 * compared with the bare round trip (`SELECT 1`) on the same connection, and a share of a lease
 * (a busy budget); then throughput when many requests contend for one bucket (one tenant
 * hammering) versus spread over many.
 */
export async function benchRateLimit(): Promise<Record<string, unknown>> {
  const db = await benchDatabase();
  try {
    const one = db.pool(1);
    const storage = new PgThrottlerStorage(one);
    const roundTripMs = await latencies(() => one.query('SELECT 1'));
    // A budget of 1,000,000 a day earns less than a request per 100 ms: one upsert per request
    // (leaseSize 1). A billion a day is spent in leases of 100: one upsert per 100 requests.
    const exactMs = await latencies(() => storage.increment('org:bench:user:exact', DAY_MS, 1_000_000));
    const hotKeyMs = await latencies(() => storage.increment('org:bench:user:hot', DAY_MS, 1_000_000_000));
    const manyKeysMs = await latencies((i) => storage.increment(`org:bench:user:${i % 1000}`, DAY_MS, 1_000_000_000));
    const sixteen = new PgThrottlerStorage(db.pool(16));
    const hotKeyPerSec = await rate(DURATION_MS, 16, () => sixteen.increment('org:bench:contended', DAY_MS, 1_000_000_000));
    const spreadPerSec = await rate(DURATION_MS, 16, (w) => sixteen.increment(`org:bench:spread:${w}`, DAY_MS, 1_000_000_000));
    const auth = await authOverHttp(db);
    return {
      benchmark: 'rate-limit',
      database: db.embedded ? 'embedded' : 'DATABASE_URL',
      roundTripMs,
      incrementOneStatementMs: exactMs,
      addedOverRoundTripP50Ms: round(exactMs.p50 - roundTripMs.p50, 3),
      incrementLeasedHotKeyMs: hotKeyMs,
      incrementLeasedManyKeysMs: manyKeysMs,
      concurrentWorkers: 16,
      oneKeyIncrementsPerSec: round(hotKeyPerSec, 0),
      sixteenKeysIncrementsPerSec: round(spreadPerSec, 0),
      auth,
    };
  } finally {
    await db.close();
  }
}

/**
 * Authentication and rate limiting over HTTP, API only: `GET /api/auth/session` (an API key, one
 * rate-limit upsert) against `GET /health` (public, unmetered) on the same instance, with the
 * credential cache on (default) and off; then how long a key revoked through instance A keeps
 * working on instance B — another process (`thodare api`), its cache at the default minute, kept
 * in step by the identity notifications — asked every 5 ms, five times.
 */
async function authOverHttp(db: BenchDatabase): Promise<Record<string, unknown>> {
  const start = (cacheMs: string) =>
    startApplication({
      config: parseConfig({ DATABASE_URL: db.url, THODARE_SCHEMA: db.schema, THODARE_LOG_LEVEL: 'warn', THODARE_AUTH_CACHE_MS: cacheMs, THODARE_RATE_LIMIT_PER_MIN: '100000000', THODARE_AUTH_RATE_LIMIT_PER_MIN: '1000', PORT: '0', HOST: '127.0.0.1' }),
      databaseUrl: db.url,
      roles: { api: true, worker: false },
    });
  const a = await start('1000');
  const uncached = await start('0');
  const other = await otherProcess(db);
  try {
    const b = { url: other.url } as RunningThodare;
    const call = async (app: RunningThodare, method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
      const res = await fetch(`${app.url}${path}`, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...headers }, ...(body ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
    };
    const signedUp = await call(a, 'POST', '/api/auth/sign-up', {}, { email: `bench-auth-${Date.now()}@example.test`, password: 'bench-password-123456' });
    const owner = { authorization: `Bearer ${String(signedUp.body.token)}` };
    const newKey = async () => {
      const created = await call(a, 'POST', '/api/api-keys', owner, { name: 'bench', role: 'member' });
      return { id: String(created.body.id), headers: { 'x-api-key': String(created.body.key) } };
    };
    const key = await newKey();
    const p50 = async (app: RunningThodare, path: string, headers: Record<string, string> = {}) => (await latencies(() => call(app, 'GET', path, headers))).p50;
    const health = await p50(a, '/health');
    const cached = await p50(a, '/api/auth/session', key.headers);
    const healthUncached = await p50(uncached, '/health');
    const lookedUp = await p50(uncached, '/api/auth/session', key.headers);
    const revocations: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const revoked = await newKey();
      if ((await call(b, 'GET', '/api/auth/session', revoked.headers)).status !== 200) throw new Error('the new key does not work on B');
      await call(a, 'DELETE', `/api/api-keys/${revoked.id}`, owner);
      const began = performance.now();
      while ((await call(b, 'GET', '/api/auth/session', revoked.headers)).status !== 401) await new Promise((r) => setTimeout(r, 5));
      revocations.push(round(performance.now() - began, 1));
    }
    return {
      healthP50Ms: health,
      sessionRouteWithKeyP50Ms: cached,
      addedByAuthAndRateLimitP50Ms: round(cached - health, 3),
      withoutCache: { healthP50Ms: healthUncached, sessionRouteWithKeyP50Ms: lookedUp, addedByAuthAndRateLimitP50Ms: round(lookedUp - healthUncached, 3) },
      revokedOnAStillWorksOnBMs: revocations,
      target: 'auth + rate limit <= 0.5 ms of a request; a revocation applies on every instance within 1 s',
    };
  } finally {
    other.child.kill('SIGTERM');
    await Promise.all([a.close(), uncached.close()]);
  }
}

/** `thodare api` in a child process on `db`, once its `/health` answers. */
async function otherProcess(db: BenchDatabase): Promise<{ url: string; child: ChildProcess }> {
  const port = await new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as { port: number };
      server.close(() => resolve(free));
    });
  });
  const env = { ...process.env, DATABASE_URL: db.url, THODARE_SCHEMA: db.schema, THODARE_LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1', THODARE_RATE_LIMIT_PER_MIN: '100000000' };
  const child = spawn(process.execPath, [join(__dirname, '..', '..', 'bin', 'thodare.js'), 'api'], { env, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let tries = 0; ; tries += 1) {
    const up = await fetch(`${url}/health`).then((res) => res.ok, () => false);
    if (up) return { url, child };
    if (tries > 300) throw new Error('thodare api did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
}
