import { randomUUID } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { parseConfig } from '../../src/config/config';
import { catalogSpecs } from '../../src/connectors/catalog-specs';
import { buildCatalog } from '../../src/connectors/connector-registry';
import { eventsChannel } from '../../src/database/database.module';
import { EventStore } from '../../src/event-store/event-store';
import { requestCancel, startRun } from '../../src/domain/run/run.commands';
import { createRunDecider } from '../../src/domain/run/run.decider';
import { appendRunBatches, runAppendItem } from '../../src/run-queue/run-append';
import { RunAppendGroups } from '../../src/run-queue/run-append-groups';
import { RunClaims } from '../../src/run-queue/run-claims';
import { runStateProjection } from '../../src/run-queue/run-state.projection';
import { lockDueSchedules, type DueScope } from '../../src/schedules/schedule-rows';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { transformChain } from '../support/run-workflows';

// The hot path's statements find their rows by key, so they cost the same with thousands of runs
// stored as with three. The run append function (migrations/0017): its cached plan read the whole
// of run_state twice per append and hashed every live workflow for a new run. The worker's claim
// (migrations/0018): a bitmap scan visited the heap page of every finished run's dead index entry
// on every claim; and it ranked every due run, so it grew with the backlog (migrations/0020: it
// walks the organizations instead once the due runs overflow its window). One run's batch alone is
// one plain statement, not the append function (src/run-queue/run-append.ts: the function's nested
// PL/pgSQL calls cost more than the write). The append joins its own CTEs by hashing (migrations/0019): with hash joins off
// they were nested loops, every item compared with every other, quadratic in a batch's size. A
// scheduler batch locks its due schedules in due order from an index (migrations/0021): on fresh
// statistics it sorted every due schedule for each batch of 250.
// Checked without timing: the transaction's own scan counters
// (pg_stat_xact_user_tables), and the plans auto_explain reports to the session.

const decider = createRunDecider();
const specs = catalogSpecs(buildCatalog(parseConfig({}), []));
const metadata = { actor: { type: 'system' as const, id: 'test' } };
const STORED = 3000;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('append_plans');
});
afterAll(async () => db?.drop());

function newRun(workflowId: string) {
  const events = startRun({ runId: randomUUID(), organizationId: 'org-test', workflowId, workflowVersion: 1, workflow: transformChain(1), input: {}, now: new Date() }, specs, decider.limits);
  return { state: decider.fold(events), events };
}

/** A plan node as auto_explain's JSON format gives it. */
interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Index Cond'?: string;
  Filter?: string;
  'Recheck Cond'?: string;
  Plans?: PlanNode[];
}

/**
 * Runs `work` in a transaction, rolled back, on a fresh connection (the functions plan anew
 * there). With `explain` (auto_explain settings; [] for its text format), the plans auto_explain
 * reports to the session for every statement, nested ones included.
 */
async function inTransaction<T>(work: (client: Client) => Promise<T>, explain?: string[]): Promise<{ result: T; plans: string[] }> {
  const client = new Client({ connectionString: db.url });
  await client.connect();
  const plans: string[] = [];
  client.on('notice', (notice) => plans.push(notice.message ?? ''));
  try {
    await client.query(`SET search_path TO "${db.schema}"`);
    if (explain) {
      await client.query(`LOAD 'auto_explain'`);
      const settings = ['auto_explain.log_min_duration = 0', 'auto_explain.log_nested_statements = on', 'client_min_messages = log', ...explain];
      await client.query(settings.map((setting) => `SET ${setting}`).join('; '));
    }
    await client.query('BEGIN');
    try {
      return { result: await work(client), plans };
    } finally {
      await client.query('ROLLBACK');
    }
  } finally {
    await client.end();
  }
}

const JSON_PLANS = ["auto_explain.log_format = 'json'"];

/** The root of each JSON plan reported. */
function jsonPlans(plans: readonly string[]): PlanNode[] {
  return plans.filter((plan) => plan.includes('"Plan"')).map((plan) => (JSON.parse(plan.slice(plan.indexOf('{'))) as { Plan: PlanNode }).Plan);
}

