import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
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
}

/** Spawns `run-worker-child.ts` (the real worker module + test connectors) on `db`. */
export function spawnWorker(db: TestDatabase, env: Record<string, string> = {}): WorkerProcess {
  const child = spawn(process.execPath, ['-r', join(ROOT, 'test/support/swc-register.js'), join(ROOT, 'test/support/run-worker-child.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: db.url,
      THODARE_SCHEMA: db.schema,
      THODARE_LOG_LEVEL: 'warn',
      THODARE_POLL_INTERVAL_MS: '200',
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
  return { child, output, ready, exited };
}

/** Kills a worker process for good (SIGKILL) and waits for it to be gone. */
export async function killWorker(worker: WorkerProcess): Promise<void> {
  if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
  await worker.exited;
}
