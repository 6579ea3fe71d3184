import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { parseConfig } from '../../src/config/config';
import { catalogSpecs } from '../../src/connectors/catalog-specs';
import { buildCatalog } from '../../src/connectors/connector-registry';
import { classifyDatabaseError } from '../../src/database/pg-errors';
import { eventsChannel } from '../../src/database/database.module';
import { requestCancel, startRun } from '../../src/domain/run/run.commands';
import { createRunDecider } from '../../src/domain/run/run.decider';
import type { RunEvent } from '../../src/domain/run/run.events';
import type { RunState } from '../../src/domain/run/run.state';
import { StreamVersionConflict } from '../../src/event-store/errors';
import type { Queryable } from '../../src/event-store/projection';
import { LeaseLost } from '../../src/run-queue/run-append-hint';
import { appendRunBatches, runAppendItem, WorkflowMoved, type RunAppendOptions } from '../../src/run-queue/run-append';
import { RunAppendGroups } from '../../src/run-queue/run-append-groups';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { transformChain } from '../support/run-workflows';

// The group commit of run batches (src/run-queue/run-append.ts): batches submitted together share
// statements, and each still gets its own outcome — a stale, fenced-out or refused batch fails
// alone, never its neighbours. A batch written alone goes through a plain statement instead of the
// append function: the same rows and the same refusals.

const decider = createRunDecider();
const specs = catalogSpecs(buildCatalog(parseConfig({}), []));
const metadata = { actor: { type: 'system' as const, id: 'test' } };
const lease = { owner: 'worker-a', ms: 60_000 };

let db: TestDatabase;
let statements = 0;
/** The pool, counting the statements the groups send. */
let counted: Queryable;

beforeAll(async () => {
  db = await createTestDatabase('run_append_groups');
  counted = { query: ((...args: unknown[]) => ((statements += 1), (db.pool.query as (...a: unknown[]) => unknown)(...args))) as Queryable['query'] };
});
afterAll(async () => db?.drop());
beforeEach(() => (statements = 0));

interface Batch {
  state: RunState;
  expected: number;
  events: RunEvent[];
  options: RunAppendOptions;
}

/** A new run's first batch, leased to `worker-a`. */
function start(): Batch {
  const events = startRun({ runId: randomUUID(), organizationId: 'org-test', workflowId: 'wf', workflowVersion: 1, workflow: transformChain(1), input: { n: 1 }, now: new Date() }, specs, decider.limits);
  return { state: decider.fold(events), expected: 0, events, options: { metadata, lease } };
}

/** The next batch of a run whose last batch was `previous`: a cancel request, with `reason`. */
function next(previous: Batch, reason = 'enough', options: Partial<RunAppendOptions> = {}): Batch {
  const state = structuredClone(previous.state);
  const events = requestCancel(state, { reason, now: new Date() });
  for (const event of events) decider.evolve(state, event);
  return { state, expected: previous.state.version, events, options: { metadata, ...options } };
}

const submit = (groups: RunAppendGroups, batch: Batch) => groups.append(runAppendItem(batch.state, batch.expected, batch.events, batch.options));

async function versions(batches: Batch[]): Promise<Map<string, number>> {
  const ids = batches.map((b) => b.state.run!.runId);
  const { rows } = await db.pool.query<{ run_id: string; stream_version: number; events: number }>(
    `SELECT r.run_id, r.stream_version, (SELECT count(*)::int FROM events e WHERE e.stream_id = 'run-' || r.run_id) AS events
     FROM run_state r WHERE r.run_id = ANY($1)`,
    [ids],
  );
  for (const row of rows) expect(row.events).toBe(row.stream_version); // the row reflects its stream
  return new Map(rows.map((row) => [row.run_id, row.stream_version]));
}

