import { inTransaction } from '../../src/database/pool';
import { eventsChannel } from '../../src/database/database.module';
import { admitRun } from '../../src/domain/run/run.commands';
import { createRunDecider } from '../../src/domain/run/run.decider';
import type { RunEvent } from '../../src/domain/run/run.events';
import { cloneRunState, type RunState } from '../../src/domain/run/run.state';
import { LeaseLost } from '../../src/run-queue/run-append-hint';
import { admitToLine, leaveLine, leaveLineTogether, type PlaceRequest } from '../../src/run-queue/run-concurrency';
import { runAppendItem, writeRunBatches } from '../../src/run-queue/run-append';
import type { TestDatabase } from '../support/database';
import { appendRunStart } from '../support/run-start';
import { block, edge, workflowOf } from '../support/run-workflows';
import { createRunTestDatabase, testCatalog } from '../support/run-harness';

// The line's rules on the store itself (`admitToLine`, `leaveLineTogether`), with runs leased by
// hand: places in start order among the runs waiting and those asking, one answer per request
// of a group, and a run whose batch cannot be written left out of the line.
let db: TestDatabase;
const decider = createRunDecider();
const metadata = { actor: { type: 'system' as const, id: 'test' } };
const OWNER = 'worker-test';

beforeAll(async () => {
  db = await createRunTestDatabase('concurrency_line');
});
afterAll(async () => {
  await db?.drop();
});

const workflow = { ...workflowOf([block('one', 'test_count', {})], [edge('trigger', 'one')]), metadata: { name: 'line', description: '', concurrency: { limit: 2 } } };
const channel = () => eventsChannel(db.schema);

/** Runs started one after another (their start order is their place in the line), leased to `OWNER`. */
async function startRuns(count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await appendRunStart(db, testCatalog(), workflow));
  await db.pool.query(`UPDATE run_state SET lease_owner = $2, lease_epoch = 1, lease_until = now() + interval '1 hour' WHERE run_id = ANY ($1)`, [ids, OWNER]);
  return ids;
}

async function stateOf(runId: string): Promise<RunState> {
  const { rows } = await db.pool.query('SELECT type, data FROM events WHERE stream_id = $1 ORDER BY stream_version', [`run-${runId}`]);
  return decider.fold(rows as RunEvent[]);
}

async function request(runId: string, epoch = 1): Promise<PlaceRequest> {
  const state = await stateOf(runId);
  const lease = { owner: OWNER, epoch };
  const after = cloneRunState(state);
  const events = admitRun(after, new Date());
  for (const event of events) decider.evolve(after, event);
  const run = state.run!;
  return {
    member: { runId, organizationId: run.organizationId, workflowId: run.workflowId, ...run.concurrency! },
    lease,
    version: state.version,
    waitUntil: null,
    admitted: runAppendItem(after, state.version, events, { metadata, fence: lease }),
  };
}

const ask = async (...runIds: string[]) => {
  const requests = await Promise.all(runIds.map((runId) => request(runId)));
  return inTransaction(db.pool, (client) => admitToLine(client, requests, channel()));
};

async function line(): Promise<Record<string, boolean>> {
  const { rows } = await db.pool.query('SELECT run_id, admitted FROM run_concurrency ORDER BY seq');
  return Object.fromEntries(rows.map((row: { run_id: string; admitted: boolean }) => [row.run_id, row.admitted]));
}

async function queueRow(runId: string): Promise<{ lease_owner: string | null; available_at: Date | null }> {
  return (await db.pool.query('SELECT lease_owner, available_at FROM run_state WHERE run_id = $1', [runId])).rows[0];
}

