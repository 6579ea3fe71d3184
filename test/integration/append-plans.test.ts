import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { parseConfig } from '../../src/config/config';
import { catalogSpecs } from '../../src/connectors/catalog-specs';
import { buildCatalog } from '../../src/connectors/connector-registry';
import { eventsChannel } from '../../src/database/database.module';
import { requestCancel, startRun } from '../../src/domain/run/run.commands';
import { createRunDecider } from '../../src/domain/run/run.decider';
import { appendRunBatches, RunAppendGroups, runAppendItem } from '../../src/run-queue/run-append';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { transformChain } from '../support/run-workflows';

// The run append function finds every row it touches by key (migrations/0017), so an append costs
// the same with three thousand runs stored as with three. Before, its cached plan read the whole of
// run_state twice per append and hashed every live workflow for a new run. Checked without timing:
// the transaction's own scan counters (pg_stat_xact_user_tables) say whether a table was read whole.

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
  const client = new Client({ connectionString: db.url });
  await client.connect();
  try {
    await client.query(`SET search_path TO "${db.schema}"`);
    await client.query('BEGIN');
    await appendRunBatches(
      client,
      [runAppendItem(state, leased.state.version, cancel, { metadata, fence: { owner: 'worker-a', epoch: 1 } }), runAppendItem(fresh.state, 0, fresh.events, { metadata, checkWorkflow: true })],
      undefined,
    );
    const { rows } = await client.query<{ relname: string; seq_scan: string }>(`SELECT relname, seq_scan FROM pg_stat_xact_user_tables WHERE relname IN ('run_state', 'workflows', 'events') ORDER BY relname`);
    expect(rows.map((row) => [row.relname, Number(row.seq_scan)])).toEqual([
      ['events', 0],
      ['run_state', 0],
      ['workflows', 0],
    ]);
    await client.query('ROLLBACK');
  } finally {
    await client.end();
  }
});
