import { createHash } from 'node:crypto';
import { CommandBus } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { canonicalJson } from '../../src/audit/proof/canonical';
import { runStreamId } from '../../src/domain/run/run.events';
import { StartRunCommand } from '../../src/runs/start-run.command';
import { RunStore } from '../../src/runs/run-store';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, patchWorkflow, waitForRun } from '../support/run-api';

// A run's pinned workflow and block pins are recorded once per distinct content, in the one event
// of the stream `definition-<sha256>`, and each `RunStarted` names that digest instead of carrying
// them (src/domain/run/run-definition.ts): a run start used to store ~1.4 KB of workflow JSON that
// every projection and the audit sealer parsed again. What must hold: every run still replays its
// own pinned workflow, the digest proves the content, nothing crosses organizations, and a
// definition written in a transaction that rolled back is never taken for recorded.

let app: TestApp;
let owner: SignedUp;
let other: SignedUp;

beforeAll(async () => {
  app = await startTestApp('run_definitions');
  owner = await signUp(app);
  other = await signUp(app);
});
afterAll(async () => app?.close());

const echo = (template: string) => [add('start', 'trigger_manual'), add('echo', 'transform', { template }), connect('start', 'echo')];
const startOn = (who: SignedUp, workflowId: string) => app.request('POST', `/api/workflows/${workflowId}/runs?waitMs=10000`, { headers: who.headers, body: {} });

interface StoredEvent {
  stream_id: string;
  organization_id: string;
  type: string;
  data: Record<string, unknown>;
}

async function storedStart(runId: string): Promise<StoredEvent> {
  const { rows } = await app.db.pool.query<StoredEvent>('SELECT stream_id, organization_id, type, data FROM events WHERE stream_id = $1 AND stream_version = 1', [runStreamId(runId)]);
  return rows[0]!;
}

async function definitionsOf(workflowId: string): Promise<StoredEvent[]> {
  const { rows } = await app.db.pool.query<StoredEvent>(
    "SELECT stream_id, organization_id, type, data FROM events WHERE stream_id LIKE 'definition-%' AND data->>'workflowId' = $1 ORDER BY global_position",
    [workflowId],
  );
  return rows;
}

it('stores one definition for many runs of a version, named by the SHA-256 of its canonical form', async () => {
  const id = await createWorkflow(app, owner.headers, echo('one'));
  const runs: string[] = [];
  const queries = jest.spyOn(app.running.app.get(Pool), 'query');
  try {
    for (let i = 0; i < 3; i += 1) {
      const started = await startOn(owner, id);
      expect(started.body).toMatchObject({ status: 'completed', outputs: { echo: { value: 'one' } } });
      runs.push(String(started.body.id));
    }
    // The first start carries its definition (in its own statement); once recorded, it is never sent again.
    const carrying = queries.mock.calls.filter(([query]) => JSON.stringify((query as { values?: unknown[] }).values ?? []).includes('RunDefinitionRecorded'));
    expect(carrying).toHaveLength(1);
    expect((carrying[0]![0] as { name?: string }).name).toBe('thodare-run-append-one');
  } finally {
    queries.mockRestore();
  }
  const [definition, ...more] = await definitionsOf(id);
  expect(more).toHaveLength(0);
  expect(definition).toMatchObject({ type: 'RunDefinitionRecorded', organization_id: owner.organizationId, data: { workflowId: id, workflowVersion: 2 } });
  const digest = definition!.stream_id.slice('definition-'.length);
  expect(createHash('sha256').update(canonicalJson(definition!.data)).digest('hex')).toBe(digest);
  for (const runId of runs) {
    const start = await storedStart(runId);
    expect(start.data.definition).toBe(digest);
    expect(start.data).not.toHaveProperty('workflow');
    expect(start.data).not.toHaveProperty('blocks');
  }
});

it('replays a run from the store with its pinned workflow, and shows it in the raw events', async () => {
  const id = await createWorkflow(app, owner.headers, echo('pinned'));
  const runId = String((await startOn(owner, id)).body.id);
  await patchWorkflow(app, owner.headers, id, [{ operation_type: 'update', block_id: 'echo', params: { template: 'later' } }]);
  const loaded = await app.running.app.get(RunStore).load(runId, owner.organizationId);
  expect(loaded?.status).toBe('completed');
  expect(loaded?.graph.blocks.get('echo')).toBeDefined();
  const events = await app.request('GET', `/api/runs/${runId}/events`, { headers: owner.headers });
  const started = events.body.data[0];
  expect(started.type).toBe('RunStarted');
  expect(started.data.workflow.blocks.find((b: { id: string }) => b.id === 'echo').params).toEqual({ template: 'pinned' });
  expect(started.data.blocks.echo).toMatchObject({ kind: 'action' });
  // The patch made a version whose runs name another definition.
  const next = String((await startOn(owner, id)).body.id);
  expect((await storedStart(next)).data.definition).not.toBe((await storedStart(runId)).data.definition);
});

it('gives two organizations with the same workflow content a definition each', async () => {
  const mine = await createWorkflow(app, owner.headers, echo('same'));
  const theirs = await createWorkflow(app, other.headers, echo('same'));
  const a = String((await startOn(owner, mine)).body.id);
  const b = String((await startOn(other, theirs)).body.id);
  const [startA, startB] = [await storedStart(a), await storedStart(b)];
  expect(startA.data.definition).not.toBe(startB.data.definition);
  const { rows } = await app.db.pool.query<{ organization_id: string }>('SELECT organization_id FROM events WHERE stream_id = $1', [`definition-${String(startB.data.definition)}`]);
  expect(rows).toEqual([{ organization_id: other.organizationId }]);
});

it('writes the definition again after the transaction that first wrote it rolled back', async () => {
  const id = await createWorkflow(app, owner.headers, echo('rolled back'));
  const pool = app.running.app.get(Pool);
  const commands = app.running.app.get(CommandBus);
  const metadata = { actor: { type: 'system' as const, id: 'test' } };
  const startIn = async (commit: boolean) => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const started = await commands.execute(new StartRunCommand(owner.organizationId, id, {}, metadata, { client }));
      await client.query(commit ? 'COMMIT' : 'ROLLBACK');
      return started.runId;
    } finally {
      client.release();
    }
  };
  // Twice rolled back on the same connection or another: neither may leave the definition "known".
  await startIn(false);
  await startIn(false);
  expect(await definitionsOf(id)).toHaveLength(0);
  const committed = await startIn(true);
  expect(await definitionsOf(id)).toHaveLength(1);
  // And a start outside any transaction finds it too.
  const runId = String((await startOn(owner, id)).body.id);
  expect((await storedStart(runId)).data.definition).toBe((await storedStart(committed)).data.definition);
  // Started in a transaction, it goes through the queue: done whenever a claim takes it, not with the start above.
  expect(await waitForRun(app, owner.headers, committed)).toMatchObject({ status: 'completed', outputs: { echo: { value: 'rolled back' } } });
});

it('records a new definition once when many first starts of it share a group commit', async () => {
  const id = await createWorkflow(app, owner.headers, echo('together'));
  const started = await Promise.all(Array.from({ length: 20 }, () => startOn(owner, id)));
  for (const run of started) expect(run.body).toMatchObject({ status: 'completed', outputs: { echo: { value: 'together' } } });
  const definitions = await definitionsOf(id);
  expect(definitions).toHaveLength(1);
  const digests = new Set(await Promise.all(started.map(async (run) => (await storedStart(String(run.body.id))).data.definition)));
  expect([...digests]).toEqual([definitions[0]!.stream_id.slice('definition-'.length)]);
});