const pidOf = async (client: { query: (text: string) => Promise<{ rows: { pid: number }[] }> }) => (await client.query('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;

/** Until the backend `pid()` names waits for a lock of that kind (`advisory`: a line's; `transactionid`: a row another transaction holds). */
async function waitForLock(pid: () => number, kind: 'advisory' | 'transactionid'): Promise<void> {
  for (;;) {
    const { rows } = await db.pool.query(`SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock' AND wait_event = $2`, [pid(), kind]);
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('a concurrency line in the store', () => {
  it('gives places in start order to the runs waiting and asking, and an end wakes the first run waiting', async () => {
    const [r1, r2, r3, r4, r5] = await startRuns(5);
    expect(await ask(r1!)).toEqual(['admitted']);
    // Asked together, later run first: the earlier one takes the last place.
    expect(await ask(r4!, r2!)).toEqual(['queued', 'admitted']);
    expect(await ask(r3!)).toEqual(['queued']);
    expect(await line()).toEqual({ [r1!]: true, [r2!]: true, [r3!]: false, [r4!]: false });
    expect(await queueRow(r3!)).toEqual({ lease_owner: null, available_at: null });

    // r1 ends: its place goes to r3, the first run waiting (due now), not to r4.
    const ending = await stateOf(r1!);
    const end: RunEvent = { type: 'RunCancelled', data: { at: new Date().toISOString() } };
    decider.evolve(ending, end);
    const exit = { member: (await request(r1!)).member, end: runAppendItem(ending, ending.version - 1, [end], { metadata, fence: { owner: OWNER, epoch: 1 } }) };
    expect(await inTransaction(db.pool, (client) => leaveLineTogether(client, [exit], channel()))).toEqual([true]);
    expect((await queueRow(r3!)).available_at).not.toBeNull();
    expect((await queueRow(r4!)).available_at).toBeNull();

    // r5 asks with r3: r3 takes the place; r5 queues behind r4, which still waits.
    await db.pool.query(`UPDATE run_state SET lease_owner = $2 WHERE run_id = ANY ($1)`, [[r3, r5], OWNER]);
    expect(await ask(r5!, r3!)).toEqual(['queued', 'admitted']);
    expect(await line()).toEqual({ [r2!]: true, [r3!]: true, [r4!]: false, [r5!]: false });
  });

  it('lets a waiting run be cancelled while an end of the line holds its lock and wakes that run (no deadlock)', async () => {
    await db.pool.query('DELETE FROM run_concurrency');
    const [r1, r2, r3] = await startRuns(3);
    expect(await ask(r1!, r2!, r3!)).toEqual(['admitted', 'admitted', 'queued']);
    const endOf = async (runId: string, fence?: { owner: string; epoch: number }) => {
      const state = await stateOf(runId);
      const end: RunEvent = { type: 'RunCancelled', data: { at: new Date().toISOString() } };
      decider.evolve(state, end);
      return runAppendItem(state, state.version - 1, [end], { metadata, ...(fence ? { fence } : {}) });
    };
    const [member1, member3] = [(await request(r1!)).member, (await request(r3!)).member];
    const [end1, end3] = [await endOf(r1!, { owner: OWNER, epoch: 1 }), await endOf(r3!)];
    let [endingPid, cancelPid] = [0, 0];

    // r1's end (grouped, as the store writes ends) takes the line's lock, then waits for r1's row,
    // held here. Meanwhile r3, still waiting, is cancelled. Once the cancel waits for the line's
    // lock, r1's row is let go: r1's end goes on, and its leaving wakes r3 (r3's row). Had the
    // cancel locked r3's row before asking for the line's lock, each would wait for the other:
    // Postgres aborts one of them (deadlock detected) and that end is lost.
    const holder = await db.pool.connect();
    let ending: Promise<unknown> | undefined;
    let cancel: Promise<unknown> | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM run_state WHERE run_id = $1 FOR UPDATE', [r1]);
      ending = inTransaction(db.pool, async (client) => {
        endingPid = await pidOf(client);
        return leaveLineTogether(client, [{ member: member1, end: end1 }], channel());
      });
      ending.catch(() => undefined); // awaited below
      await waitForLock(() => endingPid, 'transactionid');
      cancel = inTransaction(db.pool, async (client) => {
        cancelPid = await pidOf(client);
        await leaveLine(client, member3, async () => void (await writeRunBatches(client, [end3], undefined)), channel());
      });
      cancel.catch(() => undefined); // awaited below
      await waitForLock(() => cancelPid, 'advisory');
    } finally {
      await holder.query('COMMIT');
      holder.release();
    }
    expect(await ending).toEqual([true]);
    await cancel;
    expect(await line()).toEqual({ [r2!]: true });
    const { rows } = await db.pool.query(`SELECT stream_id FROM events WHERE type = 'RunCancelled' AND stream_id = ANY ($1) ORDER BY stream_id`, [[`run-${r1}`, `run-${r3}`]]);
    expect(rows).toHaveLength(2);
  });

  it('answers each request of a group: a run whose lease is gone is left out, the others go on', async () => {
    await db.pool.query('DELETE FROM run_concurrency');
    const [lost, kept] = await startRuns(2);
    const requests = [await request(lost!, 7), await request(kept!)];
    const outcomes = await inTransaction(db.pool, (client) => admitToLine(client, requests, channel()));
    expect(outcomes[0]).toBeInstanceOf(LeaseLost);
    expect(outcomes[1]).toBe('admitted');
    expect(await line()).toEqual({ [kept!]: true });
    const { rows } = await db.pool.query(`SELECT stream_id FROM events WHERE type = 'RunAdmitted' AND stream_id = ANY ($1)`, [[`run-${lost}`, `run-${kept}`]]);
    expect(rows).toEqual([{ stream_id: `run-${kept}` }]);
  });
});
