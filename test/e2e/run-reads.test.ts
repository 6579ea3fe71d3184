import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';
import { recordQueries } from '../support/statements';
import { foldedRunDetails, waitForStatus } from '../support/run-harness';
import { RunReads } from '../../src/runs/run-reads';
import { runDetails } from '../../src/runs/get-run.query';

let app: TestApp;
let owner: SignedUp;
let other: SignedUp;

beforeAll(async () => {
  app = await startTestApp('run_reads');
  [owner, other] = [await signUp(app), await signUp(app)];
});
afterAll(() => app?.close());

/** start → wait for `go1` → wait for `go2` → a step that quotes both payloads. */
const twoWaits = [
  add('start', 'trigger_manual'),
  add('first', 'wait_for_event', { eventName: 'go1' }),
  add('second', 'wait_for_event', { eventName: 'go2' }),
  add('out', 'transform', { template: '{{first.data.n}} then {{second.data.n}}' }),
  connect('start', 'first'),
  connect('first', 'second'),
  connect('second', 'out'),
];

async function startTwoWaits(): Promise<string> {
  const workflowId = await createWorkflow(app, owner.headers, twoWaits);
  const started = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body: {} });
  expect(started.status).toBe(202);
  return started.body.runId as string;
}

const signal = async (runId: string, name: string, n: number) =>
  expect((await app.request('POST', `/api/runs/${runId}/signals`, { headers: owner.headers, body: { name, payload: { n } } })).status).toBe(202);

/** The run as a fold of its whole stream shows it, as the API would send it. */
const freshFold = (runId: string) => foldedRunDetails(app.running, runId, owner.organizationId);

/** Waits until the run's `block` waits for its event (the worker has recorded the wait). */
async function waitingAt(runId: string, block: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const run = await app.request('GET', `/api/runs/${runId}`, { headers: owner.headers });
    if (run.body.waitingFor?.blockId === block) return;
    if (Date.now() > deadline) throw new Error(`run never waited at ${block}: ${JSON.stringify(run.body)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('reading a run back', () => {
  it('reads only the events appended since this instance last read the run, and shows what a whole fold shows', async () => {
    const runId = await startTwoWaits();
    await waitingAt(runId, 'first');
    await signal(runId, 'go1', 1);
    await waitingAt(runId, 'second');
    await signal(runId, 'go2', 2);
    await waitForRun(app, owner.headers, runId);

    const { view, version } = await freshFold(runId);
    const stop = recordQueries();
    const read = await app.request('GET', `/api/runs/${runId}`, { headers: owner.headers });
    const streamReads = stop().filter((q) => /FROM events\s+WHERE stream_id = \$1 AND stream_version >= \$2/.test(q.text) && q.values[0] === `run-${runId}`);

    expect(read.status).toBe(200);
    expect(read.body).toEqual(view);
    expect(read.body.outputs.out).toEqual({ value: '1 then 2' });
    // The run was read while it waited at `second`: this read starts after what that one folded,
    // not at the stream's first event.
    expect(streamReads).toHaveLength(1);
    expect(streamReads[0]!.values[1]).toBeGreaterThan(1);
    expect(streamReads[0]!.values[1]).toBeLessThanOrEqual(version + 1);

    // Read again with nothing new: the read finds no events after the last.
    const again = recordQueries();
    expect((await app.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).body).toEqual(view);
    const tail = again().filter((q) => q.values[0] === `run-${runId}` && /FROM events/.test(q.text));
    expect(tail.map((q) => q.values[1])).toEqual([version + 1]);
  });

  it("keeps a run read by its organization from every other: another organization's read is 404, and the owner's is unchanged", async () => {
    const runId = await startTwoWaits();
    await waitingAt(runId, 'first');
    expect((await app.request('GET', `/api/runs/${runId}`, { headers: other.headers })).status).toBe(404);
    await signal(runId, 'go1', 7);
    await waitingAt(runId, 'second');
    expect((await app.request('GET', `/api/runs/${runId}`, { headers: other.headers })).status).toBe(404);
    const read = await app.request('GET', `/api/runs/${runId}`, { headers: owner.headers });
    expect(read.body).toEqual((await freshFold(runId)).view);
    expect(read.body.outputs.first).toEqual({ data: { n: 7 }, timedOut: false });
  });

  it('folds each event once when reads of one run overlap', async () => {
    const reads = app.running.app.get(RunReads);
    const runId = await startTwoWaits();
    await waitingAt(runId, 'first');
    await signal(runId, 'go1', 3);
    await waitingAt(runId, 'second');
    // The last read above folded everything so far; the end the signal below brings is watched
    // for in run_state, never through this instance's kept state. Then eight reads at once all
    // start from the same kept version and all read the same new events.
    await signal(runId, 'go2', 4);
    await waitForStatus(app.db.pool, runId); // run_state, not this instance's kept state
    const states = await Promise.all(Array.from({ length: 8 }, () => reads.read(runId, owner.organizationId)));
    const { view, version } = await freshFold(runId);
    for (const state of states) expect(state!.version).toBe(version);
    expect(JSON.parse(JSON.stringify(runDetails(runId, states[0]!)))).toEqual(view);
    expect((await app.request('GET', `/api/runs/${runId}`, { headers: owner.headers })).body).toEqual(view);
  });

  it('folds every read whole when THODARE_RUN_READ_CACHE_MB is 0', async () => {
    const uncached = await startTestApp('run_reads_uncached', { THODARE_RUN_READ_CACHE_MB: '0' }, { api: true, worker: false }, app.db);
    try {
      const runId = await startTwoWaits();
      await waitingAt(runId, 'first');
      for (let read = 0; read < 2; read += 1) {
        const stop = recordQueries();
        const answer = await uncached.request('GET', `/api/runs/${runId}`, { headers: owner.headers });
        const reads = stop().filter((q) => q.values[0] === `run-${runId}` && /FROM events/.test(q.text));
        expect(answer.body).toEqual((await freshFold(runId)).view);
        expect(reads.map((q) => q.values[1])).toEqual([1]);
      }
    } finally {
      await uncached.close();
    }
  });
});