function nodesOf(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(nodesOf)];
}

/** auto_explain settings for plans with the rows each node actually visited. */
const ANALYZED_PLANS = [...JSON_PLANS, 'auto_explain.log_analyze = on', 'auto_explain.log_timing = off'];

/** Every row the plans' scans of run_state visited: those they returned and those their filters dropped. */
function runStateRowsRead(plans: readonly string[]): number {
  const scans = jsonPlans(plans)
    .flatMap(nodesOf)
    .filter((node) => node['Relation Name'] === 'run_state');
  expect(scans.length).toBeGreaterThan(0);
  return scans.reduce((sum, node) => sum + ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)) * (node['Actual Loops'] ?? 1), 0);
}

it('reads run_state and workflows by key, not whole, with thousands of runs and workflows stored', async () => {
  await db.pool.query(
    `INSERT INTO workflows (id, organization_id, name, description, version, stream_version, workflow, created_at, updated_at)
     SELECT 'wf-' || g, 'org-test', 'w', '', 1, 1, '{}', now(), now() FROM generate_series(1, $1::int) g`,
    [STORED],
  );
  const groups = new RunAppendGroups(db.pool, eventsChannel(db.schema));
  const stored = Array.from({ length: STORED }, (_, i) => newRun(`wf-${i + 1}`));
  await Promise.all(stored.map(({ state, events }) => groups.append(runAppendItem(state, 0, events, { metadata, lease: { owner: 'worker-a', ms: 60_000 } }))));
  await db.pool.query('ANALYZE run_state; ANALYZE workflows');

  // One append of each kind on a fresh connection (the function plans anew there): the next batch
  // of a leased run, fenced on its lease, and a new run whose cached workflow version is checked.
  const leased = stored[0]!;
  const state = structuredClone(leased.state);
  const cancel = requestCancel(state, { reason: 'enough', now: new Date() });
  for (const event of cancel) decider.evolve(state, event);
  const fresh = newRun('wf-2');
  const { result: scans } = await inTransaction(async (client) => {
    await appendRunBatches(
      client,
      [runAppendItem(state, leased.state.version, cancel, { metadata, fence: { owner: 'worker-a', epoch: 1 } }), runAppendItem(fresh.state, 0, fresh.events, { metadata, checkWorkflow: true })],
      undefined,
    );
    const { rows } = await client.query<{ relname: string; seq_scan: string }>(
      `SELECT relname, seq_scan FROM pg_stat_xact_user_tables WHERE schemaname = $1 AND relname IN ('run_state', 'workflows', 'events') ORDER BY relname`,
      [db.schema],
    );
    return rows.map((row) => [row.relname, Number(row.seq_scan)]);
  });
  expect(scans).toEqual([
    ['events', 0],
    ['run_state', 0],
    ['workflows', 0],
  ]);
});

/**
 * A workflow's row and a run of it leased to `owner`, with the run's next batch (a cancel) folded
 * into a copy of its state.
 */
async function leasedRunAndItsCancel(workflowId: string, owner: string) {
  await db.pool.query(
    `INSERT INTO workflows (id, organization_id, name, description, version, stream_version, workflow, created_at, updated_at)
     VALUES ($1, 'org-test', 'w', '', 1, 1, '{}', now(), now()) ON CONFLICT DO NOTHING`,
    [workflowId],
  );
  const leased = newRun(workflowId);
  await appendRunBatches(db.pool, [runAppendItem(leased.state, 0, leased.events, { metadata, lease: { owner, ms: 60_000 } })], undefined);
  const state = structuredClone(leased.state);
  const cancel = requestCancel(state, { reason: 'enough', now: new Date() });
  for (const event of cancel) decider.evolve(state, event);
  return { leased, state, cancel };
}

