import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { buildBuiltinCatalog } from '../src/connectors/builtin-catalog';
import { catalogSpecs } from '../src/connectors/catalog-specs';
import { eventsChannel } from '../src/database/database.module';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../src/database/embedded-postgres';
import { migrate } from '../src/database/migrate';
import { createPool } from '../src/database/pool';
import { startRun } from '../src/domain/run/run.commands';
import { createRunDecider } from '../src/domain/run/run.decider';
import { runStreamId } from '../src/domain/run/run.events';
import type { SerializedWorkflow } from '../src/domain/workflow/workflow';
import { EventStore } from '../src/event-store/event-store';
import { ALL_PROJECTIONS } from '../src/app/projections';
import type { RunAppendHint } from '../src/run-queue/run-append-hint';
import { round } from './support';

// `npm run bench -- faults`: the run engine under the faults of issue 8, with real `thodare
// worker` processes on an embedded cluster of its own (it is stopped and restarted):
// - seconds from a worker's SIGKILL until another worker re-runs its steps (default lease 30 s);
// - side effects repeated by a SIGTERM with 64 HTTP calls in flight;
// - log lines and worker CPU seconds during a 10 s database stop with 64 runs held.

const BIN = join(__dirname, '..', '..', 'bin', 'thodare.js');
const RUNS = 64;

interface Cluster {
  url: string;
  schema: string;
  pool: Pool;
  db: EmbeddedDatabase | undefined;
  dataDir: string;
}

export async function benchFaults(): Promise<Record<string, unknown>> {
  const parent = mkdtempSync(join(tmpdir(), 'thodare-faults-'));
  const dataDir = join(parent, 'pg');
  const db = await startEmbeddedPostgres({ dataDir, port: 0, persistent: true });
  const cluster: Cluster = { url: db.url, schema: 'bench_faults', pool: createPool(db.url, 'bench_faults', 8, 2_000), db, dataDir };
  try {
    await migrate(cluster.url, cluster.schema);
    return {
      benchmark: 'faults',
      takeoverAfterSigkillSeconds: await takeover(cluster),
      sigterm: await sigterm(cluster),
      outage: await outage(cluster),
    };
  } finally {
    await cluster.pool.end().catch(() => undefined);
    await cluster.db?.stop();
    rmSync(parent, { recursive: true, force: true });
  }
}

async function takeover(cluster: Cluster): Promise<number> {
  const remote = await server((path, hits) => (hits === 1 ? undefined : 0)); // first calls hang forever
  const doomed = worker(cluster);
  let rescuer: ReturnType<typeof worker> | undefined;
  try {
    await doomed.ready;
    await startRuns(cluster, 16, remote.url, 'org-takeover');
    await remote.until((hits) => hits.size === 16);
    rescuer = worker(cluster); // up before the kill, with every run held by the doomed worker
    await rescuer.ready;
    const killedAt = performance.now();
    doomed.child.kill('SIGKILL');
    await remote.until((hits) => [...hits.values()].every((n) => n >= 2));
    return round((performance.now() - killedAt) / 1000, 2);
  } finally {
    stop(doomed, ...(rescuer ? [rescuer] : []));
    remote.close();
  }
}

async function sigterm(cluster: Cluster): Promise<Record<string, number>> {
  const remote = await server(() => 1_000);
  const first = worker(cluster, { THODARE_WORKER_SLOTS: String(RUNS) });
  try {
    await first.ready;
    await startRuns(cluster, RUNS, remote.url, 'org-sigterm');
    await remote.until((hits) => hits.size === RUNS);
    const signalledAt = performance.now();
    first.child.kill('SIGTERM');
    await first.exited;
    const shutdownSeconds = round((performance.now() - signalledAt) / 1000, 2);
    const second = worker(cluster, { THODARE_WORKER_SLOTS: String(RUNS) });
    await second.ready;
    await allCompleted(cluster, 'org-sigterm', RUNS);
    stop(second);
    return { inFlight: RUNS, duplicates: [...remote.hits.values()].filter((n) => n > 1).length, shutdownSeconds };
  } finally {
    stop(first);
    remote.close();
  }
}

