import { randomBytes } from 'node:crypto';
import { CheckpointWaiter } from '../../src/event-store/checkpoint-waiter';
import { EventStore } from '../../src/event-store/event-store';
import { Notifier } from '../../src/event-store/notifier';
import { SubscriptionRunner, type SubscriptionRunnerOptions } from '../../src/event-store/subscription-runner';
import type { Projection } from '../../src/event-store/projection';
import { createTestDatabase, TestDatabase } from '../support/database';
import { systemMetadata } from '../support/metadata';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('subscription', 20);
  await db.pool.query('CREATE TABLE projected (seq bigserial PRIMARY KEY, global_position bigint NOT NULL, transaction_id xid8 NOT NULL)');
});
afterAll(() => db.drop());

const recorder: Projection = {
  name: 'recorder',
  mode: 'async',
  handles: ['Tick'],
  tables: ['projected'],
  async apply(q, event) {
    await q.query('INSERT INTO projected (global_position, transaction_id) VALUES ($1, $2::xid8)', [event.globalPosition, event.transactionId]);
  },
};

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A projection that records the position of each event of `type` in its own new table, `name`. */
async function positionsProjection(name: string, type: string, extra: Partial<Projection> = {}): Promise<Projection> {
  await db.pool.query(`CREATE TABLE ${name} (global_position bigint PRIMARY KEY)`);
  return {
    name,
    mode: 'async',
    handles: [type],
    tables: [name],
    async apply(q, event) {
      await q.query(`INSERT INTO ${name} VALUES ($1)`, [event.globalPosition]);
    },
    ...extra,
  };
}

const count = async (sql: string) => Number((await db.pool.query(sql)).rows[0].n);

it('projects every event exactly once, in commit order, while the listener backend is killed repeatedly', async () => {
  const channel = `${db.schema}.events`;
  const store = new EventStore(db.pool, channel);
  const notifier = new Notifier({ url: db.url, applicationName: `listener-${db.schema}` });
  await notifier.start();
  // A long poll interval: progress after each kill must come from reconnect catch-up and NOTIFY.
  const runner = new SubscriptionRunner(db.pool, store, [recorder], notifier, { pollIntervalMs: 60_000 });
  await runner.start();

  const writers = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; i < 100; i++) {
      await store.append(`tick-${w}-${i}`, 0, [{ type: 'Tick', data: { w, i } }, { type: 'Ignored', data: {} }], {
        organizationId: 'org',
        metadata: systemMetadata,
        notify: true,
      });
    }
  });
  const killer = (async () => {
    for (let k = 0; k < 5; k++) {
      await new Promise((r) => setTimeout(r, 40));
      await db.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [`listener-${db.schema}`]);
    }
  })();
  await Promise.all([...writers, killer]);

  await waitFor(async () => (await count('SELECT count(*) AS n FROM projected')) === 400);
  await runner.stop();
  await notifier.stop();

  expect(await count('SELECT count(DISTINCT global_position) AS n FROM projected')).toBe(400);
  const { rows } = await db.pool.query(`
    SELECT p.global_position AS projected, e.global_position AS expected
    FROM (SELECT global_position, row_number() OVER (ORDER BY seq) AS rn FROM projected) p
    JOIN (SELECT global_position, row_number() OVER (ORDER BY transaction_id, global_position) AS rn
          FROM events WHERE type = 'Tick') e USING (rn)
    WHERE p.global_position <> e.global_position`);
  expect(rows).toEqual([]);
});

it('still makes progress by polling when no notification ever arrives', async () => {
  const store = new EventStore(db.pool, 'nobody-listens');
  const projection: Projection = { ...recorder, name: 'poll_only' };
  await db.pool.query('TRUNCATE projected');
  const runner = new SubscriptionRunner(db.pool, store, [projection], undefined, { pollIntervalMs: 50 });
  await runner.start();
  const before = await count(`SELECT count(*) AS n FROM events WHERE type = 'Tick'`);
  await store.append('poll-1', 0, [{ type: 'Tick', data: {} }], { organizationId: 'org', metadata: systemMetadata });
  await waitFor(async () => (await count('SELECT count(*) AS n FROM projected')) === before + 1);
  await runner.stop();
});

