import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { migrate } from '../../src/database/migrate';
import { createPool } from '../../src/database/pool';
import type { TestDatabase } from './database';
import { createRunTestTables } from './run-connectors';

const ROOT = join(__dirname, '..', '..');

/**
 * A Postgres cluster of one test file's own, for tests that stop, restart or freeze the database
 * (never the shared server). It runs in a child process (`postgres-child.ts`); the port stays the
 * same across restarts, so the URL stays valid.
 */
export interface PrivatePostgres {
  db: TestDatabase;
  /** Stops the cluster cleanly (connections are refused until `start`). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOPs the postmaster and every backend: connects and queries hang, as in a partition. */
  freeze(): void;
  thaw(): void;
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(label: string): Promise<PrivatePostgres> {
  const parent = mkdtempSync(join(tmpdir(), `thodare-${label}-`));
  const dataDir = join(parent, 'pg');
  const cluster = await startClusterProcess(dataDir);
  const { url } = cluster;
  const schema = `test_${label}`;
  await migrate(url, schema);
  const pool = createPool(url, schema, 10, 2_000);
  await createRunTestTables(pool);
  const signal = (name: NodeJS.Signals) => clusterPids(dataDir).forEach((pid) => signalIfAlive(pid, name));
  return {
    db: { url, schema, pool, drop: async () => undefined },
    stop: cluster.stop,
    start: cluster.start,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    async destroy() {
      await pool.end().catch(() => undefined);
      await cluster.exit();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

/** An embedded cluster in `dataDir`, run by a child process (`postgres-child.ts`) on a port that stays the same across restarts. */
export interface ClusterProcess {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stops the cluster and ends the child process. */
  exit(): Promise<void>;
}

export async function startClusterProcess(dataDir: string): Promise<ClusterProcess> {
  const child = spawn(process.execPath, ['-r', join(ROOT, 'test/support/swc-register.js'), join(ROOT, 'test/support/postgres-child.ts'), dataDir], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const replies = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const line = await replies.next();
    if (line.done) throw new Error('the Postgres child process exited');
    return line.value as string;
  };
  const command = async (line: string) => {
    child.stdin!.write(`${line}\n`);
    await next();
  };
  const { url, port } = JSON.parse(await next()) as { url: string; port: number };
  return {
    url,
    port,
    stop: () => command('stop'),
    start: () => command('start'),
    async exit() {
      await command('exit').catch(() => undefined);
      await exited(child);
    },
  };
}

function clusterPids(dataDir: string): number[] {
  let postmaster: string;
  try {
    postmaster = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]!.trim();
  } catch {
    return []; // stopped
  }
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', postmaster]).toString().split('\n').map((s) => s.trim()).filter(Boolean);
  return [postmaster, ...children].map(Number);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A backend listed a moment ago may have ended since (its client went away): nothing to signal. */
function signalIfAlive(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