async function outage(cluster: Cluster): Promise<Record<string, number>> {
  const remote = await server(() => 1_500);
  const held = worker(cluster, { THODARE_WORKER_SLOTS: String(RUNS), THODARE_LOG_LEVEL: 'info' });
  try {
    await held.ready;
    await startRuns(cluster, RUNS, remote.url, 'org-outage');
    await remote.until((hits) => hits.size === RUNS);
    const port = cluster.db!.port;
    const linesBefore = held.lines();
    const cpuBefore = cpuSeconds(held.child.pid!);
    await cluster.db!.stop();
    await sleep(10_000);
    const cpu = cpuSeconds(held.child.pid!) - cpuBefore;
    const lines = held.lines() - linesBefore;
    const restartedAt = performance.now();
    cluster.db = await startEmbeddedPostgres({ dataDir: cluster.dataDir, port, persistent: true });
    await allCompleted(cluster, 'org-outage', RUNS);
    return { logLines: lines, workerCpuSeconds: round(cpu, 2), secondsToFinishAfterRestart: round((performance.now() - restartedAt) / 1000, 2) };
  } finally {
    stop(held);
    remote.close();
  }
}

/** A local HTTP server counting hits per path; `delayOf` answers after ms, or never (undefined). */
async function server(delayOf: (path: string, hits: number) => number | undefined) {
  const hits = new Map<string, number>();
  const watchers = new Set<() => void>();
  const s: Server = createServer((request, response) => {
    const path = request.url ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    watchers.forEach((w) => w());
    const delay = delayOf(path, hits.get(path)!);
    if (delay !== undefined) setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'), delay);
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    hits,
    until: (done: (hits: Map<string, number>) => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!done(hits)) return;
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
      }),
    close: () => {
      s.closeAllConnections();
      s.close();
    },
  };
}

function worker(cluster: Cluster, env: Record<string, string> = {}) {
  const output: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [BIN, 'worker'], {
    // Port 0: two workers run side by side here, and each serves its probes (THODARE_WORKER_PORT).
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: cluster.url, THODARE_SCHEMA: cluster.schema, THODARE_HTTP_ALLOW: '127.0.0.1', THODARE_LOG_LEVEL: 'warn', THODARE_WORKER_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk: Buffer) => output.push(String(chunk)));
  child.stderr!.on('data', (chunk: Buffer) => output.push(String(chunk)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = waitUntil(async () => output.join('').includes('worker: running'));
  return { child, exited, ready, lines: () => output.join('').split('\n').filter(Boolean).length };
}

function stop(...workers: Array<{ child: ChildProcess }>): void {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
}

async function allCompleted(cluster: Cluster, organizationId: string, count: number): Promise<void> {
  const sql = `SELECT count(*)::int AS n FROM run_state WHERE organization_id = $1 AND status = 'completed'`;
  await waitUntil(async () => (await cluster.pool.query<{ n: number }>(sql, [organizationId])).rows[0]!.n >= count);
}

/** Appends `count` runs of one `http_request` to `${url}/<runId>` then a transform, as a start command would. */
async function startRuns(cluster: Cluster, count: number, url: string, organizationId: string): Promise<void> {
  const workflow: SerializedWorkflow = {
    metadata: { name: 'faults', description: '' },
    variables: {},
    blocks: [
      { id: 'trigger', type: 'trigger_manual', params: {}, enabled: true },
      { id: 'call', type: 'http_request', params: { url: `${url}/{{trigger.n}}` }, enabled: true },
      { id: 'after', type: 'transform', params: { template: 'done' }, enabled: true },
    ],
    connections: [
      { source: 'trigger', target: 'call' },
      { source: 'call', target: 'after' },
    ],
  };
  const decider = createRunDecider();
  const specs = catalogSpecs(buildBuiltinCatalog());
  const store = new EventStore(cluster.pool, eventsChannel(cluster.schema), ALL_PROJECTIONS);
  const metadata = { actor: { type: 'system' as const, id: 'bench' } };
  await Promise.all(
    Array.from({ length: count }, async () => {
      const runId = randomUUID();
      const events = startRun({ runId, organizationId, workflowId: 'wf-bench', workflowVersion: 1, workflow, input: { n: runId }, now: new Date() }, specs, decider.limits);
      const streamId = runStreamId(runId);
      const hint: RunAppendHint = { kind: 'run', streamId, state: decider.fold(events) };
      await store.append(streamId, 0, events, { organizationId, metadata, notify: true, hint });
    }),
  );
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function waitUntil(done: () => Promise<boolean>, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await done().catch(() => false))) {
    if (Date.now() > until) throw new Error('timed out');
    await sleep(50);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
