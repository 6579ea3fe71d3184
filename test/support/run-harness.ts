import { CommandBus } from '@nestjs/cqrs';
import { Writable } from 'node:stream';
import { Pool } from 'pg';
import { parseConfig } from '../../src/config/config';
import { buildCatalog } from '../../src/connectors/connector-registry';
import type { Connector } from '../../src/domain/connectors/connector';
import type { ConnectorCatalog } from '../../src/domain/connectors/connector-catalog';
import { runView } from '../../src/domain/run/run.view';
import type { SerializedWorkflow } from '../../src/domain/workflow/workflow';
import { startApplication, type RunningThodare } from '../../src/main';
import { runDetails } from '../../src/runs/get-run.query';
import { RunStore } from '../../src/runs/run-store';
import { StartRunCommand } from '../../src/runs/start-run.command';
import { createTestDatabase, type TestDatabase } from './database';
import { createRunTestTables, runTestConnectors } from './run-connectors';

export const TERMINAL = ['completed', 'failed', 'cancelled'];
export const testMetadata = { actor: { type: 'system' as const, id: 'test' } };

let connectorPool: Pool | undefined;
let testConnectors: Connector[] | undefined;

/** Creates the test connectors once per test file; they write through the current test pool. */
export function ensureTestConnectors(pool: Pool): Connector[] {
  connectorPool = pool;
  const proxy = { query: (...args: unknown[]) => (connectorPool!.query as (...a: unknown[]) => unknown)(...args) } as unknown as Pool;
  testConnectors ??= runTestConnectors(proxy);
  return testConnectors;
}

/** The catalog a worker started by `startWorkerApp` serves: builtins + test connectors. */
export function testCatalog(): ConnectorCatalog {
  if (!testConnectors) throw new Error('call ensureTestConnectors (or createRunTestDatabase) first');
  return buildCatalog(parseConfig({}), testConnectors);
}

/** A fresh schema with the test connectors' tables. */
export async function createRunTestDatabase(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(label, 20);
  await createRunTestTables(db.pool);
  ensureTestConnectors(db.pool);
  return db;
}

/** A worker-only Thodare (the real `WorkerAppModule`) on `db`, logs captured; `roles` for one with the API too. */
export async function startWorkerApp(db: TestDatabase, env: Record<string, string> = {}, roles = { api: false, worker: true }): Promise<RunningThodare & { logs: string[] }> {
  const config = parseConfig({ THODARE_LOG_LEVEL: 'warn', THODARE_POLL_INTERVAL_MS: '200', THODARE_LEASE_MS: '3000', THODARE_SHUTDOWN_GRACE_MS: '1000', THODARE_WORKER_PORT: '0', ...env, THODARE_SCHEMA: db.schema, DATABASE_URL: db.url });
  const logs: string[] = [];
  const logStream = new Writable({ write(chunk, _e, done) { logs.push(String(chunk)); done(); } });
  const running = await startApplication({ config, databaseUrl: db.url, roles, connectors: testConnectors ?? ensureTestConnectors(db.pool), logStream });
  return Object.assign(running, { logs });
}

/** Starts a run of `workflow` (pinned as version 1 of workflow `workflowId`) through the command bus. */
export async function startRun(
  app: RunningThodare,
  workflow: SerializedWorkflow,
  input: unknown = {},
  options: { organizationId?: string; workflowId?: string; idempotencyKey?: string; version?: number } = {},
): Promise<string> {
  const bus = app.app.get(CommandBus);
  const started = await bus.execute(
    new StartRunCommand(options.organizationId ?? 'org-test', options.workflowId ?? 'wf-test', input, testMetadata, {
      workflow: { version: options.version ?? 1, workflow },
      ...(options.idempotencyKey ? { idempotencyKey: options.idempotencyKey } : {}),
    }),
  );
  return started.runId;
}

/** Polls `run_state` until the run reaches one of `statuses`; throws with the last status on timeout. */
export async function waitForStatus(pool: Pool, runId: string, statuses: string[] = TERMINAL, timeoutMs = 30_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let last = 'missing';
  while (Date.now() < until) {
    const { rows } = await pool.query<{ status: string }>('SELECT status FROM run_state WHERE run_id = $1', [runId]);
    last = rows[0]?.status ?? 'missing';
    if (statuses.includes(last)) return last;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`run ${runId} did not reach ${statuses.join('/')} in ${timeoutMs} ms (last status: ${last})`);
}

/** The run folded from its stream, as the API shows it (read in the organization its row names). */
export async function viewRun(app: RunningThodare, runId: string) {
  const { rows } = await app.app.get(Pool).query<{ organization_id: string }>('SELECT organization_id FROM run_state WHERE run_id = $1', [runId]);
  if (!rows[0]) throw new Error(`run ${runId} not found`);
  const state = await app.app.get(RunStore).load(runId, rows[0].organization_id);
  if (!state) throw new Error(`run ${runId} not found`);
  return { ...runView(state), version: state.version };
}

/** The run of `organizationId` as a fold of its whole stream shows it, as `GET /api/runs/:id` sends it (JSON), and its version. */
export async function foldedRunDetails(app: RunningThodare, runId: string, organizationId: string): Promise<{ view: unknown; version: number }> {
  const state = await app.app.get(RunStore).load(runId, organizationId);
  if (!state) throw new Error(`run ${runId} not found`);
  return { view: JSON.parse(JSON.stringify(runDetails(runId, state))), version: state.version };
}

/** Event types of a run's stream, in order. */
export async function eventTypes(pool: Pool, runId: string): Promise<string[]> {
  const { rows } = await pool.query<{ type: string }>('SELECT type FROM events WHERE stream_id = $1 ORDER BY stream_version', [`run-${runId}`]);
  return rows.map((r) => r.type);
}

/** Rows of `test_calls` for a run. */
export async function callsOf(pool: Pool, runId: string): Promise<Array<{ connector: string; block_id: string; attempt: number; idempotency_key: string; label: string | null }>> {
  const { rows } = await pool.query('SELECT connector, block_id, attempt, idempotency_key, label FROM test_calls WHERE run_id = $1 ORDER BY id', [runId]);
  return rows;
}

/** Opens a `test_gate` with this label. */
export async function openGate(pool: Pool, label: string): Promise<void> {
  await pool.query('INSERT INTO test_gates (label) VALUES ($1) ON CONFLICT DO NOTHING', [label]);
}

/** Waits until `test_calls` holds at least `count` rows matching `label`. */
export async function waitForCalls(pool: Pool, label: string, count = 1, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM test_calls WHERE label = $1', [label]);
    if ((rows[0]?.n ?? 0) >= count) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`fewer than ${count} calls labelled ${label} after ${timeoutMs} ms`);
}