it("appends one run's batch in one plain statement: no append function, and run_state, workflows and events read by key", async () => {
  const { leased, state, cancel } = await leasedRunAndItsCancel('wf-one', 'worker-a');
  await db.pool.query('ANALYZE run_state; ANALYZE workflows; ANALYZE events');
  const fresh = newRun('wf-one');
  const { result } = await inTransaction(async (client) => {
    await client.query("SET LOCAL track_functions = 'pl'");
    await appendRunBatches(client, [runAppendItem(state, leased.state.version, cancel, { metadata, fence: { owner: 'worker-a', epoch: 1 } })], undefined);
    await appendRunBatches(client, [runAppendItem(fresh.state, 0, fresh.events, { metadata, checkWorkflow: true })], undefined);
    const functions = await client.query<{ funcname: string }>(`SELECT funcname FROM pg_stat_xact_user_functions WHERE schemaname = $1 AND calls > 0`, [db.schema]);
    const tables = await client.query<{ relname: string; seq_scan: string }>(
      `SELECT relname, seq_scan FROM pg_stat_xact_user_tables WHERE schemaname = $1 AND relname IN ('run_state', 'workflows', 'events') ORDER BY relname`,
      [db.schema],
    );
    return { functions: functions.rows.map((row) => row.funcname), scans: tables.rows.map((row) => [row.relname, Number(row.seq_scan)]) };
  });
  expect(result.functions).toEqual([]);
  expect(result.scans).toEqual([
    ['events', 0],
    ['run_state', 0],
    ['workflows', 0],
  ]);
});

/** The tables Citus would distribute by `organization_id` that the statements below read. */
const DISTRIBUTED = new Set(['events', 'run_state', 'workflows']);

/** The scans of distributed tables in `plans`. */
const distributedScans = (plans: readonly string[]) =>
  jsonPlans(plans)
    .flatMap(nodesOf)
    .filter((node) => node['Node Type'].endsWith('Scan') && DISTRIBUTED.has(node['Relation Name'] ?? ''));

/** `organization_id` equal to one value (a worker's `= ANY` list of organizations is not one shard's). */
const ONE_ORGANIZATION = /organization_id = (?!ANY\b)/;

/** The scans with no condition on one organization in their index condition or filter. */
const unscoped = (scans: readonly PlanNode[]) =>
  scans
    .filter((node) => ![node['Index Cond'], node.Filter, node['Recheck Cond']].some((condition) => condition !== undefined && ONE_ORGANIZATION.test(condition)))
    .map((node) => `${node['Node Type']} on ${node['Relation Name']}: ${node['Index Cond'] ?? ''} ${node.Filter ?? ''}`);

const rowsRead = (node: PlanNode) => ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)) * (node['Actual Loops'] ?? 1);

