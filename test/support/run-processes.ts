import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Pool } from 'pg';
import type { TestDatabase } from './database';

const ROOT = join(__dirname, '..', '..');

/** A worker running in its own process. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Everything it printed (stdout and stderr). */
  output: string[];
  /** Resolves once it claims runs; rejects if it exits first. */
  ready: Promise<void>;
  /** Resolves when it has exited. */
  exited: Promise<number | null>;
  /** The `application_name` of its database sessions. */
  applicationName: string;
}

/** Spawns `run-worker-child.ts` (the real worker module + test connectors) on `db`. */
export function spawnWorker(db: TestDatabase, env: Record<string, string> = {}): WorkerProcess {
  const applicationName = `thodare-test-worker-${randomBytes(4).toString('hex')}`;
  const child = spawn(process.execPath, ['-r', join(ROOT, 'test/support/swc-register.js'), join(ROOT, 'test/support/run-worker-child.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: db.url,
      THODARE_SCHEMA: db.schema,
      THODARE_LOG_LEVEL: 'warn',
      THODARE_POLL_INTERVAL_MS: '200',
      PGAPPNAME: applicationName,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output.push(String(chunk));
      if (String(chunk).includes('ready')) resolve();
    });
    child.stderr!.on('data', (chunk: Buffer) => output.push(String(chunk)));
    void exited.then((code) => reject(new Error(`worker exited with ${code} before it was ready:\n${output.join('')}`)));
  });
  return { child, output, ready, exited, applicationName };
}

/**
 * SIGSTOPs the worker at a moment none of its sessions has a transaction open. Stopped inside one,
 * it would keep its row locks, and the server's horizon of open transactions, until it is
 * resumed: every async projection of every test file sharing the server would wait meanwhile.
 */
export async function pauseWorker(worker: WorkerProcess, pool: Pool): Promise<void> {
  for (let tries = 0; ; tries += 1) {
    worker.child.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, 20)); // what it sent before the stop is under way
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND xact_start IS NOT NULL', [worker.applicationName]);
    if (rows[0]!.n === 0 || tries >= 100) return;
    worker.child.kill('SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Kills a worker process for good (SIGKILL) and waits for it to be gone. */
export async function killWorker(worker: WorkerProcess): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  await worker.exited;
}
