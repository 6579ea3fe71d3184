import { SchedulerPass } from '../../src/schedules/scheduler-pass';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow } from '../support/run-api';

// One scheduler pass over a backlog shared by two organizations. In due order alone, B's single
// schedule, created after A's 600 and due at the same tick, fired 565th. Past the first batch,
// the organizations with a batch's worth of due schedules (A) now wait while everyone else's due
// schedules go first. API only: no scheduler loop races the pass.
let app: TestApp;
let a: SignedUp;
let b: SignedUp;

beforeAll(async () => {
  app = await startTestApp('schedule_fairness', {}, { api: true, worker: false });
  [a, b] = [await signUp(app), await signUp(app)];
});
afterAll(() => app?.close());

async function hourly(owner: SignedUp, count: number): Promise<string[]> {
  const workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('echo', 'transform', { template: 'x' }), connect('start', 'echo')]);
  const ticks: string[] = [];
  let made = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (made < count) {
        made += 1;
        const res = await app.request('POST', '/api/schedules', { headers: owner.headers, body: { workflowId, cron: '0 * * * *', overlap: 'allow' } });
        expect(res.status).toBe(201);
        ticks.push(res.body.nextFireAt);
      }
    }),
  );
  return ticks;
}

it("fires another organization's schedule early in a pass over one organization's backlog", async () => {
  const ticks = [...(await hourly(a, 600)), ...(await hourly(b, 1))];
  const tick = Math.max(...ticks.map((t) => Date.parse(t))); // the creation may have crossed an hour
  const result = await app.running.app.get(SchedulerPass).pass(new Date(tick + 500), { actor: { type: 'system', id: 'test' } });
  expect(result.fired).toHaveLength(ticks.filter((t) => Date.parse(t) === tick).length);

  const { rows } = await app.db.pool.query<{ organization_id: string }>(`SELECT organization_id FROM events WHERE type = 'ScheduleFired' ORDER BY global_position`);
  expect(rows).toHaveLength(result.fired.length);
  const rank = rows.findIndex((row) => row.organization_id === b.organizationId);
  expect(rank).toBeGreaterThanOrEqual(0);
  // Right after the first batch of 250 (in due order, all A's), B's goes first: it was 565th.
  expect(rank).toBeLessThanOrEqual(250);
});