it('polls an idle store with one statement, and still projects what a poll finds new', async () => {
  const store = new EventStore(db.pool, 'nobody-listens-idle');
  const projection: Projection = { ...recorder, name: 'idle_poll' };
  const runner = new SubscriptionRunner(db.pool, store, [projection], undefined, { pollIntervalMs: 20 });
  await runner.start();
  await runner.drain();
  const passes = jest.spyOn(runner as unknown as { pass: () => Promise<unknown> }, 'pass');
  try {
    // Caught up: after at most one confirming pass (another test file's open transaction may hold
    // events back for a while), polls compare the store's state and open no transaction.
    await waitFor(async () => {
      const before = passes.mock.calls.length;
      await new Promise((r) => setTimeout(r, 200));
      return passes.mock.calls.length === before;
    });
    // A plain append notifies nobody: the next poll sees the store changed and projects it.
    const stored = await store.append('idle-poll-1', 0, [{ type: 'Tick', data: {} }], { organizationId: 'org', metadata: systemMetadata });
    const position = stored.events[0]!.globalPosition;
    await waitFor(async () => (await count(`SELECT count(*) AS n FROM projected WHERE global_position = ${position}`)) === 1);
  } finally {
    passes.mockRestore();
    await runner.stop();
  }
});

it('parks an event its projection keeps failing on, and moves past it', async () => {
  const store = new EventStore(db.pool, 'unused');
  await db.pool.query('CREATE TABLE picky (global_position bigint PRIMARY KEY)');
  const picky: Projection = {
    name: 'picky',
    mode: 'async',
    handles: ['Good', 'Poison'],
    tables: ['picky'],
    async apply(q, event) {
      if (event.type === 'Poison') throw new Error('cannot handle this one');
      await q.query('INSERT INTO picky VALUES ($1)', [event.globalPosition]);
    },
  };
  const meta = { organizationId: 'org', metadata: systemMetadata };
  await store.append('picky-1', 0, [{ type: 'Good', data: {} }, { type: 'Poison', data: {} }, { type: 'Good', data: {} }], meta);
  const runner = new SubscriptionRunner(db.pool, store, [picky], undefined, { pollIntervalMs: 20, maxAttempts: 3 });
  await runner.start();
  await waitFor(async () => (await count('SELECT count(*) AS n FROM picky')) === 2);
  await runner.stop();
  const parked = await db.pool.query(`SELECT projection, error, attempts FROM projection_parked_events WHERE projection = 'picky'`);
  expect(parked.rows).toEqual([{ projection: 'picky', error: expect.stringContaining('cannot handle this one'), attempts: 3 }]);
});

it('projects an event committed behind an older open transaction once that ends, without waiting for the poll', async () => {
  const channel = `${db.schema}.events`;
  const store = new EventStore(db.pool, channel);
  const held = await positionsProjection('held', 'Held');
  const notifier = new Notifier({ url: db.url, applicationName: `held-${db.schema}` });
  await notifier.start();
  const runner = new SubscriptionRunner(db.pool, store, [held], notifier, { pollIntervalMs: 600_000 });
  await runner.start();
  const older = await db.pool.connect();
  try {
    await older.query('BEGIN');
    await older.query('SELECT pg_current_xact_id()'); // an open transaction with an id below the append's
    // The notification comes while the event is still out of reach of catch-up reads.
    await store.append('held-1', 0, [{ type: 'Held', data: {} }], { organizationId: 'org', metadata: systemMetadata, notify: true });
    await new Promise((r) => setTimeout(r, 100));
    expect(await count('SELECT count(*) AS n FROM held')).toBe(0);
    await older.query('ROLLBACK'); // no notification follows
  } finally {
    older.release();
  }
  await waitFor(async () => (await count('SELECT count(*) AS n FROM held')) === 1);
  await runner.stop();
  await notifier.stop();
});

