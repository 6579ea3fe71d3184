import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { parseConfig } from '../src/config/config';
import { eventsChannel } from '../src/database/database.module';
import { measureApplyThroughput } from '../src/domain/workflow/apply-throughput';
import { buildPatchBenchmarkCase } from '../src/domain/workflow/fixtures';
import { EventStore } from '../src/event-store/event-store';
import { startApplication } from '../src/main';
import { ALL_PROJECTIONS } from '../src/app/projections';
import { benchDatabase, percentile, round } from './support';

const SAMPLES = 200;
const WARM_UP = 20;

/**
 * The EditOp patch loop: in-process `apply` throughput (50-op batch on a 200-block workflow,
 * validation included; target ≥ 20,000 ops/s), then HTTP latency of the same batch against the
 * real app (auth, rate limit, zod, load, apply, one append with the inline projection). Every
 * HTTP sample patches a fresh copy of the 200-block workflow, seeded by appending its
 * WorkflowCreated directly, so each one does the same work as the first.
 */
export async function benchPatch(): Promise<Record<string, unknown>> {
  const throughput = measureApplyThroughput(() => performance.now(), { rounds: 2000 });
  const db = await benchDatabase();
  const config = parseConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    THODARE_SCHEMA: db.schema,
    THODARE_LOG_LEVEL: 'info',
    THODARE_RATE_LIMIT_PER_MIN: '1000000',
  });
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const running = await startApplication({ config, databaseUrl: db.url, roles: { api: true, worker: false }, logStream: discard });
  try {
    const url = running.url as string;
    const { headers, organizationId } = await signUp(url);
    const { workflow, ops } = buildPatchBenchmarkCase(200, 50);
    const store = new EventStore(db.pool(4), eventsChannel(db.schema), ALL_PROJECTIONS);
    const seed = async () => {
      const id = randomBytes(8).toString('hex');
      await store.append(`workflow-${id}`, 0, [{ type: 'WorkflowCreated', data: { workflowId: id, version: 1, workflow } }], {
        organizationId,
        metadata: { actor: { type: 'system', id: 'bench' } },
      });
      return id;
    };
    const body = JSON.stringify({ ops });
    const post = (id: string, query = '') => timed(() => call(url, 'POST', `/api/workflows/${id}/operations${query}`, headers, body));
    const patchMs: number[] = [];
    for (let i = 0; i < WARM_UP + SAMPLES; i++) {
      const ms = await post(await seed());
      if (i >= WARM_UP) patchMs.push(ms);
    }
    const dryRunId = await seed();
    const dryRunMs: number[] = [];
    for (let i = 0; i < WARM_UP + SAMPLES; i++) {
      const ms = await post(dryRunId, '?dry_run=true');
      if (i >= WARM_UP) dryRunMs.push(ms);
    }
    return {
      benchmark: 'patch',
      database: db.embedded ? 'embedded' : 'DATABASE_URL',
      apply: {
        blocks: throughput.blocks,
        batchSize: throughput.batchSize,
        opsPerSec: throughput.opsPerSecond,
        msPerBatch: round(throughput.msPerBatch, 3),
      },
      http: { samples: SAMPLES, batchSize: ops.length, blocks: 200, patchMs: summary(patchMs), dryRunMs: summary(dryRunMs) },
      targets: { applyOpsPerSec: '>= 20000' },
    };
  } finally {
    await running.close();
    await db.close();
  }
}

async function signUp(url: string): Promise<{ headers: Record<string, string>; organizationId: string }> {
  const email = `bench-${randomBytes(4).toString('hex')}@example.test`;
  const res = await call(url, 'POST', '/api/auth/sign-up', {}, JSON.stringify({ email, password: `pw-${randomBytes(12).toString('hex')}` }));
  const body = res as { token: string; organization: { id: string } };
  return { headers: { authorization: `Bearer ${body.token}` }, organizationId: body.organization.id };
}

async function call(url: string, method: string, path: string, headers: Record<string, string>, body: string): Promise<unknown> {
  const res = await fetch(`${url}${path}`, { method, headers: { 'content-type': 'application/json', ...headers }, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as unknown;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

function summary(samples: number[]): { p50: number; p99: number; mean: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, s) => sum + s, 0) / sorted.length;
  return { p50: round(percentile(sorted, 50), 2), p99: round(percentile(sorted, 99), 2), mean: round(mean, 2) };
}
