import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, types, type PoolClient } from 'pg';
import { analyticsProjection } from '../../src/analytics/analytics.projection';
import { analyticsSchemaName } from '../../src/analytics/analytics-schema';
import { ALL_PROJECTIONS } from '../../src/app/projections';
import { eventsChannel } from '../../src/database/database.module';
import { START, type EventMetadata, type NewEvent } from '../../src/event-store/event';
import { EventStore } from '../../src/event-store/event-store';
import { handlesEvent } from '../../src/event-store/projection';
import { applyInOneBatch, createTestDatabase, rebuildWhole, type RowsWritten, type TestDatabase } from '../support/database';
import { block, workflowOf } from '../support/run-workflows';
import { queriesDuring } from '../support/statements';

// A seeded fixture with known answers for every canonical query of docs/analytics/, and the
// views' own rows. Events go through the event store, times are the events' own (`at`), so every
// number below is fixed. run_state is left out of the store: it folds each run through the
// decider, and these hand-written runs only need to be plausible analytics facts.

const SECRET = 'SECRET-hunter2';
const QUERIES = join(__dirname, '..', '..', 'docs', 'analytics');
let db: TestDatabase;
let client: Client;
let analytics: string;

const day = (d: string) => (time: string) => `2025-${d}T${time}Z`;
const [m1, m2, m3, a1] = [day('03-01'), day('03-02'), day('03-03'), day('04-01')];
const meta = (type: EventMetadata['actor']['type'], id: string, agent?: string): EventMetadata => ({ actor: { type, id }, ...(agent ? { agent } : {}) });
const e = (type: string, data: object): NewEvent => ({ type, data });
const start = (blockId: string, blockType: string, attempt: number, at: string) => e('StepAttemptStarted', { blockId, blockType, attempt, at, input: { token: '[hidden]', note: SECRET } });
const ok = (blockId: string, attempt: number, at: string, durationMs: number) => e('StepAttemptSucceeded', { blockId, attempt, output: { echo: SECRET }, at, durationMs });
const fail = (blockId: string, attempt: number, at: string, durationMs: number, code: string, terminal: boolean) =>
  e('StepAttemptFailed', { blockId, attempt, error: { code, message: `upstream said ${SECRET}`, retryable: !terminal }, terminal, at, durationMs });
const retry = (blockId: string, nextAttempt: number, availableAt: string) => e('StepRetryScheduled', { blockId, nextAttempt, availableAt });
const approval = (at: string, approved: boolean, by: string, decidedAt: string) => [
  e('ApprovalRequested', { blockId: 'approve', token: `tok-${SECRET}-${at}`, prompt: `ship ${SECRET}?`, at }),
  e('ApprovalDecided', { blockId: 'approve', token: `tok-${SECRET}-${at}`, approved, by, note: SECRET, at: decidedAt }),
  e('WaitCompleted', { blockId: 'approve', reason: 'approval', output: { approved }, at: decidedAt }),
];
const done = (at: string) => e('RunCompleted', { outputs: { shape: SECRET }, at });
const failed = (at: string, code: string, blockId: string) => e('RunFailed', { error: { code, message: SECRET, blockId }, at });

const pinned = workflowOf([block('fetch', 'http_request'), block('approve', 'human_approval'), block('shape', 'transform')], []);
const skip = (reason_code: string, version = 1) => e('EditOpSkipped', { version, index: 0, operation_type: 'add', block_id: 'x', reason_code, reason: SECRET, op: { params: { key: SECRET } } });
const applied = (version: number) => e('EditOpApplied', { version, index: 0, operation_type: 'add', block_id: 'x', op: {} });
const patched = (version: number, appliedOps: number, skipped: number) => e('WorkflowPatched', { version, previousVersion: version - 1, applied: appliedOps, skipped, workflow: pinned });

