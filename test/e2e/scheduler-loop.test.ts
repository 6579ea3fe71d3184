import { SchedulerPass } from '../../src/schedules/scheduler-pass';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';
import { recordStatements } from '../support/statements';

// The worker's own scheduler loop on the real clock (the other schedule tests drive passes with
// `POST /api/admin/tick`): an idle loop looks, it does not pass; a due or buffered tick still gets
// its pass.

let app: TestApp;
let owner: SignedUp;
const passes = jest.spyOn(SchedulerPass.prototype, 'pass');

beforeAll(async () => {
  app = await startTestApp('scheduler-loop', { THODARE_POLL_INTERVAL_MS: '50' });
  owner = await signUp(app);
});
afterAll(() => app?.close());

/** `check` until it finds something; on timeout, the error says what `seen` shows then. */
async function waitFor<T>(check: () => Promise<T | undefined>, seen: () => Promise<unknown>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > until) throw new Error(`condition not met in time; at ${new Date().toISOString()}: ${JSON.stringify(await seen())}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function ledger(scheduleId: string) {
  const res = await app.request('GET', `/api/schedules/${scheduleId}/ticks?limit=100`, { headers: owner.headers });
  expect(res.status).toBe(200);
  return res.body.data as { tick: string; outcome: string; runId?: string }[];
}

it('makes no pass while no schedule is due: one look per loop, not a transaction', async () => {
  passes.mockClear();
  const statements = recordStatements();
  let looks: number;
  try {
    await new Promise((r) => setTimeout(r, 1_000)); // some twenty loops of 50 ms
  } finally {
    looks = statements().filter((sql) => sql.includes('min(next_fire_at)')).length;
  }
  expect(looks).toBeGreaterThanOrEqual(5);
  // Before, each loop made a pass: a transaction that locked due schedules and found none.
  expect(passes).not.toHaveBeenCalled();
});

/** A cron (with seconds, UTC) due at two instants two seconds apart, a few seconds from now, and not again for a year. */
function twoTicks(): { cron: string; ticks: string[] } {
  let first = Math.ceil(Date.now() / 1000) * 1000 + 3_000;
  // Two instants across a minute cannot share the cron's minute field: start at the next
  // minute's first second instead. (Rounded up, that was the minute after: 61–64 s ahead, past
  // the 20 s the test waits, whenever the test began in a minute's 55th to 57th second.)
  if (new Date(first).getUTCMinutes() !== new Date(first + 2_000).getUTCMinutes()) first = Math.floor((first + 2_000) / 60_000) * 60_000 + 1_000;
  const a = new Date(first);
  const b = new Date(first + 2_000);
  const cron = `${a.getUTCSeconds()},${b.getUTCSeconds()} ${a.getUTCMinutes()} ${a.getUTCHours()} ${a.getUTCDate()} ${a.getUTCMonth() + 1} *`;
  return { cron, ticks: [a.toISOString(), b.toISOString()] };
}

it('passes for a due tick, and for a buffered one once the run it waited for ended, with nothing else due', async () => {
  const workflowId = await createWorkflow(app, owner.headers, [
    add('start', 'trigger_manual'),
    add('hold', 'wait_for_event', { eventName: 'scheduler-loop-release', correlationKey: '{{trigger.scheduledAt}}' }),
    connect('start', 'hold'),
  ]);
  // The ticks are a few seconds ahead: a creation slower than that (a loaded machine) would
  // start the schedule after its first tick, so its next fire would be a year away. Try again.
  let cron = '';
  let ticks: string[] = [];
  let scheduleId = '';
  for (let attempt = 0; attempt < 3 && !scheduleId; attempt += 1) {
    ({ cron, ticks } = twoTicks());
    const created = await app.request('POST', '/api/schedules', { headers: owner.headers, body: { workflowId, cron, overlap: 'buffer_one' } });
    expect(created.status).toBe(201);
    if (created.body.nextFireAt === ticks[0]) scheduleId = String(created.body.id);
    else await app.request('DELETE', `/api/schedules/${String(created.body.id)}`, { headers: owner.headers });
  }
  expect(scheduleId).not.toBe('');
  // The first tick's run waits for its event; the second tick comes while it waits, and is buffered.
  // A timeout says what the schedule and its ledger held (a rare failure on a loaded machine).
  const seen = async () => ({ ticks, ledger: await ledger(scheduleId), schedule: (await app.request('GET', `/api/schedules/${scheduleId}`, { headers: owner.headers })).body });
  const first = await waitFor(async () => (await ledger(scheduleId)).find((t) => t.outcome === 'fired' && t.tick === ticks[0]), seen);
  await waitFor(async () => ((await ledger(scheduleId)).some((t) => t.outcome === 'buffered' && t.tick === ticks[1]) ? true : undefined), seen);
  // Nothing is due for a year now: only the buffered tick can make the loop pass again.
  passes.mockClear();
  await app.request('POST', '/api/events', { headers: owner.headers, body: { name: 'scheduler-loop-release', correlationKey: ticks[0] } });
  await waitForRun(app, owner.headers, first.runId!);
  const second = await waitFor(async () => (await ledger(scheduleId)).find((t) => t.outcome === 'fired' && t.tick === ticks[1]), seen);
  expect(second.runId).toBeDefined();
  expect(passes).toHaveBeenCalled();
});