it('reads a backlog in full batches, and after a short one waits for a wake-up instead of spinning', async () => {
  const store = new EventStore(db.pool, 'nobody-listens');
  const batched = await positionsProjection('batched', 'Batched', { batchSize: 2 });
  const meta = { organizationId: 'org', metadata: systemMetadata };
  // Everything already stored before this projection's start is behind its checkpoint too.
  const before = await count('SELECT count(*) AS n FROM events');
  // An odd total, so the last batch is short (an even one ends in a full batch and one empty read).
  const appended = before % 2 === 0 ? 5 : 6;
  await store.append('batched-1', 0, Array.from({ length: appended }, () => ({ type: 'Batched', data: {} })), meta);
  // Another test file's transaction older than these events (audit-sealer's holds one on purpose)
  // would stop a batch short of them: start once every such transaction has ended.
  await waitFor(async () => (await db.pool.query<{ clear: boolean }>('SELECT pg_snapshot_xmin(pg_current_snapshot()) > (SELECT max(transaction_id) FROM events) AS clear')).rows[0]!.clear);
  const reads: number[] = [];
  const readAll = store.readAll.bind(store);
  jest.spyOn(store, 'readAll').mockImplementation(async (...args) => {
    const page = await readAll(...args);
    reads.push(page.events.length);
    return page;
  });
  // The poll never comes: only the start's own wake-up runs passes.
  const runner = new SubscriptionRunner(db.pool, store, [batched], undefined, { pollIntervalMs: 600_000 });
  await runner.start();
  await waitFor(async () => (await count('SELECT count(*) AS n FROM batched')) === appended);
  await runner.stop();
  // Full batches of 2 through the backlog, then the short one ends the catch-up: no empty pass.
  expect(reads.reduce((a, b) => a + b, 0)).toBe(before + appended);
  expect(reads.at(-1)).toBeGreaterThan(0);
  expect(reads.slice(0, -1).every((n) => n === 2)).toBe(true);
});

it('cuts a backlog of large events into batches by their stored size, and applies each once, in order, without waiting for a poll', async () => {
  const store = new EventStore(db.pool, 'nobody-listens');
  const sized = await positionsProjection('sized', 'Sized');
  // Random bytes as hex: most of each value stays stored (little for the compression to find).
  const large = () => ({ type: 'Sized', data: { blob: randomBytes(100_000).toString('hex') } });
  const appended = await store.append('sized-1', 0, Array.from({ length: 6 }, large), { organizationId: 'org', metadata: systemMetadata });
  await waitFor(async () => (await db.pool.query<{ clear: boolean }>('SELECT pg_snapshot_xmin(pg_current_snapshot()) > (SELECT max(transaction_id) FROM events) AS clear')).rows[0]!.clear);
  const { rows } = await db.pool.query<{ size: number }>(
    "SELECT max(pg_column_size(data) + pg_column_size(metadata))::int AS size FROM events WHERE stream_id = 'sized-1'",
  );
  const reads: string[][] = [];
  const readAll = store.readAll.bind(store);
  jest.spyOn(store, 'readAll').mockImplementation(async (...args) => {
    const page = await readAll(...args);
    reads.push(page.events.filter((e) => e.type === 'Sized').map((e) => String(e.globalPosition)));
    return page;
  });
  // Room for two of them past a batch's first event, not three; and no poll: only the start's
  // pass and the backlog it finds may carry the catch-up through.
  const runner = new SubscriptionRunner(db.pool, store, [sized], undefined, { pollIntervalMs: 600_000, batchBytes: Math.floor(rows[0]!.size * 2.5) });
  await runner.start();
  await waitFor(async () => (await count('SELECT count(*) AS n FROM sized')) === 6);
  await runner.stop();
  const positions = (await db.pool.query<{ global_position: string }>('SELECT global_position FROM sized ORDER BY global_position')).rows.map((r) => r.global_position);
  expect(positions).toEqual(appended.events.map((e) => String(e.globalPosition)));
  expect(reads.flat()).toEqual(positions); // each read once
  expect(Math.max(...reads.map((read) => read.length))).toBeLessThanOrEqual(2);
});