/** Org A (wf-a1): six runs over three days, two retried, one failed, two approvals, one still queued. Org B (wf-b1): two runs. */
async function seedAnalyticsFixture(database: TestDatabase): Promise<void> {
  const store = new EventStore(database.pool, eventsChannel(database.schema), ALL_PROJECTIONS.filter((p) => p.mode === 'inline' && p.name !== 'run_state'));
  const versions = new Map<string, number>();
  const append = async (stream: string, org: string, events: NewEvent[], metadata: EventMetadata) => {
    const result = await store.append(stream, versions.get(stream) ?? 0, events, { organizationId: org, metadata });
    versions.set(stream, result.nextVersion);
  };
  const claude = meta('user', 'u-1', 'claude');
  const run = (id: string, org: string, workflowId: string, version: number, startedAt: string, metadata: EventMetadata, events: NewEvent[]) =>
    append(`run-${id}`, org, [e('RunStarted', { runId: id, organizationId: org, workflowId, workflowVersion: version, workflow: pinned, input: { key: SECRET }, startedAt }), ...events], metadata);

  for (const org of ['org-a', 'org-b']) await append(`org-${org}`, org, [e('OrganizationCreated', { organizationId: org, name: org.toUpperCase(), slug: org, createdBy: 'u-1' })], claude);
  await append('workflow-wf-a1', 'org-a', [e('WorkflowCreated', { workflowId: 'wf-a1', version: 1, workflow: pinned })], claude);
  await append('workflow-wf-a1', 'org-a', [skip('unknown_block_type'), skip('unknown_block_type')], claude);
  await append('workflow-wf-a1', 'org-a', [applied(2), applied(2), skip('invalid_param', 2), patched(2, 2, 1)], claude);
  await append('workflow-wf-b1', 'org-b', [e('WorkflowCreated', { workflowId: 'wf-b1', version: 1, workflow: pinned })], claude);
  await append('schedule-sched-1', 'org-a', [e('ScheduleCreated', { scheduleId: 'sched-1', workflowId: 'wf-a1', cron: '0 12 * * *', timezone: 'UTC', input: { key: SECRET }, endAt: null, overlap: 'skip', catchupWindowSec: 60 })], claude);
  await append('webhook-hook-1', 'org-a', [e('WebhookCreated', { webhookId: 'hook-1', workflowId: 'wf-a1', signing: 'none', idempotencyKeyPath: null })], claude);

  const key = meta('api_key', 'key-1', 'claude');
  await run('r1', 'org-a', 'wf-a1', 2, m1('10:00:00.000'), key, [start('fetch', 'http_request', 1, m1('10:00:01.000')), ok('fetch', 1, m1('10:00:01.200'), 200),
    start('shape', 'transform', 1, m1('10:00:01.500')), ok('shape', 1, m1('10:00:01.510'), 10), done(m1('10:00:02.000'))]);
  await run('r2', 'org-a', 'wf-a1', 2, m1('11:00:00.000'), key, [start('fetch', 'http_request', 1, m1('11:00:00.500')), fail('fetch', 1, m1('11:00:00.600'), 100, 'http_503', false),
    retry('fetch', 2, m1('11:00:02.600')), start('fetch', 'http_request', 2, m1('11:00:02.600')), ok('fetch', 2, m1('11:00:02.900'), 300), done(m1('11:00:03.000'))]);
  await run('r3', 'org-a', 'wf-a1', 2, m2('09:00:00.000'), meta('user', 'u-1'), [start('fetch', 'http_request', 1, m2('09:00:00.200')), fail('fetch', 1, m2('09:00:00.350'), 150, 'http_503', false),
    retry('fetch', 2, m2('09:00:01.350')), start('fetch', 'http_request', 2, m2('09:00:01.350')), fail('fetch', 2, m2('09:00:01.600'), 250, 'http_503', true), failed(m2('09:00:05.000'), 'http_503', 'fetch')]);
  await append('workflow-wf-a1', 'org-a', [applied(3), patched(3, 1, 0)], meta('api_key', 'key-2', 'cursor'));
  await run('r4', 'org-a', 'wf-a1', 3, m2('12:00:00.000'), meta('schedule', 'sched-1'), [...approval(m2('12:00:03.000'), true, 'alice', m2('12:30:03.000')),
    start('shape', 'transform', 1, m2('12:30:03.500')), ok('shape', 1, m2('12:30:03.520'), 20), done(m2('12:30:04.000'))]);
  await append('schedule-sched-1', 'org-a', [e('ScheduleFired', { tick: m2('12:00:00.000'), runId: 'r4', origin: 'schedule', lastScheduledAt: null }),
    e('ScheduleTickSkipped', { tick: m3('12:00:00.000'), reason: 'overlap', origin: 'schedule' })], meta('system', 'scheduler'));
  await run('r5', 'org-a', 'wf-a1', 3, m2('13:00:00.000'), meta('webhook', 'hook-1'), [...approval(m2('13:00:01.000'), false, 'bob', m2('13:10:01.000')),
    start('shape', 'transform', 1, m2('13:10:01.500')), ok('shape', 1, m2('13:10:01.530'), 30), done(m2('13:10:02.000'))]);
  await append('webhookdelivery-del-1', 'org-a', [e('WebhookReceived', { deliveryId: 'del-1', webhookId: 'hook-1', runId: 'r5', dedupeKey: SECRET, method: 'POST',
    headers: { 'x-note': SECRET }, query: {}, body: SECRET, bodyEncoding: 'utf8', receivedAt: m2('13:00:00.000') })], meta('webhook', 'hook-1'));
  await run('r6', 'org-a', 'wf-a1', 3, m3('08:00:00.000'), key, []);
  await run('r7', 'org-b', 'wf-b1', 1, m1('10:00:00.000'), claude, [start('fetch', 'http_request', 1, m1('10:00:00.100')), fail('fetch', 1, m1('10:00:05.100'), 5000, 'step_timeout', true),
    failed(m1('10:00:05.200'), 'step_timeout', 'fetch')]);
  await run('r8', 'org-b', 'wf-b1', 1, a1('00:00:00.000'), claude, [start('shape', 'transform', 1, a1('00:00:00.100')), ok('shape', 1, a1('00:00:00.140'), 40), done(a1('00:00:00.200'))]);
  await rebuildWhole(database.pool, store, analyticsProjection);
}


