import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';
import { recordStatements } from '../support/statements';

/** More than two chunks of a delivery, so its lanes run side by side. */
const RUNS = 250;

/**
 * A publication to many waiting runs. Each delivery used to be a command of its own: the run's
 * stream read, its signal appended, eight at a time; three publications at once to the same 3,000
 * runs collided on them for 32-33 s. Then each run resumed in a transaction of its own. The runs
 * are brought to their wait by a worker, which then stops, so that the publication's own
 * statements are all the test counts; another worker then resumes them all.
 */
describe('an organization event delivered to many waiting runs', () => {
  let first: TestApp;
  let owner: SignedUp;
  let runIds: string[];

  beforeAll(async () => {
    first = await startTestApp('org-event-fanout');
    owner = await signUp(first);
    const id = await createWorkflow(first, owner.headers, [
      add('start', 'trigger_manual'),
      add('hold', 'wait_for_event', { eventName: 'go' }),
      add('out', 'transform', { template: '{{hold.data}}' }),
      connect('start', 'hold'),
      connect('hold', 'out'),
    ]);
    runIds = [];
    for (let i = 0; i < RUNS; i += 10) {
      const started = await Promise.all(Array.from({ length: 10 }, () => first.request('POST', `/api/workflows/${id}/runs`, { headers: owner.headers, body: {} })));
      runIds.push(...started.map((res) => res.body.runId as string));
    }
    for (const runId of runIds) await waitForRun(first, owner.headers, runId, ['waiting']);
  }, 120_000);

  afterAll(async () => {
    await first.db.drop();
  });

  it('reads the runs together, not one stream read per run, and the runs resume sharing transactions, each with its payload', async () => {
    await first.running.close(); // the worker stops: nothing but the publication writes
    const api = await startTestApp('org-event-fanout', {}, { api: true, worker: false }, first.db);
    let texts: string[] = [];
    try {
      const stop = recordStatements();
      const published = await api.request('POST', '/api/events', { headers: owner.headers, body: { name: 'go', payload: { n: 7 } } }).finally(() => (texts = stop()));
      expect(published.status).toBe(202);
      // Every run counted once, also when the chunks' lanes finish together.
      expect(published.body.matchedRuns).toBe(RUNS);
    } finally {
      await api.close();
    }
    // A read per chunk of runs (the event store's `readStreams`); one `readStream` per run was 250.
    expect(texts.filter((text) => /WHERE stream_id = \$1 AND stream_version >= \$2/.test(text))).toEqual([]);
    expect(texts.filter((text) => /WHERE stream_id = ANY\(\$1::text\[\]\) AND \(\$2::text IS NULL/.test(text)).length).toBe(3);

    // The runs resume together: each one's `WaitCompleted` batch (which the run_waits projection
    // also handles, so it is more than one statement) shares a transaction with its neighbours'.
    const stop = recordStatements();
    const worker = await startTestApp('org-event-fanout', {}, { api: true, worker: true }, first.db);
    try {
      for (const runId of runIds) {
        const run = await waitForRun(worker, owner.headers, runId);
        expect([run.status, run.outputs.out]).toEqual(['completed', { value: { n: 7 } }]);
      }
    } finally {
      texts = stop();
      await worker.close();
    }
    // A transaction per run was 250 and more (the worker's start and projection passes besides).
    expect(texts.filter((text) => text === 'BEGIN').length).toBeLessThan(RUNS / 2);
  }, 120_000);
});
