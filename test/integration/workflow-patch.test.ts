import { buildBuiltinCatalog } from '../../src/connectors/builtin-catalog';
import { parseConfig } from '../../src/config/config';
import { eventsChannel } from '../../src/database/database.module';
import { EventStore } from '../../src/event-store/event-store';
import { ALL_PROJECTIONS } from '../../src/app/projections';
import { rebuildProjection } from '../../src/projections/rebuild';
import { workflowsProjection } from '../../src/projections/workflows.projection';
import { eventTriggersProjection } from '../../src/runs/event-triggers.projection';
import { schedulesProjection } from '../../src/schedules/schedules.projection';
import { webhooksProjection } from '../../src/webhooks/webhooks.projection';
import { CreateWorkflowHandler, CreateWorkflowCommand } from '../../src/workflows/create-workflow.command';
import { CurrentWorkflows, KEPT_WORKFLOWS } from '../../src/workflows/current-workflows';
import { DeleteWorkflowCommand, DeleteWorkflowHandler } from '../../src/workflows/delete-workflow.command';
import { PatchWorkflowCommand, PatchWorkflowHandler, type PatchOptions } from '../../src/workflows/patch-workflow.command';
import { getCurrentWorkflow } from '../../src/workflows/workflow-read-model';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { systemMetadata } from '../support/metadata';
import { recordStatements, statementsDuring } from '../support/statements';

const org = 'org-integration';
const apiKey = { kind: 'api_key' } as const;
let db: TestDatabase;
let store: EventStore;
let create: CreateWorkflowHandler;
let patchHandler: PatchWorkflowHandler;
/** This process's kept versions, shared by its patches and deletes as `RunsModule` shares them. */
const kept = new CurrentWorkflows(KEPT_WORKFLOWS);

beforeAll(async () => {
  db = await createTestDatabase('workflow_patch', 30);
  store = new EventStore(db.pool, eventsChannel(db.schema), ALL_PROJECTIONS);
  create = new CreateWorkflowHandler(store);
  patchHandler = new PatchWorkflowHandler(db.pool, store, buildBuiltinCatalog(), parseConfig({}), kept);
});
afterAll(() => db.drop());

const newWorkflow = async () => (await create.execute(new CreateWorkflowCommand(org, 'wf', undefined, systemMetadata))).id;
const patch = (id: string, ops: unknown[], options: PatchOptions = {}, organizationId = org) =>
  patchHandler.execute(new PatchWorkflowCommand(organizationId, id, ops, apiKey, options, systemMetadata));
const add = (id: string, type = 'transform') => ({ operation_type: 'add', block_id: id, type, params: { template: id } });
const streamTypes = async (id: string) => (await store.readStream(`workflow-${id}`)).map((e) => e.type);