it("reads every distributed table within the run's organization in a run's one-statement append, its claim by id, its reads, a release and the store's one-stream append", async () => {
  // Under Citus (docs/scaling.md) a statement is one shard's only when each distributed table it
  // reads is filtered by the distribution column, and `SELECT … FOR UPDATE` (the lease fence)
  // runs only there. Before: the fence, the stream's version checks, the run row's update and
  // release, the claim of a run by id and the stream it returns, and the run row's projection
  // when no writer hands its state over, found their rows by id alone. The
  // writes still read one row each, in the generic plans a connection keeps for its named
  // statements (on Postgres 15, `max()` with the organization's condition read the whole stream).
  const { leased, state, cancel } = await leasedRunAndItsCancel('wf-routed', 'worker-r');
  // Statistics of a store of many short streams and a long one, as the planner sees a real store
  // (on a few rows it reads all of run_state).
  await db.pool.query(
    `INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata)
     SELECT 'note-' || g, 1, 'org-test', 'Noted', '{}'::jsonb, '{}'::jsonb FROM generate_series(1, $1::int) g
     UNION ALL SELECT 'notes', g, 'org-test', 'Noted', '{}'::jsonb, '{}'::jsonb FROM generate_series(1, $1::int) g`,
    [STORED],
  );
  await db.pool.query(
    `INSERT INTO run_state (run_id, organization_id, workflow_id, workflow_version, seq, status, stream_version, created_at, updated_at)
     SELECT 'filler-' || g, 'org-test', 'wf-routed', 1, g, 'completed', 1, now(), now() FROM generate_series(1, $1::int) g`,
    [STORED],
  );
  await db.pool.query('ANALYZE events; ANALYZE run_state; ANALYZE workflows');
  const fresh = newRun('wf-routed');
  const store = new EventStore(db.pool, 'unused');
  const runId = leased.state.run!.runId;
  const lease = { runId, organizationId: 'org-test', streamVersion: leased.state.version, epoch: 1 };
  const settings = [...ANALYZED_PLANS, 'plan_cache_mode = force_generic_plan'];

  const { plans: writes } = await inTransaction(async (client) => {
    await appendRunBatches(client, [runAppendItem(state, leased.state.version, cancel, { metadata, fence: { owner: 'worker-r', epoch: 1 } })], undefined);
    await appendRunBatches(client, [runAppendItem(fresh.state, 0, fresh.events, { metadata, checkWorkflow: true })], undefined);
    expect(await new RunClaims(client as unknown as Pool, 'worker-r', 60_000).release(lease, state.version, null)).toBe(true);
    await store.append('workflow-wf-routed', 0, Array.from({ length: 5 }, () => ({ type: 'Noted', data: {} })), { organizationId: 'org-test', metadata, client: client as never });
    await store.append('workflow-wf-routed', 5, [{ type: 'Noted', data: {} }], { organizationId: 'org-test', metadata, client: client as never });
  }, settings);
  // The run given back due now, then claimed by id as its timer does (its short stream comes with
  // the claim), and read as a held run reads it: whole, then from a version.
  const { plans: reads } = await inTransaction(async (client) => {
    const claims = new RunClaims(client as unknown as Pool, 'worker-r', 60_000);
    expect(await claims.release(lease, leased.state.version, new Date())).toBe(true);
    expect(await claims.claimOne(runId, 'org-test')).toMatchObject({ runId, epoch: 2, events: expect.any(Array) });
    await store.readStream(`run-${runId}`, { organizationId: 'org-test', db: client as never });
    await store.readStream(`run-${runId}`, { fromVersion: 2, organizationId: 'org-test', db: client as never });
    // Appended through the store with no writer's hint (a rebuild's path): \`run_state\` folds the stream.
    const projecting = new EventStore(db.pool, 'unused', [runStateProjection]);
    await projecting.append(`run-${runId}`, leased.state.version, cancel, { organizationId: 'org-test', metadata, client: client as never });
  }, settings);

  const written = distributedScans(writes);
  expect(new Set(written.map((node) => node['Relation Name']))).toEqual(DISTRIBUTED);
  expect(unscoped(written)).toEqual([]);
  expect(written.filter((node) => rowsRead(node) > 1).map((node) => `${node['Node Type']} on ${node['Relation Name']}: ${rowsRead(node)} rows`)).toEqual([]);
  const read = distributedScans(reads);
  expect(new Set(read.map((node) => node['Relation Name']))).toEqual(new Set(['events', 'run_state']));
  expect(unscoped(read)).toEqual([]);
});