it('coalesces the notifications that come soon after a pass into one later pass (runs end in streams)', async () => {
  const channel = `${db.schema}.events`;
  const store = new EventStore(db.pool, channel);
  const gathered = await positionsProjection('gathered', 'Gathered');
  const notifier = new Notifier({ url: db.url, applicationName: `gathered-${db.schema}` });
  await notifier.start();
  const reads = jest.spyOn(store, 'readAll');
  // No poll, and a gap far longer than this test: only the start's own pass may run.
  const runner = new SubscriptionRunner(db.pool, store, [gathered], notifier, { pollIntervalMs: 600_000, minPassGapMs: 600_000 });
  await store.append('gathered-first', 0, [{ type: 'Gathered', data: {} }], { organizationId: 'org', metadata: systemMetadata });
  await runner.start();
  await waitFor(async () => (await count('SELECT count(*) AS n FROM gathered')) === 1); // the start's pass
  const passes = reads.mock.calls.length;
  for (let i = 0; i < 5; i += 1) {
    await store.append(`gathered-${i}`, 0, [{ type: 'Gathered', data: {} }], { organizationId: 'org', metadata: systemMetadata, notify: true });
  }
  // Every notification has arrived well before this; none may start a pass inside the gap.
  await new Promise((r) => setTimeout(r, 300));
  expect(await count('SELECT count(*) AS n FROM gathered')).toBe(1);
  expect(reads.mock.calls.length).toBe(passes);
  // What the gap's end would run; drained until all six are in (another test file's open
  // transaction may hold them back behind the commit horizon for a pass or two).
  await waitFor(async () => (await runner.drain(), (await count('SELECT count(*) AS n FROM gathered')) === 6));
  await runner.stop();
  await notifier.stop();
});

it('leaves a notification after a quiet spell to the work that follows its commit, for the quiet delay', async () => {
  const channel = `${db.schema}.events`;
  const store = new EventStore(db.pool, channel);
  const quiet = await positionsProjection('quiet', 'Quiet', { awaited: true });
  const notifier = new Notifier({ url: db.url, applicationName: `quiet-${db.schema}` });
  await notifier.start();
  const reads = jest.spyOn(store, 'readAll');
  // No gap between passes at all, but a quiet delay far longer than this test.
  const runner = new SubscriptionRunner(db.pool, store, [quiet], notifier, { pollIntervalMs: 600_000, minPassGapMs: 0, quietPassDelayMs: 600_000 });
  try {
    await runner.start();
    await runner.drain(); // what the start's (delayed) pass would have done
    const passes = reads.mock.calls.length;
    await store.append('quiet-one', 0, [{ type: 'Quiet', data: {} }], { organizationId: 'org', metadata: systemMetadata, notify: true });
    // The notification has arrived well before this; before, its pass ran at once.
    await new Promise((r) => setTimeout(r, 300));
    expect(reads.mock.calls.length).toBe(passes);
    expect(await count('SELECT count(*) AS n FROM quiet')).toBe(0);
    // Deferred, not lost: a reader waiting for it is served at once.
    const waiter = new CheckpointWaiter(db.pool, channel, notifier);
    expect(await waiter.waitForStream('quiet', 'quiet-one', 10_000)).toBe(true);
  } finally {
    await runner.stop();
    await notifier.stop();
  }
});

