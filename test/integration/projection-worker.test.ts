import { ALL_PROJECTIONS } from '../../src/app/projections';
import { parseConfig } from '../../src/config/config';
import type { Checkpoint, EventPage } from '../../src/event-store/event';
import { EventStore } from '../../src/event-store/event-store';
import { Notifier } from '../../src/event-store/notifier';
import { RunChanges } from '../../src/runs/run-changes';
import { ProjectionWorker } from '../../src/worker/projection-worker.service';
import { createTestDatabase, TestDatabase } from '../support/database';
import { systemMetadata } from '../support/metadata';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('projection_worker', 10);
});
afterAll(() => db.drop());

/** Every read of the events the store served, by where it started, and how many it returned. */
function recordReads(store: EventStore): { from: string; events: number }[] {
  const reads: { from: string; events: number }[] = [];
  const readAll = store.readAll.bind(store);
  store.readAll = async (from: Checkpoint, options?: Parameters<EventStore['readAll']>[1]): Promise<EventPage> => {
    const page = await readAll(from, options);
    reads.push({ from: `${from.transactionId}/${from.globalPosition}`, events: page.events.length });
    return page;
  };
  return reads;
}

it("reads the events once per pass for every async projection, the audit sealer's included", async () => {
  // The fault: the audit sealer had a runner of its own (its faster poll), so each of a burst's
  // events was read from the store and parsed twice, once for the sealer and once for the rest.
  const store = new EventStore(db.pool, `${db.schema}.events`, ALL_PROJECTIONS);
  const reads = recordReads(store);
  for (let i = 0; i < 40; i += 1) {
    await store.append(`tick-${i}`, 0, [{ type: 'Ticked', data: { i } }], { organizationId: 'org', metadata: systemMetadata });
  }
  const { rows } = await db.pool.query<{ last: string }>('SELECT max(global_position) AS last FROM events');
  const last = Number(rows[0]!.last);
  const notifier = new Notifier({ url: db.url, applicationName: `projection-worker-${db.schema}` });
  const config = parseConfig({ THODARE_SCHEMA: db.schema, DATABASE_URL: db.url, THODARE_POLL_INTERVAL_MS: '200' });
  const worker = new ProjectionWorker(db.pool, store, config, notifier, new RunChanges(store, notifier));
  const asyncNames = ALL_PROJECTIONS.filter((p) => p.mode === 'async').map((p) => p.name);
  expect(asyncNames).toContain('audit_sealer');
  await worker.onApplicationBootstrap();
  try {
    const until = Date.now() + 20_000;
    for (;;) {
      const { rows: checkpoints } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM projection_checkpoints WHERE name = ANY($1) AND global_position >= $2', [asyncNames, last]);
      if (Number(checkpoints[0]!.n) === asyncNames.length) break;
      if (Date.now() > until) throw new Error('the async projections did not catch up in time');
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    await worker.onApplicationShutdown();
    await notifier.stop();
  }
  const served = reads.filter((read) => read.events > 0);
  expect(served.map((read) => read.events).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(40);
  // Each stretch of events was read once, however many projections applied it.
  expect(new Set(served.map((read) => read.from)).size).toBe(served.length);
});
