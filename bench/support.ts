import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Pool } from 'pg';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres';
import { analyticsSchemaName } from '../src/analytics/analytics-schema';
import { migrate } from '../src/database/migrate';
import { createPool } from '../src/database/pool';
import type { SerializedWorkflow, WorkflowBlock, WorkflowConnection } from '../src/domain/workflow/workflow';

export interface BenchDatabase {
  url: string;
  schema: string;
  embedded: boolean;
  pool(size: number): Pool;
  close(): Promise<void>;
}

/** A fresh migrated schema on DATABASE_URL, or on a throw-away embedded cluster. */
export async function benchDatabase(): Promise<BenchDatabase> {
  let url = process.env.DATABASE_URL;
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (!url) {
    const parent = mkdtempSync(join(tmpdir(), 'thodare-bench-'));
    const embedded = await startEmbeddedPostgres({ dataDir: join(parent, 'pg'), persistent: false });
    url = embedded.socketUrl ?? embedded.url;
    stopEmbedded = async () => {
      await embedded.stop();
      rmSync(parent, { recursive: true, force: true });
    };
  }
  return freshSchema(url, stopEmbedded);
}

/**
 * Another fresh schema in `db`'s database (its server, its moment): a control measured beside
 * `db` rather than minutes before or after it. Closing it drops only its own schema.
 */
export function siblingSchema(db: BenchDatabase): Promise<BenchDatabase> {
  return freshSchema(db.url, undefined, db.embedded);
}

async function freshSchema(url: string, stopEmbedded: (() => Promise<void>) | undefined, embedded = stopEmbedded !== undefined): Promise<BenchDatabase> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  await migrate(url, schema);
  const pools: Pool[] = [];
  return {
    url,
    schema,
    embedded,
    pool(size) {
      const pool = createPool(url, schema, size);
      pools.push(pool);
      return pool;
    },
    async close() {
      await Promise.all(pools.map((p) => p.end()));
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${analyticsSchemaName(schema)}", "${schema}" CASCADE`);
      await client.end();
      await stopEmbedded?.();
    },
  };
}

/** Runs `op` back to back for `ms` milliseconds on each of `workers` loops; returns ops/s. */
export async function rate(ms: number, workers: number, op: (worker: number, i: number) => Promise<unknown>): Promise<number> {
  const until = performance.now() + ms;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      for (let i = 0; performance.now() < until; i++) {
        await op(w, i);
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const round = (n: number, digits = 2) => Number(n.toFixed(digits));

/** p50 and p99 of latency samples, rounded to `digits`. */
export function stats(samples: number[], digits = 2): { p50: number; p99: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50), digits), p99: round(percentile(sorted, 99), digits) };
}

/** `op` run `times` times one after another: what each returned. */
export async function sequential(times: number, op: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < times; i += 1) out.push(await op());
  return out;
}

/** A /proc/stat jiffy in ms (USER_HZ is 100 on Linux). */
const JIFFY_MS = 10;

/**
 * The whole machine's busy CPU time so far (every process, Postgres included), in ms, from
 * /proc/stat: the difference of two readings is what the machine spent between them.
 */
export function machineBusyMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return (fields.reduce((a, b) => a + b, 0) - idle) * JIFFY_MS;
}

/**
 * Waits until every async projection has read every event stored, and returns how long that took
 * (ms) and how many times it asked (a statement and a commit each). Latency figures are taken on a settled system: right after a burst of a thousand runs the
 * projections still digest it for a second or more, and a C100 measured meanwhile measured both.
 * Compared in commit order, as projections read: the last event there need not hold the highest
 * global position (a transaction that got its id first may insert last), and compared by position
 * a fully caught-up store looked behind forever (the bench failed after 60 s, 4 runs in ~17).
 * Not `projectionLag` (the metrics' count of the events behind): polled every 20 ms, counting a
 * backlog of tens of thousands of events would load the machine the figures are taken on.
 */
export async function projectionsSettled(pool: Pool, timeoutMs = 60_000): Promise<{ waitedMs: number; polls: number }> {
  const began = performance.now();
  for (let polls = 1; ; polls += 1) {
    const { rows } = await pool.query<{ behind: string[] }>(
      `SELECT coalesce(array_agg(c.name ORDER BY c.name), '{}') AS behind FROM projection_checkpoints c
       WHERE (c.transaction_id, c.global_position) < (SELECT e.transaction_id, e.global_position FROM events e ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1)`,
    );
    if (rows[0]!.behind.length === 0) return { waitedMs: performance.now() - began, polls };
    if (performance.now() - began > timeoutMs) {
      const { rows: open } = await pool.query<{ what: string }>(
        `SELECT format('pid %s, %s, open %s s, backend_xid %s: %s', pid, state, round(extract(epoch FROM now() - xact_start)), backend_xid, left(query, 120)) AS what
         FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start LIMIT 3`,
      );
      throw new Error(`projections still behind after ${timeoutMs} ms: ${rows[0]!.behind.join(', ')}; oldest open transactions: ${open.map((o) => o.what).join('; ') || 'none'}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** trigger → s1 → … → sN: `transform`s (pure), or `bench_step`s (`benchStep`). */
export function chain(n: number, type: 'transform' | 'bench_step' = 'transform'): SerializedWorkflow {
  const blocks: WorkflowBlock[] = [{ id: 'trigger', type: 'trigger_manual', params: {}, enabled: true }];
  const connections: WorkflowConnection[] = [];
  for (let i = 1; i <= n; i += 1) {
    blocks.push({ id: `s${i}`, type, params: type === 'transform' ? { template: { step: i } } : { value: { step: i } }, enabled: true });
    connections.push({ source: i === 1 ? 'trigger' : `s${i - 1}`, target: `s${i}` });
  }
  return { metadata: { name: `chain ${n}`, description: '' }, variables: {}, blocks, connections };
}