beforeAll(async () => {
  db = await createTestDatabase('analytics_queries');
  analytics = analyticsSchemaName(db.schema);
  await seedAnalyticsFixture(db);
  // Dates as the text Postgres prints ('2025-03-01'), not a JS Date at local midnight; bigints as numbers.
  const parsers: Record<number, (v: string) => unknown> = { 1082: (v) => v, 20: Number };
  client = new Client({ connectionString: db.url, types: { getTypeParser: (oid, format) => parsers[oid] ?? types.getTypeParser(oid, format) } });
  await client.connect();
});
afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const march = ['2025-03-01T00:00:00Z', '2025-04-01T00:00:00Z'];
/** Each canonical query: its parameters and the rows it must answer with on the fixture. */
const EXPECTED: Record<string, { params: unknown[]; rows: unknown[][] }> = {
  'runs-per-workflow-per-day.sql': { params: ['2025-03-01', '2025-03-31'], rows: [
    ['wf-a1', '2025-03-01', 2, 0, '0.0000'], ['wf-a1', '2025-03-02', 3, 1, '0.3333'], ['wf-a1', '2025-03-03', 1, 0, null], ['wf-b1', '2025-03-01', 1, 1, '1.0000']] },
  'run-duration-percentiles.sql': { params: march, rows: [['wf-a1', 5, 5000, 1563600], ['wf-b1', 1, 5200, 5200]] },
  'step-duration-percentiles.sql': { params: march, rows: [['http_request', 6, 225, 3825], ['transform', 3, 20, 29]] },
  'top-error-codes.sql': { params: [...march, 10], rows: [['http_503', 3, 2, 1], ['step_timeout', 1, 1, 1]] },
  'retries.sql': { params: march, rows: [['wf-a1', 6, 2, 2, '0.3333'], ['wf-b1', 1, 0, 0, '0.0000']] },
  'approval-latency.sql': { params: march, rows: [['wf-a1', 2, 2, 0, 1200000, 1740000, 2400000]] },
  'approvers.sql': { params: march, rows: [['alice', 1, 1, 0, 1800000], ['bob', 1, 0, 1, 600000]] },
  'start-latency.sql': { params: march, rows: [['wf-a1', 5, 1000, 2600], ['wf-b1', 1, 100, 100]] },
  'backlog.sql': { params: ['2025-03-03T08:00:30Z'], rows: [['org-a', 'wf-a1', 1, 30000]] },
  'failure-rate-by-workflow-version.sql': { params: march, rows: [['wf-a1', 2, 'claude', 3, 1, '0.3333'], ['wf-a1', 3, 'cursor', 2, 0, '0.0000'], ['wf-b1', 1, 'claude', 1, 1, '1.0000']] },
  'failure-rate-by-agent.sql': { params: march, rows: [['claude', 4, 2, '0.5000'], ['cursor', 2, 0, '0.0000']] },
  'repair-rounds-before-runnable.sql': { params: ['2000-01-01T00:00:00Z', '2100-01-01T00:00:00Z'], rows: [['wf-a1', 2, 3, 2], ['wf-b1', 0, 0, 1]] },
  'usage-per-organization-per-month.sql': { params: ['2025-03-01', '2025-04-01'], rows: [
    ['org-a', 'ORG-A', '2025-03-01', 6, 8, 1060, 2], ['org-b', 'ORG-B', '2025-03-01', 1, 1, 5000, 0], ['org-b', 'ORG-B', '2025-04-01', 1, 1, 40, 0]] },
};