describe('patch handler against Postgres', () => {
  it('appends EditOpApplied/EditOpSkipped per op and one WorkflowPatched per changing batch', async () => {
    const id = await newWorkflow();
    const result = await patch(id, [add('a'), add('b'), { operation_type: 'add', block_id: 'c', type: 'no_such_type' }, 42]);
    expect(result.version).toBe(2);
    expect(await streamTypes(id)).toEqual(['WorkflowCreated', 'EditOpApplied', 'EditOpApplied', 'EditOpSkipped', 'EditOpSkipped', 'WorkflowPatched']);
    const current = await getCurrentWorkflow(db.pool, org, id);
    expect(current).toMatchObject({ id, version: 2, streamVersion: 6 });
    expect(current?.workflow.blocks.map((b) => b.id)).toEqual(['a', 'b']);
  });

  it('records the skips of an all-skipped batch without a new version, and the next patch still appends', async () => {
    const id = await newWorkflow();
    const skipped = await patch(id, [{ operation_type: 'remove', block_id: 'ghost' }]);
    expect(skipped.version).toBe(1);
    expect(await streamTypes(id)).toEqual(['WorkflowCreated', 'EditOpSkipped']);
    expect(await getCurrentWorkflow(db.pool, org, id)).toMatchObject({ version: 1, streamVersion: 2 });
    expect((await patch(id, [add('a')])).version).toBe(2);
  });

  it('applies 8 concurrent batches without If-Match: every op lands, one version per batch', async () => {
    const id = await newWorkflow();
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => patch(id, [add(`n${i}`)])));
    expect(results.map((r) => r.version).sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    const current = await getCurrentWorkflow(db.pool, org, id);
    expect(current?.workflow.blocks.map((b) => b.id).sort()).toEqual(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7']);
    expect((await streamTypes(id)).filter((t) => t === 'WorkflowPatched')).toHaveLength(8);
  });

  it('commits 8 concurrent batches on 8 workflows together: fewer commits than batches, every op lands', async () => {
    const ids = await Promise.all(Array.from({ length: 8 }, () => newWorkflow()));
    // The read model's table is held until every batch has been decided and handed to the store,
    // so how they commit does not depend on how close together their loads answered.
    const holder = await db.pool.connect();
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE workflows IN EXCLUSIVE MODE');
    const appends = jest.spyOn(store, 'append');
    const stop = recordStatements();
    let texts: string[] = [];
    const patched = Promise.all(ids.map((id) => patch(id, [add('a')])));
    while (appends.mock.calls.length < ids.length) await new Promise((resolve) => setTimeout(resolve, 5));
    await holder.query('ROLLBACK');
    holder.release();
    appends.mockRestore();
    const results = await patched.finally(() => (texts = stop()));
    expect(results.map((r) => r.version)).toEqual(Array(8).fill(2));
    expect(texts.filter((text) => text === 'COMMIT').length).toBeLessThan(8);
    for (const id of ids) expect((await getCurrentWorkflow(db.pool, org, id))?.workflow.blocks.map((b) => b.id)).toEqual(['a']);
  });

  it('lets exactly one of 8 concurrent If-Match patches on the same version win; the others get 412 with current', async () => {
    const id = await newWorkflow();
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => patch(id, [add(`n${i}`)], { ifMatch: 1 })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(rejected).toHaveLength(7);
    for (const r of rejected) expect(r.reason).toMatchObject({ code: 'version_mismatch', details: { current: 2 } });
    expect((await getCurrentWorkflow(db.pool, org, id))?.workflow.blocks).toHaveLength(1);
  });

  it('an If-Match patch is not refused because of concurrent all-skipped batches (the version did not move)', async () => {
    const id = await newWorkflow();
    const noise = Array.from({ length: 5 }, () => patch(id, [{ operation_type: 'remove', block_id: 'ghost' }]));
    const [winner] = await Promise.all([patch(id, [add('a')], { ifMatch: 1 }), ...noise]);
    expect(winner.version).toBe(2);
  });

  it('applies a batch once when the same Idempotency-Key arrives 6 times at once', async () => {
    const id = await newWorkflow();
    const results = await Promise.all(Array.from({ length: 6 }, () => patch(id, [add('once')], { idempotencyKey: 'k-1' })));
    for (const r of results) expect(r).toEqual(results[0]);
    expect((await streamTypes(id)).filter((t) => t === 'WorkflowPatched')).toHaveLength(1);
  });

  it('scopes idempotency keys per workflow and per organization', async () => {
    const first = await newWorkflow();
    const second = await newWorkflow();
    expect((await patch(first, [add('a')], { idempotencyKey: 'shared' })).version).toBe(2);
    expect((await patch(second, [add('b')], { idempotencyKey: 'shared' })).version).toBe(2);
    await expect(patch(first, [add('a')], { idempotencyKey: 'shared' }, 'org-other')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('answers 404 after a delete, and delete of a deleted workflow is 404', async () => {
    const id = await newWorkflow();
    const del = new DeleteWorkflowHandler(db.pool, store, kept);
    await del.execute(new DeleteWorkflowCommand(org, id, systemMetadata));
    await expect(patch(id, [add('a')])).rejects.toMatchObject({ code: 'not_found' });
    await expect(del.execute(new DeleteWorkflowCommand(org, id, systemMetadata))).rejects.toMatchObject({ code: 'not_found' });
    expect(await getCurrentWorkflow(db.pool, org, id)).toBeUndefined();
  });
});

describe('workflows projection rebuild', () => {
  it('rebuilds workflows and workflow_versions equal to the live tables', async () => {
    const id = await newWorkflow();
    await patch(id, [add('x'), { operation_type: 'set_metadata', name: 'renamed', description: 'd' }]);
    await patch(id, [{ operation_type: 'remove', block_id: 'ghost' }]);
    const snapshot = async () => ({
      workflows: (await db.pool.query('SELECT * FROM workflows ORDER BY id')).rows,
      versions: (await db.pool.query('SELECT * FROM workflow_versions ORDER BY workflow_id, version')).rows,
    });
    const live = await snapshot();
    expect(live.workflows.length).toBeGreaterThan(5);
    expect(live.workflows.some((row) => row.deleted_at !== null)).toBe(true);
    const { events } = await rebuildProjection(db.pool, store, workflowsProjection);
    expect(events).toBeGreaterThan(0);
    expect(await snapshot()).toEqual(live);
  });
});

describe('trigger read models on workflow writes', () => {
  const TRIGGER_TABLES = /\b(event_triggers|schedules|webhooks)\b/;
  const triggerStatements = async (write: () => Promise<unknown>) => (await statementsDuring(write)).filter((sql) => TRIGGER_TABLES.test(sql));

  it('a workflow without a trigger before or after a write sends its trigger tables nothing', async () => {
    // Before: each created workflow cost an UPDATE of schedules and webhooks, each patch those
    // and a DELETE of event_triggers, all finding no row.
    let id = '';
    expect(await triggerStatements(async () => (id = await newWorkflow()))).toEqual([]);
    expect(await triggerStatements(() => patch(id, [add('a'), add('b')]))).toEqual([]);
    expect(await triggerStatements(() => patch(id, [add('c')], { idempotencyKey: 'k-plain' }))).toEqual([]);
  });

  it('a write that adds, keeps or removes a trigger still writes its rows', async () => {
    const id = await newWorkflow();
    expect(await triggerStatements(() => patch(id, [add('on', 'trigger_event')]))).toEqual([]); // no eventName: no trigger yet
    await patch(id, [{ operation_type: 'update', block_id: 'on', params: { eventName: 'order.paid' } }]);
    const row = async () => (await db.pool.query('SELECT event_name FROM event_triggers WHERE workflow_id = $1', [id])).rows;
    expect(await row()).toEqual([{ event_name: 'order.paid' }]);
    expect((await triggerStatements(() => patch(id, [add('x')]))).some((sql) => sql.includes('event_triggers'))).toBe(true);
    await patch(id, [{ operation_type: 'remove', block_id: 'on' }]);
    expect(await row()).toEqual([]);
  });

  it('rebuilds each trigger read model into the rows the live writes left', async () => {
    const id = await newWorkflow();
    const update = (blockId: string, params: Record<string, unknown>) => ({ operation_type: 'update', block_id: blockId, params });
    const history: unknown[][] = [
      [add('a')],
      [{ operation_type: 'add', block_id: 'cron', type: 'trigger_schedule', params: { cron: '0 0 9 * * *', timezone: 'UTC' } }],
      [add('b')],
      [update('cron', { cron: 'not a cron' })], // an invalid definition keeps the last valid one
      [{ operation_type: 'remove', block_id: 'cron' }],
      [add('c')],
      [{ operation_type: 'add', block_id: 'hook', type: 'trigger_webhook', params: { idempotencyKeyPath: 'order.id' } }],
      [add('d')],
      [{ operation_type: 'update', block_id: 'hook', enabled: false }],
      [add('e')],
      [{ operation_type: 'remove', block_id: 'hook' }, { operation_type: 'add', block_id: 'on', type: 'trigger_event', params: { eventName: 'order.paid' } }],
      [add('f')],
      [{ operation_type: 'remove', block_id: 'on' }],
      [add('g')],
    ];
    for (const ops of history) await patch(id, ops);
    const plain = await newWorkflow();
    await patch(plain, [add('a')]);
    await new DeleteWorkflowHandler(db.pool, store, kept).execute(new DeleteWorkflowCommand(org, plain, systemMetadata));

    const snapshot = async () => ({
      eventTriggers: (await db.pool.query('SELECT * FROM event_triggers ORDER BY workflow_id')).rows,
      schedules: (await db.pool.query('SELECT * FROM schedules ORDER BY schedule_id')).rows,
      webhooks: (await db.pool.query('SELECT * FROM webhooks ORDER BY webhook_id')).rows,
    });
    const live = await snapshot();
    expect(live.schedules.filter((row) => row.workflow_id === id).map((row) => row.state)).toEqual(['deleted']);
    expect(live.webhooks.filter((row) => row.workflow_id === id).map((row) => row.revoked_at !== null)).toEqual([true]);
    for (const projection of [eventTriggersProjection, schedulesProjection, webhooksProjection]) await rebuildProjection(db.pool, store, projection);
    expect(await snapshot()).toEqual(live);
  });
});

describe('the version a patch keeps', () => {
  const reads = async (write: () => Promise<unknown>) => (await statementsDuring(write)).filter((sql) => /FROM workflows\b/.test(sql)).length;
  // Another instance: a handler of its own, with nothing kept.
  const elsewhere = () => new PatchWorkflowHandler(db.pool, store, buildBuiltinCatalog(), parseConfig({}), new CurrentWorkflows(KEPT_WORKFLOWS));
  const patchElsewhere = (id: string, ops: unknown[]) => elsewhere().execute(new PatchWorkflowCommand(org, id, ops, apiKey, {}, systemMetadata));

  it("an agent's next patch of a workflow applies to what its last one committed, without reading it", async () => {
    const id = await newWorkflow();
    await patch(id, [add('a')]);
    // Before: each patch read the workflow first.
    expect(await reads(() => patch(id, [add('b')]))).toBe(0);
    expect(await reads(() => patch(id, [add('c')], { idempotencyKey: 'kept-1' }))).toBe(0);
    const current = await getCurrentWorkflow(db.pool, org, id);
    expect(current).toMatchObject({ version: 4, streamVersion: 7 });
    expect(current?.workflow.blocks.map((b) => b.id)).toEqual(['a', 'b', 'c']);
  });

  it('a workflow another instance patched meanwhile: the patch lands on the newest version, losing nothing', async () => {
    const id = await newWorkflow();
    await patch(id, [add('a')]);
    await patchElsewhere(id, [add('b')]);
    const result = await patch(id, [add('c')]);
    expect(result.version).toBe(4);
    expect(result.workflow.blocks.map((b) => b.id)).toEqual(['a', 'b', 'c']);
    expect((await getCurrentWorkflow(db.pool, org, id))?.workflow.blocks.map((b) => b.id)).toEqual(['a', 'b', 'c']);
  });

  it('If-Match is judged on the newest version, not on a kept one', async () => {
    const id = await newWorkflow();
    await patch(id, [add('a')]);
    await patchElsewhere(id, [add('b')]);
    expect((await patch(id, [add('c')], { ifMatch: 3 })).version).toBe(4); // this process kept version 2
    await patchElsewhere(id, [add('d')]);
    await expect(patch(id, [add('e')], { ifMatch: 4 })).rejects.toMatchObject({ code: 'version_mismatch', details: { current: 5 } }); // it kept 4
  });

  it('a dry run shows what the newest version would become', async () => {
    const id = await newWorkflow();
    await patch(id, [add('a')]);
    await patchElsewhere(id, [add('b')]);
    const dry = await patch(id, [add('c')], { dryRun: true });
    expect(dry.workflow.blocks.map((b) => b.id)).toEqual(['a', 'b', 'c']);
  });

  it('a workflow another instance deleted is not found', async () => {
    const id = await newWorkflow();
    await patch(id, [add('a')]);
    await new DeleteWorkflowHandler(db.pool, store, kept).execute(new DeleteWorkflowCommand(org, id, systemMetadata));
    await expect(patch(id, [add('b')])).rejects.toMatchObject({ code: 'not_found' });
  });

  it("is another organization's workflow to no one: kept per organization", async () => {
    const id = await newWorkflow();
    await patch(id, [add('a')]);
    await expect(patch(id, [add('b')], {}, 'org-other')).rejects.toMatchObject({ code: 'not_found' });
  });
});
