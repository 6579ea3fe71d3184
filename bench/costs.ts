import { Client, type Pool } from 'pg';
import { parseConfig } from '../src/config/config';
import { startApplication } from '../src/main';
import { benchDatabase, chain, machineBusyMs, projectionsSettled, round } from './support';
import { benchStep, Runner } from './runtime';

const RUNS = 1000;
const CHAIN = 100;

/**
 * Counts every statement any pg client of this process sends (the app's pools included) while
 * this benchmark runs: a tap installed by `benchCosts` and removed after it, so the other
 * benchmarks of a `npm run bench` never pay for it.
 */
let statements = 0;
function tapStatements(): () => void {
  const query = Client.prototype.query;
  Client.prototype.query = function countedQuery(this: Client, ...args: unknown[]) {
    statements += 1;
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof Client.prototype.query;
  return () => {
    Client.prototype.query = query;
  };
}

interface Reading {
  statements: number;
  commits: number;
  walBytes: number;
  rowsWritten: number;
  nodeCpuMs: number;
  machineCpuMs: number;
}

/** The database's own counters (commits, rows written, WAL position), read after their flush. */
async function databaseCounters(pool: Pool): Promise<{ commits: number; rows: number; wal: bigint }> {
  // An idle backend flushes its statistics within 10 s (PGSTAT_IDLE_INTERVAL): wait them all out.
  await new Promise((r) => setTimeout(r, 11_000));
  await pool.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await pool.query<{ commits: string; rows: string; wal: string }>(
    `SELECT xact_commit AS commits, tup_inserted + tup_updated + tup_deleted AS rows, pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::text AS wal
     FROM pg_stat_database WHERE datname = current_database()`,
  );
  return { commits: Number(rows[0]!.commits), rows: Number(rows[0]!.rows), wal: BigInt(rows[0]!.wal) };
}

/**
 * What `work` cost, its read models included (it ends once every async projection has read it):
 * statements sent, commits, rows written, WAL bytes, and CPU (this process, and the machine's).
 */
async function measure(pool: Pool, work: () => Promise<unknown>): Promise<Reading> {
  await projectionsSettled(pool);
  const before = await databaseCounters(pool);
  const sentBefore = statements;
  const cpuBefore = process.cpuUsage();
  const machineBefore = machineBusyMs();
  await work();
  const { polls } = await projectionsSettled(pool);
  const machineAfter = machineBusyMs();
  const cpu = process.cpuUsage(cpuBefore);
  // The counters' own reads (3 statements, 2 commits each side) and the settling's polls (one
  // statement and one commit each) are not the work's.
  const sent = statements - sentBefore - polls;
  const after = await databaseCounters(pool);
  return {
    statements: sent,
    commits: after.commits - before.commits - 2 - polls,
    walBytes: Number(after.wal - before.wal),
    rowsWritten: after.rows - before.rows,
    nodeCpuMs: (cpu.user + cpu.system) / 1000,
    machineCpuMs: machineAfter - machineBefore,
  };
}

function per(reading: Reading, n: number): Record<keyof Reading, number> {
  return {
    statements: round(reading.statements / n, 2),
    commits: round(reading.commits / n, 2),
    walBytes: round(reading.walBytes / n, 0),
    rowsWritten: round(reading.rowsWritten / n, 2),
    nodeCpuMs: round(reading.nodeCpuMs / n, 3),
    machineCpuMs: round(reading.machineCpuMs / n, 3),
  };
}

/**
 * What a run and a step cost (issue 14, `docs/scaling.md`), read models included: statements sent,
 * commits, rows written, WAL bytes, this process's CPU and the machine's CPU — per W3 run (a burst of 1,000
 * runs of trigger + 3 `bench_step`s, which are not pure: a commit per step, as for steps that
 * call out) and per step (a 100-step chain minus a 3-step one, ÷ 97).
 * API and one worker in this process. Run it on the embedded Postgres (no DATABASE_URL): the
 * database counters then see nobody else's work.
 */
export async function benchCosts(): Promise<Record<string, unknown>> {
  const untap = tapStatements();
  const db = await benchDatabase();
  const config = parseConfig({ DATABASE_URL: db.url, THODARE_SCHEMA: db.schema, THODARE_LOG_LEVEL: 'warn', THODARE_POOL_SIZE: '24', THODARE_WORKER_SLOTS: '128', PORT: '0', HOST: '127.0.0.1' });
  const app = await startApplication({ config, databaseUrl: db.url, roles: { api: true, worker: true }, connectors: [benchStep] });
  const pool = db.pool(1);
  try {
    const runner = new Runner(app);
    const burst = (n: number) => Promise.all(Array.from({ length: n }, async () => runner.end((await runner.start(chain(3, 'bench_step'))).runId)));
    await burst(100); // warm-up
    const w3 = await measure(pool, () => burst(RUNS));
    const short = await measure(pool, async () => {
      for (let i = 0; i < 20; i += 1) await runner.once(chain(3, 'bench_step'));
    });
    const long = await measure(pool, async () => {
      for (let i = 0; i < 20; i += 1) await runner.once(chain(CHAIN, 'bench_step'));
    });
    const stepOf = (key: keyof Reading) => (long[key] - short[key]) / (20 * (CHAIN - 3));
    return {
      benchmark: 'costs',
      database: db.embedded ? 'embedded' : 'DATABASE_URL (shared: other clients inflate commits, rows and WAL)',
      perW3Run: { ...per(w3, RUNS), runs: RUNS, shape: 'burst of 1,000 runs of trigger + 3 bench_steps (not pure: a commit per step, as for steps that call out)' },
      perStep: {
        statements: round(stepOf('statements'), 2),
        commits: round(stepOf('commits'), 2),
        walBytes: round(stepOf('walBytes'), 0),
        rowsWritten: round(stepOf('rowsWritten'), 2),
        nodeCpuMs: round(stepOf('nodeCpuMs'), 3),
        machineCpuMs: round(stepOf('machineCpuMs'), 3),
        shape: `(20 serial runs of a ${CHAIN}-step chain − 20 of a 3-step one) ÷ ${20 * (CHAIN - 3)} steps`,
      },
    };
  } finally {
    await app.close();
    await db.close();
    untap();
  }
}