describe('the canonical queries of docs/analytics/', () => {
  const files = readdirSync(QUERIES).filter((f) => f.endsWith('.sql')).sort();

  it('has a known answer for every query, and every query states its question and parameters', () => {
    expect(files).toEqual(Object.keys(EXPECTED).sort());
    for (const file of files) expect([file, /^-- Question: .+\n-- Parameters: .+/m.test(readFileSync(join(QUERIES, file), 'utf8'))]).toEqual([file, true]);
  });

  it.each(Object.keys(EXPECTED).sort())('%s answers with its known rows', async (file) => {
    const sql = readFileSync(join(QUERIES, file), 'utf8').replace(/\banalytics_v1\./g, `"${analytics}".`);
    const { rows } = await client.query({ text: sql, values: EXPECTED[file]!.params, rowMode: 'array' });
    expect(rows).toEqual(EXPECTED[file]!.rows);
  });
});

describe('the views on the fixture', () => {
  const view = async (name: string, columns: string, order: string) =>
    (await client.query({ text: `SELECT ${columns} FROM "${analytics}".${name} ORDER BY ${order}`, rowMode: 'array' })).rows;

  it('record each run: trigger, actor, agent, outcome, durations with waiting and latency, attempts and retries', async () => {
    expect(await view('runs', 'run_id, status, error_code, trigger_kind, actor_type, agent, duration_ms::int, waiting_ms::int, start_latency_ms::int, step_attempts, failed_attempts, retries', 'run_id')).toEqual([
      ['r1', 'completed', null, 'api', 'api_key', 'claude', 2000, 0, 1000, 2, 0, 0],
      ['r2', 'completed', null, 'api', 'api_key', 'claude', 3000, 0, 500, 2, 1, 1],
      ['r3', 'failed', 'http_503', 'api', 'user', null, 5000, 0, 200, 2, 2, 1],
      ['r4', 'completed', null, 'schedule', 'schedule', null, 1804000, 1800000, 3000, 1, 0, 0],
      ['r5', 'completed', null, 'webhook', 'webhook', null, 602000, 600000, 1000, 1, 0, 0],
      ['r6', 'active', null, 'api', 'api_key', 'claude', null, 0, null, 0, 0, 0],
      ['r7', 'failed', 'step_timeout', 'api', 'user', 'claude', 5200, 0, 100, 1, 1, 0],
      ['r8', 'completed', null, 'api', 'user', 'claude', 200, 0, 100, 1, 0, 0],
    ]);
  });

  it('record each attempt: connector, final or not, error code, duration and back-off', async () => {
    const rows = await view('step_attempts', 'run_id, block_id, connector_type, attempt, status, is_final, error_code, duration_ms, backoff_ms', 'run_id, block_id, attempt');
    expect(rows.filter((r) => r[0] === 'r2' || r[0] === 'r3')).toEqual([
      ['r2', 'fetch', 'http_request', 1, 'failed', false, 'http_503', 100, 2000],
      ['r2', 'fetch', 'http_request', 2, 'succeeded', true, null, 300, null],
      ['r3', 'fetch', 'http_request', 1, 'failed', false, 'http_503', 150, 1000],
      ['r3', 'fetch', 'http_request', 2, 'failed', true, 'http_503', 250, null],
    ]);
    expect(rows).toHaveLength(10);
  });

  it('record workflow edits and versions with their agent, ops and skip codes, and the trigger ledgers', async () => {
    expect(await view('workflow_edits', 'workflow_id, kind, version, agent, ops_applied, ops_skipped, skip_codes', 'edit_id')).toEqual([
      ['wf-a1', 'created', 1, 'claude', 0, 0, []],
      ['wf-a1', 'unchanged', 1, 'claude', 0, 2, ['unknown_block_type', 'unknown_block_type']],
      ['wf-a1', 'patched', 2, 'claude', 2, 1, ['invalid_param']],
      ['wf-b1', 'created', 1, 'claude', 0, 0, []],
      ['wf-a1', 'patched', 3, 'cursor', 1, 0, []],
    ]);
    expect(await view('workflow_versions', 'workflow_id, version, actor_id', 'workflow_id, version')).toEqual([['wf-a1', 1, 'u-1'], ['wf-a1', 2, 'u-1'], ['wf-a1', 3, 'key-2'], ['wf-b1', 1, 'u-1']]);
    expect(await view('schedule_ticks', 'workflow_id, outcome, skip_reason, run_id', 'tick_id')).toEqual([['wf-a1', 'fired', null, 'r4'], ['wf-a1', 'skipped', 'overlap', null]]);
    expect(await view('webhook_deliveries', 'delivery_id, workflow_id, run_id, has_dedupe_key', 'delivery_id')).toEqual([['del-1', 'wf-a1', 'r5', true]]);
  });

  it('never show a hidden value, an input, an output, an error message, a prompt or a note', async () => {
    const { rows: views } = await client.query(`SELECT table_name FROM information_schema.views WHERE table_schema = $1 ORDER BY 1`, [analytics]);
    expect(views).toHaveLength(10);
    for (const { table_name } of views) {
      const { rows } = await client.query(`SELECT t::text AS t FROM "${analytics}".${table_name} t`);
      expect([table_name, rows.length > 0, rows.some((r) => r.t.includes(SECRET))]).toEqual([table_name, true, false]);
    }
  });

  it('rebuild to the same rows in one batch or one event at a time', async () => {
    const snapshot = async () => Promise.all(analyticsProjection.tables.map(async (t) => (await db.pool.query(`SELECT * FROM ${t} ORDER BY 1, 2, 3`)).rows));
    const live = await snapshot();
    const store = new EventStore(db.pool, eventsChannel(db.schema), ALL_PROJECTIONS);
    await rebuildWhole(db.pool, store, { ...analyticsProjection, applyBatch: undefined });
    expect(await snapshot()).toEqual(live);
  });

  it('send each statement its rows as one JSON parameter, never as arrays pg escapes element by element', async () => {
    const store = new EventStore(db.pool, eventsChannel(db.schema), ALL_PROJECTIONS);
    const sent = await queriesDuring(() => rebuildWhole(db.pool, store, analyticsProjection));
    const writes = sent.filter((query) => /analytics_\w+/.test(query.text) && /^\s*(INSERT|UPDATE)/.test(query.text));
    // All five tables are written: runs, attempts, waits, the daily rollup and workflow edits.
    expect(new Set(writes.map((query) => /^\s*(?:INSERT INTO|UPDATE) (\w+)/.exec(query.text)?.[1])).size).toBe(5);
    // Before: a batch of runs went as thirteen arrays (`unnest($1::text[], ...)`).
    expect(writes.flatMap((query) => query.values).filter((value) => Array.isArray(value))).toEqual([]);
  });

  /** Every analytics event, re-applied in one batch once `emptied` are emptied (`applyInOneBatch`). */
  async function reapplied(table: string, emptied: readonly string[], check: (tx: PoolClient, written: RowsWritten) => Promise<void>) {
    const store = new EventStore(db.pool, eventsChannel(db.schema), ALL_PROJECTIONS);
    const events = (await store.readAll(START, { limit: 100_000 })).events.filter((event) => handlesEvent(analyticsProjection, event));
    await applyInOneBatch(db.pool, analyticsProjection, events, table, async (tx) => {
      for (const name of emptied) await tx.query(`DELETE FROM ${name}`);
    }, check);
  }

  it('end and recount a run in one new version of its row: a batch holding runs whole updates each once', async () => {
    // One table after another: a client runs one query at a time.
    const snapshot = async (q: Pick<PoolClient, 'query'>) => {
      const tables = [];
      for (const t of analyticsProjection.tables) tables.push((await q.query(`SELECT * FROM ${t} ORDER BY 1, 2, 3`)).rows);
      return tables;
    };
    const live = await snapshot(db.pool);
    const runs = live[0]!;
    expect(runs.filter((run) => run.ended_at !== null).length).toBeGreaterThan(2);
    const admitted = runs.filter((run) => run.admitted_at !== null).length;
    await reapplied('analytics_runs', analyticsProjection.tables, async (tx, written) => {
      // Ending a run and then recounting it updated its row twice.
      expect(written).toEqual({ inserted: runs.length, updated: runs.length + admitted });
      expect(await snapshot(tx)).toEqual(live);
    });
  });

  it('write an attempt that starts and ends in one batch once, already ended: only a back-off updates it', async () => {
    const attemptsNow = async (q: Pick<PoolClient, 'query'>) => (await q.query('SELECT * FROM analytics_step_attempts ORDER BY id')).rows;
    const live = await attemptsNow(db.pool);
    const backoffs = live.filter((row) => row.backoff_ms !== null).length;
    expect(backoffs).toBe(2);
    await reapplied('analytics_step_attempts', ['analytics_step_attempts'], async (tx, written) => {
      // An insert and then an update would show here.
      expect(written).toEqual({ inserted: live.length, updated: backoffs });
      expect(await attemptsNow(tx)).toEqual(live);
    });
  });
});