it("claims through the claimable index alone: no heap visit for each finished run's dead entry", async () => {
  // Finished runs (their claimable entries dead until VACUUM) and a few queued ones.
  const groups = new RunAppendGroups(db.pool, eventsChannel(db.schema));
  const finished = Array.from({ length: 500 }, () => newRun('wf-1'));
  await Promise.all(finished.map(({ state, events }) => groups.append(runAppendItem(state, 0, events, { metadata }))));
  await db.pool.query(`UPDATE run_state SET available_at = NULL, status = 'completed' WHERE run_id = ANY($1)`, [finished.map((run) => run.state.run!.runId)]);
  const queued = Array.from({ length: 3 }, () => newRun('wf-1'));
  await Promise.all(queued.map(({ state, events }) => groups.append(runAppendItem(state, 0, events, { metadata }))));
  await db.pool.query('ANALYZE run_state');

  const { result: claimed, plans } = await inTransaction((client) => new RunClaims(client as unknown as Pool, 'worker-b', 60_000).claimBatch(10), []);
  expect(claimed.map((run) => run.runId).sort()).toEqual(queued.map((run) => run.state.run!.runId).sort());
  const claimPlans = plans.filter((plan) => plan.includes('run_state'));
  expect(claimPlans.length).toBeGreaterThan(0);
  for (const plan of claimPlans) expect(plan).not.toMatch(/(Seq Scan|Bitmap Heap Scan) on run_state/);
  // The due runs (a few: the claim ranks them all) are read through the claimable index.
  const ranking = claimPlans.filter((plan) => plan.includes('row_number()'));
  expect(ranking.length).toBeGreaterThan(0);
  for (const plan of ranking) expect(plan).toMatch(/Index Scan using run_state_claimable on run_state/);
});

it("joins a batch's items to what it appended by hashing, never each item against every other", async () => {
  const runs = Array.from({ length: 50 }, () => newRun('wf-1'));
  const { result: stored, plans } = await inTransaction(async (client) => {
    await appendRunBatches(
      client,
      runs.map(({ state, events }) => runAppendItem(state, 0, events, { metadata })),
      eventsChannel(db.schema),
    );
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM run_state WHERE run_id = ANY($1)', [runs.map((run) => run.state.run!.runId)]);
    return Number(rows[0]!.n);
  }, JSON_PLANS);
  expect(stored).toBe(50);
  const roots = jsonPlans(plans);
  // The two functions' statements (append_run_batches's and append_streams's), and the call.
  expect(roots.length).toBeGreaterThanOrEqual(3);
  const cteLoops = roots
    .flatMap(nodesOf)
    .filter((node) => node['Node Type'] === 'Nested Loop' && (node.Plans ?? []).every((child) => child['Node Type'] === 'CTE Scan'));
  expect(cteLoops).toEqual([]);
});

it('claims from a backlog without reading it: the rows a claim reads do not grow with the runs queued', async () => {
  // Everything stored so far is finished: the queue holds only the runs below.
  await db.pool.query(`UPDATE run_state SET available_at = NULL, status = 'completed', lease_owner = NULL, lease_until = NULL`);
  const groups = new RunAppendGroups(db.pool, eventsChannel(db.schema));
  const backlog = Array.from({ length: 2000 }, () => newRun('wf-1'));
  await Promise.all(backlog.map(({ state, events }) => groups.append(runAppendItem(state, 0, events, { metadata }))));
  // Another organization's run, queued last: still among the first claimed (its turn is 1).
  const other = newRun('wf-1');
  other.state.run!.organizationId = 'org-other';
  await groups.append(runAppendItem(other.state, 0, other.events, { metadata }));
  await db.pool.query('ANALYZE run_state');

  // The rows each of the claim's scans of run_state visited, as auto_explain reports them.
  const { result: claimed, plans } = await inTransaction((client) => new RunClaims(client as unknown as Pool, 'worker-c', 60_000).claimBatch(4), ANALYZED_PLANS);
  expect(claimed.map((run) => run.organizationId).sort()).toEqual(['org-other', 'org-test', 'org-test', 'org-test']);
  const rowsRead = runStateRowsRead(plans);
  // Ranking every due run read all 2,001 of them (2,013 rows in all); now a few dozen.
  expect(rowsRead).toBeLessThan(100);
});