it('reads the events once per pass for all the projections at the same checkpoint, and each applies all of them', async () => {
  const store = new EventStore(db.pool, `${db.schema}.events`);
  await db.pool.query('CREATE TABLE alike (projection text NOT NULL, global_position bigint NOT NULL, PRIMARY KEY (projection, global_position))');
  const alike = (name: string): Projection => ({
    name,
    mode: 'async',
    handles: ['Alike'],
    tables: ['alike'],
    async apply(q, event) {
      await q.query('INSERT INTO alike VALUES ($1, $2)', [name, event.globalPosition]);
    },
  });
  const projections = [alike('alike-a'), alike('alike-b'), alike('alike-c')];
  const runner = new SubscriptionRunner(db.pool, store, projections, undefined, { pollIntervalMs: 600_000 });
  for (const p of projections) await db.pool.query('INSERT INTO projection_checkpoints (name) VALUES ($1)', [p.name]);
  for (let i = 0; i < 30; i += 1) await store.append(`alike-${i}`, 0, [{ type: 'Alike', data: { i } }], { organizationId: 'org', metadata: systemMetadata });
  const reads = jest.spyOn(store, 'readAll');
  const passes = jest.spyOn(runner as unknown as { pass: () => Promise<unknown> }, 'pass');
  // `drain` passes until one finds nothing; another test file's open transaction on the same
  // server may hold the events back behind the commit horizon (a pass then finds nothing yet), so
  // it drains until all thirty are in, and the passes are counted.
  const applied = async () => Number((await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM alike')).rows[0]!.n);
  await waitFor(async () => (await runner.drain(), (await applied()) === 90));
  expect(passes.mock.calls.length).toBeGreaterThanOrEqual(2);
  // Three reads per pass before: one per projection.
  expect(reads.mock.calls.length).toBeLessThanOrEqual(passes.mock.calls.length);
  const { rows } = await db.pool.query<{ projection: string; n: string }>(`SELECT projection, count(*) AS n FROM alike GROUP BY projection ORDER BY projection`);
  expect(rows.map((r) => [r.projection, Number(r.n)])).toEqual([
    ['alike-a', 30],
    ['alike-b', 30],
    ['alike-c', 30],
  ]);
});

it('catches up at once, inside its pass gap, when a reader waits for the projection', async () => {
  const channel = `${db.schema}.events`;
  const store = new EventStore(db.pool, channel);
  const wanted = await positionsProjection('wanted', 'Wanted', { awaited: true });
  const notifier = new Notifier({ url: db.url, applicationName: `wanted-${db.schema}` });
  await notifier.start();
  // No poll, and a gap far longer than this test: only the start's pass runs on its own.
  const runner = new SubscriptionRunner(db.pool, store, [wanted], notifier, { pollIntervalMs: 600_000, minPassGapMs: 600_000 });
  await store.append('wanted-first', 0, [{ type: 'Wanted', data: {} }], { organizationId: 'org', metadata: systemMetadata });
  await runner.start();
  await waitFor(async () => (await count('SELECT count(*) AS n FROM wanted')) === 1);
  await store.append('wanted-later', 0, [{ type: 'Wanted', data: {} }], { organizationId: 'org', metadata: systemMetadata, notify: true });
  const waiter = new CheckpointWaiter(db.pool, channel, notifier);
  // Before, the reader waited out the gap: false after its 10 s.
  expect(await waiter.waitForStream('wanted', 'wanted-later', 10_000)).toBe(true);
  expect(await count('SELECT count(*) AS n FROM wanted')).toBe(2);
  await runner.stop();
  await notifier.stop();
});

/** A hot path the test turns busy and quiet. */
class TestHotPath {
  busy = false;
  quietForMs(): number {
    return this.busy ? 0 : 60_000;
  }
}

/**
 * A runner of `projections` woken by its own notifier, with no poll, no gap and no quiet delay
 * (unless `options` say otherwise): only a `TestHotPath` holds its passes back, for up to their bounds.
 */
async function yieldingRunner(projections: Projection | Projection[], options: Partial<SubscriptionRunnerOptions> = {}) {
  const list = Array.isArray(projections) ? projections : [projections];
  const channel = `${db.schema}.events`;
  const store = new EventStore(db.pool, channel);
  const notifier = new Notifier({ url: db.url, applicationName: `${list[0]!.name}-${db.schema}` });
  await notifier.start();
  const hotPath = new TestHotPath();
  const runner = new SubscriptionRunner(db.pool, store, list, notifier, { pollIntervalMs: 600_000, minPassGapMs: 0, quietPassDelayMs: 0, yieldTo: hotPath, ...options });
  return { channel, store, notifier, hotPath, runner };
}

it('gives way to a busy hot path: a notification waits until it is quiet, a reader does not', async () => {
  // Only the hot path holds a pass back (for up to a minute).
  const { channel, store, notifier, hotPath, runner } = await yieldingRunner(await positionsProjection('yielding', 'Yielding', { awaited: true }), { maxYieldMs: 60_000 });
  try {
    // Busy from the start: the start's own pass waits too, so nothing but `drain` runs a pass
    // before the notification below (a pass already in flight would have read its event).
    hotPath.busy = true;
    await runner.start();
    await runner.drain();
    await store.append('yielding-one', 0, [{ type: 'Yielding', data: {} }], { organizationId: 'org', metadata: systemMetadata, notify: true });
    // The notification has arrived well before this; before, its pass ran at once.
    await new Promise((r) => setTimeout(r, 300));
    expect(await count('SELECT count(*) AS n FROM yielding')).toBe(0);
    // A reader waiting for the projection is served at once, busy or not.
    const waiter = new CheckpointWaiter(db.pool, channel, notifier);
    expect(await waiter.waitForStream('yielding', 'yielding-one', 10_000)).toBe(true);
    await store.append('yielding-two', 0, [{ type: 'Yielding', data: {} }], { organizationId: 'org', metadata: systemMetadata, notify: true });
    await new Promise((r) => setTimeout(r, 300));
    expect(await count('SELECT count(*) AS n FROM yielding')).toBe(1);
    hotPath.busy = false; // quiet: the waiting pass runs
    await waitFor(async () => (await count('SELECT count(*) AS n FROM yielding')) === 2);
  } finally {
    await runner.stop();
    await notifier.stop();
  }
});

it('holds what a burst left for the latency-bound work after it too, until the hot path goes quiet', async () => {
  // The fault: once a burst ended (many runs recording, then few), what it left was applied at
  // once, onto the serial runs that followed it (harness: their slowest took 77-99 ms against
  // 8-13). The hot path never goes quiet here until the end, and the pass gap is over.
  const { store, notifier, hotPath, runner } = await yieldingRunner(await positionsProjection('bursting', 'Bursting'), { maxYieldMs: 60_000 });
  const applied = () => count('SELECT count(*) AS n FROM bursting');
  try {
    // The burst, then serial runs: busy throughout, from before the start's own pass (a pass in
    // flight would read the events below).
    hotPath.busy = true;
    await runner.start();
    await runner.drain();
    for (let i = 0; i < 20; i += 1) await store.append(`bursting-${i}`, 0, [{ type: 'Bursting', data: {} }], { organizationId: 'org', metadata: systemMetadata, notify: true });
    await new Promise((r) => setTimeout(r, 500));
    expect(await applied()).toBe(0);
    hotPath.busy = false; // a quiet moment: everything that waited is applied
    await waitFor(async () => (await applied()) === 20);
  } finally {
    await runner.stop();
    await notifier.stop();
  }
});

it('gives way for no longer than its bound, from the oldest change waiting, so a hot path busy for good cannot starve it', async () => {
  const { store, notifier, hotPath, runner } = await yieldingRunner(await positionsProjection('bounded', 'Bounded'), { maxYieldMs: 1_000 });
  try {
    await runner.start();
    await runner.drain();
    hotPath.busy = true;
    // A change every 100 ms, each notifying: the oldest one's wait is what is bounded, not the newest's.
    for (let i = 0; i < 15; i += 1) {
      await store.append(`bounded-${i}`, 0, [{ type: 'Bounded', data: {} }], { organizationId: 'org', metadata: systemMetadata, notify: true });
      await new Promise((r) => setTimeout(r, 100));
    }
    // Busy all along, and yet passes ran: everything up to the last second or so is in.
    expect(await count('SELECT count(*) AS n FROM bounded')).toBeGreaterThan(0);
    await waitFor(async () => (await count('SELECT count(*) AS n FROM bounded')) === 15);
    expect(hotPath.busy).toBe(true);
  } finally {
    await runner.stop();
    await notifier.stop();
  }
});

it("keeps each projection's own bound: the audit sealer's holds, and brings no other along", async () => {
  // One runner applies every async projection of a worker. The sealer's freshness target must hold
  // in it (no bound in the options, and a poll of ten minutes: two of them would be the default);
  // before, the others were applied at its bound too, and after an HTTP burst that put their
  // catch-up on the serial runs that followed.
  const fresh = await positionsProjection('named_bound', 'NamedBound', { maxYieldMs: 1_000 });
  const lax = await positionsProjection('unbounded', 'NamedBound');
  const { store, notifier, hotPath, runner } = await yieldingRunner([lax, fresh]);
  try {
    hotPath.busy = true; // busy: only a bound lets a pass through
    await runner.start();
    await store.append('named-bound-one', 0, [{ type: 'NamedBound', data: {} }], { organizationId: 'org', metadata: systemMetadata, notify: true });
    await waitFor(async () => (await count('SELECT count(*) AS n FROM named_bound')) === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(await count('SELECT count(*) AS n FROM unbounded')).toBe(0);
    expect(hotPath.busy).toBe(true);
    hotPath.busy = false; // a quiet moment: the other is applied too
    await waitFor(async () => (await count('SELECT count(*) AS n FROM unbounded')) === 1);
  } finally {
    await runner.stop();
    await notifier.stop();
  }
});

it('takes along, in a pass a bound forces, the projections whose own bound comes within the pass gap', async () => {
  // Otherwise they would wait out the gap after it: the audit sealer's lag rose from 0.81 to 0.91 s
  // p99 when the other read models' pass came first (`npm run bench -- audit`). A gap of 5 s:
  // "within" it here is 2.5 s early, and a pass of its own would come 5 s after the first.
  const later = await positionsProjection('bound_later', 'NearBound', { maxYieldMs: 3_000 });
  const first = await positionsProjection('bound_first', 'NearBound', { maxYieldMs: 500 });
  // `later` comes first in a pass: when `first` is applied, a pass that took `later` along has applied it already.
  const { store, notifier, hotPath, runner } = await yieldingRunner([later, first], { minPassGapMs: 5_000 });
  try {
    hotPath.busy = true; // from the start: no pass has run, so no gap holds the first one back
    await runner.start();
    await store.append('near-bound-one', 0, [{ type: 'NearBound', data: {} }], { organizationId: 'org', metadata: systemMetadata, notify: true });
    await waitFor(async () => (await count('SELECT count(*) AS n FROM bound_first')) === 1);
    expect(await count('SELECT count(*) AS n FROM bound_later')).toBe(1);
    expect(hotPath.busy).toBe(true);
  } finally {
    await runner.stop();
    await notifier.stop();
  }
});

it('applies what its bound forces through a busy hot path in slices, and what a quiet moment allows in one batch', async () => {
  // The fault: a burst's whole catch-up went in one batch per projection, and the runs the worker
  // was busy with waited behind all of it. Each batch's size is what `applyBatch` is given.
  const sizes: number[] = [];
  const sliced = await positionsProjection('sliced', 'Sliced', {
    applyBatch: async (q, events) => {
      sizes.push(events.length);
      await q.query('INSERT INTO sliced SELECT unnest($1::bigint[])', [events.map((e) => e.globalPosition)]);
    },
  });
  const { store, notifier, hotPath, runner } = await yieldingRunner(sliced, { maxYieldMs: 500 });
  const events = (n: number) => Array.from({ length: n }, () => ({ type: 'Sliced', data: {} }));
  try {
    hotPath.busy = true;
    await runner.start();
    await runner.drain();
    await store.append('sliced-busy', 0, events(250), { organizationId: 'org', metadata: systemMetadata, notify: true });
    await waitFor(async () => (await count('SELECT count(*) AS n FROM sliced')) === 250);
    expect(hotPath.busy).toBe(true);
    expect(sizes).toEqual([100, 100, 50]);
    hotPath.busy = false;
    await store.append('sliced-quiet', 0, events(250), { organizationId: 'org', metadata: systemMetadata, notify: true });
    await waitFor(async () => (await count('SELECT count(*) AS n FROM sliced')) === 500);
    expect(sizes).toEqual([100, 100, 50, 250]);
  } finally {
    await runner.stop();
    await notifier.stop();
  }
});

it('stops a catch-up between batches when the hot path turns busy, and goes on once it is quiet', async () => {
  const channel = `${db.schema}.events`;
  const store = new EventStore(db.pool, channel);
  const hotPath = new TestHotPath();
  // Applying the first batch is what the hot path's work coincides with.
  const halting = await positionsProjection('halting', 'Halting', {
    batchSize: 10,
    applyBatch: async (q, events) => {
      for (const event of events) await q.query('INSERT INTO halting VALUES ($1)', [event.globalPosition]);
      hotPath.busy = true;
    },
  });
  const runner = new SubscriptionRunner(db.pool, store, [halting], undefined, { pollIntervalMs: 600_000, minPassGapMs: 0, quietPassDelayMs: 0, yieldTo: hotPath, maxYieldMs: 60_000 });
  try {
    for (let i = 0; i < 35; i += 1) await store.append(`halting-${i}`, 0, [{ type: 'Halting', data: {} }], { organizationId: 'org', metadata: systemMetadata });
    await runner.start(); // its first pass: quiet until its first batch is applied
    await waitFor(async () => (await count('SELECT count(*) AS n FROM halting')) > 0);
    await new Promise((r) => setTimeout(r, 300));
    const first = await count('SELECT count(*) AS n FROM halting');
    await new Promise((r) => setTimeout(r, 300));
    // Before, a catch-up read every full batch in one go.
    expect(first).toBeLessThanOrEqual(10);
    expect(await count('SELECT count(*) AS n FROM halting')).toBe(first);
    hotPath.busy = false;
    // The rest follows a batch at a time (each one turns the hot path busy again: quiet it each time).
    await waitFor(async () => {
      hotPath.busy = false;
      return (await count('SELECT count(*) AS n FROM halting')) === 35;
    });
  } finally {
    await runner.stop();
  }
});