describe('run append groups', () => {
  it('writes the batches of 50 runs submitted together in far fewer statements than batches', async () => {
    const groups = new RunAppendGroups(counted, eventsChannel(db.schema));
    const batches = Array.from({ length: 50 }, start);
    await Promise.all(batches.map((b) => submit(groups, b)));
    expect(statements).toBeLessThanOrEqual(3);
    const written = await versions(batches);
    expect(written.size).toBe(50);
    for (const b of batches) expect(written.get(b.state.run!.runId)).toBe(b.state.version);
    const { rows } = await db.pool.query<{ leased: number }>(`SELECT count(*)::int AS leased FROM run_state WHERE run_id = ANY($1) AND lease_owner = 'worker-a' AND lease_epoch = 1`, [batches.map((b) => b.state.run!.runId)]);
    expect(rows[0]!.leased).toBe(50);
  });

  it('holds batches that trickle in while a group is in flight, and writes them as the next group', async () => {
    // The first statement is held until every other batch has been submitted, one per turn of the
    // event loop (as starts arrive over HTTP, one request at a time).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let sent = 0;
    const gated: Queryable = {
      query: (async (...args: unknown[]) => {
        sent += 1;
        if (sent === 1) await held;
        return (db.pool.query as (...a: unknown[]) => unknown)(...args);
      }) as Queryable['query'],
    };
    const groups = new RunAppendGroups(gated, eventsChannel(db.schema));
    const batches = Array.from({ length: 20 }, start);
    const written: Promise<void>[] = [submit(groups, batches[0]!)];
    for (const batch of batches.slice(1)) {
      await new Promise((resolve) => setImmediate(resolve));
      written.push(submit(groups, batch));
    }
    const sentWhileHeld = sent;
    release();
    await Promise.all(written);
    expect(sentWhileHeld).toBe(1);
    expect(sent).toBe(2);
    expect((await versions(batches)).size).toBe(20);
  });

  it('writes two batches of one run submitted together in order, each in its own group (one statement decides a group at once)', async () => {
    const groups = new RunAppendGroups(counted, eventsChannel(db.schema));
    const first = start();
    const second = next(first);
    const others = Array.from({ length: 5 }, start);
    const outcomes = await Promise.allSettled([submit(groups, first), submit(groups, second), ...others.map((b) => submit(groups, b))]);
    expect(outcomes.map((o) => o.status)).toEqual(Array(7).fill('fulfilled'));
    const written = await versions([first, ...others]);
    expect(written.get(first.state.run!.runId)).toBe(second.state.version);
  });

  it("sends each batch's NOTIFY on commit, in a group as alone", async () => {
    const listener = new Client({ connectionString: db.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (message) => heard.push(JSON.parse(message.payload!).streamId as string));
    await listener.query(`LISTEN "${eventsChannel(db.schema)}"`);
    try {
      const groups = new RunAppendGroups(counted, eventsChannel(db.schema));
      const notifying = (batch: Batch): Batch => ({ ...batch, options: { ...batch.options, notify: true } });
      const together = Array.from({ length: 5 }, () => notifying(start()));
      await Promise.all(together.map((b) => submit(groups, b)));
      const alone = notifying(start());
      await submit(groups, alone);
      const expected = [...together, alone].map((b) => `run-${b.state.run!.runId}`);
      for (let i = 0; i < 100 && heard.length < expected.length; i += 1) await new Promise((r) => setTimeout(r, 20));
      expect([...heard].sort()).toEqual([...expected].sort());
    } finally {
      await listener.end();
    }
  });

  it('fails a batch at the wrong version and a fenced-out batch alone; their neighbours commit', async () => {
    const groups = new RunAppendGroups(counted, eventsChannel(db.schema));
    const starts = Array.from({ length: 10 }, start);
    await Promise.all(starts.map((b) => submit(groups, b)));
    statements = 0;
    const nexts = starts.map((b) => next(b, 'enough', { fence: { owner: 'worker-a', epoch: 1 } }));
    nexts[3] = { ...nexts[3]!, expected: nexts[3]!.expected + 1 }; // the stream is not at the version this writer expects
    nexts[6] = { ...nexts[6]!, options: { metadata, fence: { owner: 'worker-a', epoch: 2 } } }; // another claim since
    const outcomes = await Promise.allSettled(nexts.map((b) => submit(groups, b)));
    expect(statements).toBeLessThanOrEqual(3);
    outcomes.forEach((outcome, i) => {
      if (i === 3) expect(outcome).toMatchObject({ status: 'rejected', reason: expect.any(StreamVersionConflict) });
      else if (i === 6) expect(outcome).toMatchObject({ status: 'rejected', reason: expect.any(LeaseLost) });
      else expect(outcome.status).toBe('fulfilled');
    });
    const written = await versions(starts);
    starts.forEach((b, i) => expect(written.get(b.state.run!.runId)).toBe(i === 3 || i === 6 ? b.state.version : b.state.version + 1));
  });

  it('writes a group the database refuses one batch at a time: only the refused batch fails', async () => {
    const groups = new RunAppendGroups(counted, eventsChannel(db.schema));
    const starts = Array.from({ length: 8 }, start);
    await Promise.all(starts.map((b) => submit(groups, b)));
    const nexts = starts.map((b, i) => next(b, i === 5 ? 'a NUL \u0000 jsonb refuses' : 'enough'));
    const outcomes = await Promise.allSettled(nexts.map((b) => submit(groups, b)));
    outcomes.forEach((outcome, i) => {
      if (i !== 5) return expect(outcome.status).toBe('fulfilled');
      expect(outcome.status).toBe('rejected');
      expect(classifyDatabaseError((outcome as PromiseRejectedResult).reason)).toBe('content');
    });
    const written = await versions(starts);
    starts.forEach((b, i) => expect(written.get(b.state.run!.runId)).toBe(i === 5 ? b.state.version : b.state.version + 1));
  });

  it('two writers racing over the same runs in opposite orders: exactly one batch per run wins, the other gets a version conflict', async () => {
    const setup = new RunAppendGroups(db.pool, eventsChannel(db.schema));
    const starts = Array.from({ length: 40 }, start);
    await Promise.all(starts.map((b) => submit(setup, b)));
    const [left, right] = [new RunAppendGroups(db.pool, eventsChannel(db.schema)), new RunAppendGroups(db.pool, eventsChannel(db.schema))];
    for (let round = 0; round < 5; round += 1) {
      const current = await versions(starts);
      const at = (b: Batch) => ({ ...b, state: { ...b.state, version: current.get(b.state.run!.runId)! } });
      const racing = [
        ...starts.map((b) => submit(left, next(at(b), 'left'))),
        ...[...starts].reverse().map((b) => submit(right, next(at(b), 'right'))),
      ];
      const outcomes = await Promise.allSettled(racing);
      for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(StreamVersionConflict);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(starts.length);
      const after = await versions(starts);
      for (const b of starts) expect(after.get(b.state.run!.runId)).toBe(current.get(b.state.run!.runId)! + 1);
    }
  });
  it('writes a batch alone (one plain statement) as it writes a batch among others (the append function): the same rows, the same refusals', async () => {
    const channel = eventsChannel(db.schema);
    const write = (batches: Batch[]) => appendRunBatches(db.pool, batches.map((b) => runAppendItem(b.state, b.expected, b.events, b.options)), channel);
    const row = async (b: Batch) =>
      (
        await db.pool.query(
          `SELECT status, stream_version, error, waiting_for, ended_at IS NOT NULL AS ended, available_at IS NOT NULL AS due, lease_owner, lease_epoch,
             lease_until IS NOT NULL AS leased, workflow_id, workflow_version, created_at = started_at AS created_at_started,
             seq = (SELECT min(global_position) FROM events WHERE stream_id = 'run-' || run_id) AS seq_first,
             updated_at = (SELECT max(recorded_at) FROM events WHERE stream_id = 'run-' || run_id) AS updated_last,
             (SELECT array_agg(type ORDER BY stream_version) FROM events WHERE stream_id = 'run-' || run_id) AS types
           FROM run_state WHERE run_id = $1`,
          [b.state.run!.runId],
        )
      ).rows[0] as Record<string, unknown>;
    const [alone, grouped, neighbour] = [start(), start(), start()];
    await write([alone]);
    await write([grouped, neighbour]);
    expect(await row(alone)).toEqual(await row(grouped));
    expect(await row(alone)).toMatchObject({ lease_owner: 'worker-a', lease_epoch: 1, leased: true, due: true, stream_version: alone.state.version });

    // The next batch, fenced on the lease, letting it go.
    const fenced = (b: Batch, epoch = 1) => next(b, 'enough', { fence: { owner: 'worker-a', epoch }, release: true });
    await write([fenced(alone)]);
    await write([fenced(grouped), fenced(neighbour)]);
    expect(await row(alone)).toEqual(await row(grouped));
    expect(await row(alone)).toMatchObject({ stream_version: alone.state.version + 1, lease_owner: null, leased: false });

    // Refused alone, nothing written: a stale version, a fence that no longer holds, a workflow that moved.
    const [stale, fencedOut] = [start(), start()];
    await write([stale, fencedOut]);
    await expect(write([{ ...next(stale), expected: stale.state.version + 1 }])).rejects.toBeInstanceOf(StreamVersionConflict);
    await expect(write([fenced(fencedOut, 2)])).rejects.toBeInstanceOf(LeaseLost);
    await db.pool.query(
      `INSERT INTO workflows (id, organization_id, name, description, version, stream_version, workflow, created_at, updated_at)
       VALUES ('wf-moved', 'org-test', 'w', '', 2, 2, '{}', now(), now())`,
    );
    const moved = start();
    const movedStart = { ...moved, state: { ...moved.state, run: { ...moved.state.run!, workflowId: 'wf-moved' } } };
    const item = runAppendItem(movedStart.state, 0, movedStart.events, { metadata, checkWorkflow: true });
    await expect(appendRunBatches(db.pool, [{ ...item, workflow_id: 'wf-moved', workflow_version: 1 }], channel)).rejects.toBeInstanceOf(WorkflowMoved);
    expect((await versions([stale, fencedOut, moved])).size).toBe(2);
    expect((await row(stale)).stream_version).toBe(stale.state.version);
    expect((await row(fencedOut)).stream_version).toBe(fencedOut.state.version);
  });
});