it("claims for workers that serve some organizations without reading the others' backlog", async () => {
  // The backlog above is still queued (its claims were rolled back): 2,000 runs of org-test, one of org-other.
  // org-other's own worker, and the shared pool once org-test has workers of its own.
  for (const organizations of [{ only: ['org-other'] }, { except: ['org-test'] }]) {
    const { result: claimed, plans } = await inTransaction((client) => new RunClaims(client as unknown as Pool, 'worker-d', 60_000, organizations).claimBatch(4), ANALYZED_PLANS);
    expect(claimed.map((run) => run.organizationId)).toEqual(['org-other']);
    expect(runStateRowsRead(plans)).toBeLessThan(100);
  }
  // org-test's own worker takes its oldest runs, as many as it asks.
  const { result: claimed } = await inTransaction((client) => new RunClaims(client as unknown as Pool, 'worker-e', 60_000, { only: ['org-test'] }).claimBatch(4), []);
  expect(claimed.map((run) => run.organizationId)).toEqual(['org-test', 'org-test', 'org-test', 'org-test']);
});

it('locks a batch of due schedules by reading the due index in order, not by sorting every due schedule', async () => {
  // 1,000 due schedules of one organization (the most overdue), then 5 of another. Statistics are
  // as a burst of new schedules leaves them: none yet.
  const insert = (organizationId: string, count: number, dueFrom: string) =>
    db.pool.query(
      `INSERT INTO schedules (schedule_id, organization_id, workflow_id, source, cron, timezone, input, overlap, catchup_window_sec,
                              state, cursor_at, next_fire_at, stream_version, created_at, updated_at)
       SELECT $1 || '-' || g, $1, 'wf-1', 'api', '0 * * * *', 'UTC', '{}', 'allow', 60, 'active', now(),
              $3::timestamptz + g * interval '1 millisecond', 1, now(), now()
       FROM generate_series(1, $2::int) g`,
      [organizationId, count, dueFrom],
    );
  await insert('org-busy', 1000, '2026-01-01T00:00:00Z');
  await insert('org-small', 5, '2026-01-02T00:00:00Z');
  const now = new Date('2026-01-03T00:00:00Z');

  const lock = (scope: DueScope) =>
    inTransaction((client) => lockDueSchedules(client, now, 10, scope), [...JSON_PLANS, 'auto_explain.log_analyze = on', 'auto_explain.log_timing = off']);
  // The third: a scheduler pass's shared batch during org-busy's backlog (its own batches take it)
  // reads past org-busy's 1,000 due schedules in index order (2,010 rows as the plans count them),
  // but still sorts nothing.
  for (const [scope, expected, rowsRead] of [
    [{}, 'org-busy', 50],
    [{ organizationId: 'org-small' }, 'org-small', 50],
    [{ except: ['org-busy'] }, 'org-small', 2_100],
  ] as const) {
    const { result: locked, plans } = await lock(scope);
    expect(locked.map((row) => row.organization_id)).toEqual(Array(expected === 'org-small' ? 5 : 10).fill(expected));
    const nodes = jsonPlans(plans).flatMap(nodesOf);
    const scans = nodes.filter((node) => node['Relation Name'] === 'schedules');
    expect(scans.length).toBeGreaterThan(0);
    // A bitmap scan and a sort read all 1,005 due schedules for either; now the first few.
    expect(nodes.filter((node) => node['Node Type'] === 'Sort')).toEqual([]);
    expect(scans.reduce((sum, node) => sum + (node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0), 0)).toBeLessThan(rowsRead);
  }
});

it("plans the claim at the runs it can return, and never JIT-compiles the application's statements", async () => {
  // A set-returning function is estimated at 1,000 rows unless it says otherwise: the claim
  // statement's per-row stream subquery then costed a claim of one run at ~600,000 on a store
  // without statistics, and Postgres JIT-compiled it on every claim (~77 ms against ~1 ms).
  const { rows } = await db.pool.query<{ 'QUERY PLAN': { Plan: { 'Plan Rows': number } }[] }>(`EXPLAIN (FORMAT JSON) SELECT * FROM claim_runs('worker-e', 1, 60000)`);
  expect(rows[0]!['QUERY PLAN'][0]!.Plan['Plan Rows']).toBeLessThanOrEqual(32);
  // And should any statement be misestimated again, the application's connections do not compile it.
  const jit = await db.pool.query<{ jit: string }>('SHOW jit');
  expect(jit.rows[0]!.jit).toBe('off');
});
