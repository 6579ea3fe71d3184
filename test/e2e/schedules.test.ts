import { Pool } from 'pg';
import { scheduleStream } from '../../src/domain/schedule/schedule.events';
import { startTestApp, type TestApp } from '../support/app';
import { recordStatements } from '../support/statements';
import { signUp, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

// Schedules over HTTP with an injectable clock: every pass is `POST /api/admin/tick {now}`, at
// instants far from the real clock (the worker's own scheduler loop never finds them due), so
// nothing sleeps for minutes and every tick's fate is decided by the test.

let app: TestApp;
let owner: SignedUp;

beforeAll(async () => {
  app = await startTestApp('schedules');
  owner = await signUp(app);
});
afterAll(() => app?.close());

/** A minute-aligned instant `minutes` after the next whole hour, ahead of the real clock. */
const base = (() => {
  const hour = new Date(Date.now() + 2 * 3600_000);
  hour.setUTCMinutes(0, 0, 0);
  return hour.getTime();
})();
const at = (minutes: number, seconds = 0) => new Date(base + minutes * 60_000 + seconds * 1000).toISOString();

async function tick(now: string, headers = owner.headers) {
  const res = await app.request('POST', '/api/admin/tick', { headers, body: { now } });
  expect(res.status).toBe(200);
  return res.body as { fired: { scheduleId: string; runId: string; tick: string }[]; skipped: { scheduleId: string; tick: string; reason: string; through?: string; count?: number }[]; buffered: { scheduleId: string; tick: string }[] };
}

async function ledger(scheduleId: string) {
  const res = await app.request('GET', `/api/schedules/${scheduleId}/ticks?limit=500`, { headers: owner.headers });
  expect(res.status).toBe(200);
  return res.body.data as { tick: string; outcome: string; reason?: string; runId?: string; count?: number; through?: string; origin: string }[];
}

let holds = 0;
/** A workflow whose runs stay `waiting` until an event named `release-<n>` (one per workflow) with their scheduledAt as key. */
async function holdingWorkflow(): Promise<string> {
  holds += 1;
  return createWorkflow(app, owner.headers, [
    add('start', 'trigger_manual'),
    add('hold', 'wait_for_event', { eventName: `release-${holds}`, correlationKey: '{{trigger.scheduledAt}}' }),
    connect('start', 'hold'),
  ]);
}

async function schedule(body: Record<string, unknown>) {
  const res = await app.request('POST', '/api/schedules', { headers: owner.headers, body });
  expect(res.status).toBe(201);
  return res.body as { id: string; nextFireAt: string; upcoming: string[]; source: string };
}

async function release(scheduledAt: string, runId: string) {
  await app.request('POST', '/api/events', { headers: owner.headers, body: { name: `release-${holds}`, correlationKey: scheduledAt } });
  await waitForRun(app, owner.headers, runId);
}

describe('an agent builds a scheduled workflow with EditOps only', () => {
  it('repairs an invalid cron from the validation error, sees the schedule, and it fires with its tick as trigger output', async () => {
    const created = await app.request('POST', '/api/workflows', { headers: owner.headers, body: { name: 'nightly' } });
    const workflowId = created.body.id as string;
    const patched = await app.request('POST', `/api/workflows/${workflowId}/operations`, {
      headers: owner.headers,
      body: {
        ops: [
          add('cron', 'trigger_schedule', { cron: '0 0 9 * * 1-5 2026', timezone: 'Europe/Roma', input: { region: 'eu' } }),
          add('echo', 'transform', { template: '{{trigger.region}} at {{trigger.scheduledAt}}' }),
          connect('cron', 'echo'),
        ],
      },
    });
    expect(patched.status).toBe(200);
    const errors = patched.body.validation_errors as { field: string; code: string; suggestion?: unknown }[];
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'cron', code: 'invalid_param_value', suggestion: '0 0 9 * * 1-5' }),
        expect.objectContaining({ field: 'timezone', code: 'invalid_param_value', suggestion: 'Europe/Rome' }),
      ]),
    );
    // Not valid yet: no schedule exists.
    let listed = await app.request('GET', `/api/schedules?workflowId=${workflowId}`, { headers: owner.headers });
    expect(listed.body.data).toEqual([]);

    const repaired = await app.request('POST', `/api/workflows/${workflowId}/operations`, {
      headers: owner.headers,
      body: { ops: [{ operation_type: 'update', block_id: 'cron', params: { cron: '*/5 * * * *', timezone: 'Europe/Rome', input: { region: 'eu' } } }] },
    });
    expect(repaired.status).toBe(200);
    expect(repaired.body.validation_errors).toEqual([]);
    listed = await app.request('GET', `/api/schedules?workflowId=${workflowId}`, { headers: owner.headers });
    expect(listed.body.data).toHaveLength(1);
    const mine = listed.body.data[0];
    expect(mine).toMatchObject({ source: 'workflow', blockId: 'cron', cron: '*/5 * * * *', timezone: 'Europe/Rome', state: 'active', overlap: 'skip' });
    expect(mine.upcoming).toHaveLength(5);
    expect(mine.nextFireAt).toBe(mine.upcoming[0]);
    expect(Date.parse(mine.upcoming[1]) - Date.parse(mine.upcoming[0])).toBe(5 * 60_000);

    // One pass just after the first tick fires exactly that tick.
    const first = mine.nextFireAt as string;
    const pass = await tick(new Date(Date.parse(first) + 1000).toISOString());
    const fired = pass.fired.filter((f) => f.scheduleId === mine.id);
    expect(fired).toEqual([{ scheduleId: mine.id, runId: expect.any(String), tick: first }]);
    const run = await waitForRun(app, owner.headers, fired[0]!.runId);
    expect(run.status).toBe('completed');
    expect(run.outputs.echo).toEqual({ value: `eu at ${first}` });
    expect(run.input).toMatchObject({ scheduleId: mine.id, scheduledAt: first, lastScheduledAt: null, timezone: 'Europe/Rome', region: 'eu' });
    const events = await app.request('GET', `/api/runs/${run.id}/events`, { headers: owner.headers });
    expect(events.body.data[0].metadata.actor).toEqual({ type: 'schedule', id: mine.id });
    expect(await ledger(mine.id)).toEqual([expect.objectContaining({ tick: first, outcome: 'fired', runId: run.id, origin: 'schedule' })]);
    // This process's worker took the run in the tick's commit: its first step's start rode along.
    const { rows } = await app.running.app.get(Pool).query<{ type: string; tx: string }>(
      `SELECT type, transaction_id::text AS tx FROM events WHERE stream_id = ANY($1) AND type IN ('ScheduleFired', 'RunStarted', 'StepAttemptStarted')`,
      [[`run-${run.id}`, scheduleStream(mine.id)]],
    );
    expect(rows.map((row) => row.type).sort()).toEqual(['RunStarted', 'ScheduleFired', 'StepAttemptStarted']);
    expect(new Set(rows.map((row) => row.tx)).size).toBe(1);

    // The same pass again fires nothing.
    expect((await tick(new Date(Date.parse(first) + 2000).toISOString())).fired.filter((f) => f.scheduleId === mine.id)).toEqual([]);

    // Its definition belongs to the block.
    const refused = await app.request('PATCH', `/api/schedules/${mine.id}`, { headers: owner.headers, body: { cron: '* * * * *' } });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('owned_by_workflow');

    // Removing the block removes the schedule.
    await app.request('POST', `/api/workflows/${workflowId}/operations`, { headers: owner.headers, body: { ops: [{ operation_type: 'remove', block_id: 'cron' }] } });
    listed = await app.request('GET', `/api/schedules?workflowId=${workflowId}`, { headers: owner.headers });
    expect(listed.body.data).toEqual([]);
    expect((await app.request('GET', `/api/schedules/${mine.id}`, { headers: owner.headers })).status).toBe(404);
  });
});

describe('a scheduler pass over many due schedules', () => {
  it('records the ticks of 40 schedules in a few statements per batch, not a few per schedule, each fired once with its own run', async () => {
    const team = await signUp(app);
    const workflowId = await createWorkflow(app, team.headers, [add('start', 'trigger_manual')]);
    const ids: string[] = [];
    for (let i = 0; i < 40; i += 1) {
      const res = await app.request('POST', '/api/schedules', { headers: team.headers, body: { workflowId, cron: '0 * * * *', overlap: 'allow' } });
      expect(res.status).toBe(201);
      ids.push(res.body.id as string);
    }
    const stop = recordStatements();
    const pass = await tick(at(60, 1), team.headers);
    const texts = stop();
    expect(pass.fired.map((f) => f.scheduleId).sort()).toEqual([...ids].sort());
    expect(new Set(pass.fired.map((f) => f.runId)).size).toBe(40);
    expect(pass.fired.every((f) => f.tick === at(60))).toBe(true);
    // Each batch (up to 250 schedules; at most 4 race in one pass) claims its run keys, appends its
    // schedule streams and writes its ledger in one statement each: 40 and 80 statements before.
    const count = (pattern: RegExp) => texts.filter((text) => pattern.test(text)).length;
    expect(count(/INSERT INTO idempotency_keys/)).toBeLessThanOrEqual(4);
    expect(count(/INSERT INTO schedule_ticks/)).toBeLessThanOrEqual(4);
    expect(count(/UPDATE schedules/)).toBeLessThanOrEqual(4);
    const sample = await app.request('GET', `/api/schedules/${ids[7]}/ticks?limit=10`, { headers: team.headers });
    expect((sample.body.data as { outcome: string; reason?: string; tick: string }[]).map((t) => [t.outcome, t.reason ?? null])).toEqual(
      expect.arrayContaining([
        ['skipped', 'missed'],
        ['fired', null],
      ]),
    );
    const view = await app.request('GET', `/api/schedules/${ids[7]}`, { headers: team.headers });
    expect(view.body).toMatchObject({ state: 'active', nextFireAt: at(120), lastRunId: pass.fired.find((f) => f.scheduleId === ids[7])!.runId });
    await waitForRun(app, team.headers, pass.fired[0]!.runId);
    const idle = recordStatements();
    expect((await tick(at(60, 2), team.headers)).fired).toEqual([]);
    // A pass that finds nothing due reads the due schedules once, not once per lane (4 before;
    // the worker's own scheduler loop may add one pass meanwhile).
    expect(idle().filter((text) => /FROM schedules WHERE next_fire_at <=/.test(text)).length).toBeLessThanOrEqual(2);

    // The next hour: under `allow` a tick fires whatever the last run is doing, so the pass does
    // not read the last runs' status (one read of 250 runs per batch before).
    const next = recordStatements();
    expect((await tick(at(120, 1), team.headers)).fired).toHaveLength(40);
    expect(next().filter((text) => /FROM run_state WHERE run_id = ANY/.test(text))).toEqual([]);
  });
});

describe('schedules created through the API', () => {
  it('refuses a bad cron or time zone with a suggestion, and another organization’s workflow', async () => {
    const workflowId = await holdingWorkflow();
    const cron = await app.request('POST', '/api/schedules', { headers: owner.headers, body: { workflowId, cron: '0 9 ? * MON' } });
    expect(cron.status).toBe(400);
    expect(cron.body).toMatchObject({ error: 'invalid_cron', field: 'cron', suggestion: '0 9 * * MON' });
    const zone = await app.request('POST', '/api/schedules', { headers: owner.headers, body: { workflowId, cron: '0 9 * * *', timezone: 'America/Chicgo' } });
    expect(zone.status).toBe(400);
    expect(zone.body).toMatchObject({ error: 'invalid_timezone', suggestion: 'America/Chicago' });
    const other = await signUp(app);
    const foreign = await app.request('POST', '/api/schedules', { headers: other.headers, body: { workflowId, cron: '0 9 * * *' } });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toBe('workflow_not_found');
    const list = await app.request('GET', '/api/schedules', { headers: owner.headers });
    expect(list.body.data.filter((s: { workflowId: string }) => s.workflowId === workflowId)).toEqual([]);
  });

  it('overlap skip: a tick while the previous run is active is skipped', async () => {
    const workflowId = await holdingWorkflow();
    const s = await schedule({ workflowId, cron: '0 * * * *', overlap: 'skip' });
    const first = (await tick(at(60, 1))).fired.filter((f) => f.scheduleId === s.id);
    expect(first).toHaveLength(1);
    await waitForRun(app, owner.headers, first[0]!.runId, ['waiting']);
    const second = await tick(at(120, 1));
    expect(second.fired.filter((f) => f.scheduleId === s.id)).toEqual([]);
    expect(second.skipped.filter((k) => k.scheduleId === s.id)).toEqual([{ scheduleId: s.id, tick: at(120), reason: 'overlap' }]);
    await release(at(60), first[0]!.runId);
    const third = (await tick(at(180, 1))).fired.filter((f) => f.scheduleId === s.id);
    expect(third.map((f) => f.tick)).toEqual([at(180)]);
    expect((await ledger(s.id)).filter((t) => t.reason !== 'missed').map((t) => [t.tick, t.outcome, t.reason ?? null])).toEqual([
      [at(60), 'fired', null],
      [at(120), 'skipped', 'overlap'],
      [at(180), 'fired', null],
    ]);
  });

  it('overlap buffer_one: one tick waits for the active run, a second is skipped, the waiting one starts when the run ends', async () => {
    const workflowId = await holdingWorkflow();
    const s = await schedule({ workflowId, cron: '0 * * * *', overlap: 'buffer_one' });
    const first = (await tick(at(60, 1))).fired.filter((f) => f.scheduleId === s.id)[0]!;
    await waitForRun(app, owner.headers, first.runId, ['waiting']);
    const buffered = await tick(at(120, 1));
    expect(buffered.buffered.filter((b) => b.scheduleId === s.id).map((b) => b.tick)).toEqual([at(120)]);
    // A buffered schedule is also retried by the worker's own loop: a pass that finds its row held skips it, so pass until one recorded the tick.
    for (let pass = 0; pass < 200 && !(await ledger(s.id)).some((t) => t.tick === at(180)); pass += 1) await tick(at(180, 1));
    expect((await ledger(s.id)).filter((t) => t.tick === at(180)).map((t) => [t.outcome, t.reason])).toEqual([['skipped', 'overlap']]);
    // Still active: the buffered tick keeps waiting.
    expect((await tick(at(180, 2))).fired.filter((f) => f.scheduleId === s.id)).toEqual([]);
    await release(at(60), first.runId);
    // Any scheduler may start it now — this pass, or the worker's own loop, which retries buffered ticks.
    for (let pass = 0; pass < 200; pass += 1) {
      await tick(at(180, 3));
      const view = await app.request('GET', `/api/schedules/${s.id}`, { headers: owner.headers });
      if (view.body.bufferedTick === null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const fired = (await ledger(s.id)).filter((t) => t.outcome === 'fired');
    expect(fired.map((t) => t.tick)).toEqual([at(60), at(120)]);
    const view = await app.request('GET', `/api/schedules/${s.id}`, { headers: owner.headers });
    expect(view.body).toMatchObject({ bufferedTick: null, lastRunId: fired[1]!.runId, lastScheduledAt: at(120) });
  });

  it('overlap cancel_other: the new tick cancels the active run; allow: both run', async () => {
    const workflowId = await holdingWorkflow();
    const cancelling = await schedule({ workflowId, cron: '0 * * * *', overlap: 'cancel_other' });
    const allowing = await schedule({ workflowId, cron: '0 * * * *', overlap: 'allow' });
    const first = await tick(at(60, 1));
    const firstOf = (id: string) => first.fired.find((f) => f.scheduleId === id)!;
    await waitForRun(app, owner.headers, firstOf(cancelling.id).runId, ['waiting']);
    await waitForRun(app, owner.headers, firstOf(allowing.id).runId, ['waiting']);
    const second = await tick(at(120, 1));
    expect(second.fired.filter((f) => f.scheduleId === cancelling.id || f.scheduleId === allowing.id)).toHaveLength(2);
    expect((await waitForRun(app, owner.headers, firstOf(cancelling.id).runId)).status).toBe('cancelled');
    const allowed = await app.request('GET', `/api/runs/${firstOf(allowing.id).runId}`, { headers: owner.headers });
    expect(allowed.body.status).toBe('waiting');
  });

  it('after downtime: ticks within the catch-up window fire once each, oldest first; older ones are one missed range', async () => {
    const workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual'), add('echo', 'transform', { template: '{{trigger.scheduledAt}}' }), connect('start', 'echo')]);
    const s = await schedule({ workflowId, cron: '* * * * *', overlap: 'allow', catchupWindowSec: 180 });
    // The scheduler was down from creation until base+10 min: 10 + (minutes to base) ticks came due.
    const pass = await tick(at(10, 30));
    const fired = pass.fired.filter((f) => f.scheduleId === s.id).map((f) => f.tick);
    expect(fired).toEqual([at(8), at(9), at(10)]);
    const missed = pass.skipped.filter((k) => k.scheduleId === s.id);
    expect(missed).toHaveLength(1);
    expect(missed[0]).toMatchObject({ reason: 'missed', through: at(7) });
    expect(missed[0]!.count).toBe((Date.parse(at(7)) - Date.parse(missed[0]!.tick)) / 60_000 + 1);
    // Oldest first, and each exactly once.
    expect((await tick(at(10, 31))).fired.filter((f) => f.scheduleId === s.id)).toEqual([]);
  });

  it('pause holds ticks back and records them as one skipped range when resumed', async () => {
    const workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual')]);
    // Every second, on the real clock: the worker's own scheduler loop is what would fire it.
    const s = await schedule({ workflowId, cron: '* * * * * *', overlap: 'allow' });
    const paused = await app.request('PATCH', `/api/schedules/${s.id}`, { headers: owner.headers, body: { paused: true, note: 'maintenance' } });
    expect(paused.body).toMatchObject({ state: 'paused', paused: true, note: 'maintenance', nextFireAt: null });
    const pausedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const resumed = await app.request('PATCH', `/api/schedules/${s.id}`, { headers: owner.headers, body: { paused: false } });
    const resumedAt = Date.now();
    expect(resumed.body).toMatchObject({ state: 'active', paused: false });
    const entries = await ledger(s.id);
    expect((await app.request('DELETE', `/api/schedules/${s.id}`, { headers: owner.headers })).status).toBe(204);
    const held = entries.filter((t) => t.reason === 'paused');
    expect(held).toHaveLength(1);
    expect(held[0]!.count).toBeGreaterThanOrEqual(2);
    const firedWhilePaused = entries.filter((t) => t.outcome === 'fired' && Date.parse(t.tick) > pausedAt + 1000 && Date.parse(t.tick) < resumedAt - 1000);
    expect(firedWhilePaused).toEqual([]);
  });

  it('endAt: the first tick after it ends the schedule', async () => {
    const workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual')]);
    const s = await schedule({ workflowId, cron: '0 * * * *', overlap: 'allow', endAt: at(130), catchupWindowSec: 90 });
    const pass = await tick(at(180, 1));
    expect(pass.fired.filter((f) => f.scheduleId === s.id)).toEqual([]);
    expect(pass.skipped.filter((k) => k.scheduleId === s.id).map((k) => k.reason)).toEqual(['missed', 'ended']);
    expect(pass.skipped.find((k) => k.scheduleId === s.id && k.reason === 'ended')!.tick).toBe(at(180));
    const view = await app.request('GET', `/api/schedules/${s.id}`, { headers: owner.headers });
    expect(view.body).toMatchObject({ state: 'ended', nextFireAt: null, upcoming: [] });
    expect((await tick(at(300, 1))).skipped.filter((k) => k.scheduleId === s.id)).toEqual([]);
  });

  it('trigger fires now; backfill fires each tick of a range once and refuses more than 1,000', async () => {
    const workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual')]);
    const s = await schedule({ workflowId, cron: '0 * * * *' });
    const now = await app.request('POST', `/api/schedules/${s.id}/trigger`, { headers: owner.headers, body: {} });
    expect(now.status).toBe(200);
    expect(now.body.fired).toHaveLength(1);
    const backfill = await app.request('POST', `/api/schedules/${s.id}/backfill`, { headers: owner.headers, body: { from: '2026-01-01T00:00:00Z', to: '2026-01-01T05:00:00Z' } });
    expect(backfill.status).toBe(200);
    expect(backfill.body.fired.map((f: { tick: string }) => f.tick)).toEqual([0, 1, 2, 3, 4, 5].map((h) => `2026-01-01T0${h}:00:00.000Z`));
    const again = await app.request('POST', `/api/schedules/${s.id}/backfill`, { headers: owner.headers, body: { from: '2026-01-01T04:00:00Z', to: '2026-01-01T06:00:00Z' } });
    expect(again.body.fired.map((f: { tick: string }) => f.tick)).toEqual(['2026-01-01T06:00:00.000Z']);
    expect(again.body.alreadyFired).toEqual(['2026-01-01T04:00:00.000Z', '2026-01-01T05:00:00.000Z']);
    const tooMany = await app.request('POST', `/api/schedules/${s.id}/backfill`, { headers: owner.headers, body: { from: '2025-01-01T00:00:00Z', to: '2025-03-01T00:00:00Z' } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.error).toBe('backfill_too_large');
  });

  it('a schedule whose workflow was deleted records workflow_deleted once and never fires again', async () => {
    const workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual')]);
    const s = await schedule({ workflowId, cron: '0 * * * *' });
    expect((await app.request('DELETE', `/api/workflows/${workflowId}`, { headers: owner.headers })).status).toBe(204);
    const pass = await tick(at(180, 1));
    expect(pass.skipped.filter((k) => k.scheduleId === s.id).map((k) => [k.reason, k.reason === 'workflow_deleted' ? k.tick : null])).toEqual([
      ['missed', null],
      ['workflow_deleted', at(180)],
    ]);
    const view = await app.request('GET', `/api/schedules/${s.id}`, { headers: owner.headers });
    expect(view.body).toMatchObject({ state: 'workflow_deleted', nextFireAt: null });
    expect((await tick(at(300, 1))).skipped.filter((k) => k.scheduleId === s.id)).toEqual([]);
  });

  it("answers 404 for another organization's schedule on every schedule route", async () => {
    const workflowId = await createWorkflow(app, owner.headers, [add('start', 'trigger_manual')]);
    const s = await schedule({ workflowId, cron: '0 * * * *' });
    const stranger = await signUp(app);
    const calls: [string, string, unknown?][] = [
      ['GET', `/api/schedules/${s.id}`],
      ['PATCH', `/api/schedules/${s.id}`, { paused: true }],
      ['DELETE', `/api/schedules/${s.id}`],
      ['GET', `/api/schedules/${s.id}/ticks`],
      ['POST', `/api/schedules/${s.id}/trigger`, {}],
      ['POST', `/api/schedules/${s.id}/backfill`, { from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z' }],
    ];
    for (const [method, path, body] of calls) {
      const res = await app.request(method, path, { headers: stranger.headers, ...(body !== undefined ? { body } : {}) });
      expect({ method, path, status: res.status, error: res.body?.error }).toEqual({ method, path, status: 404, error: 'not_found' });
    }
    // Their pass never fires our schedule.
    expect((await tick(at(60, 1), stranger.headers)).fired).toEqual([]);
    expect((await app.request('GET', '/api/schedules', { headers: stranger.headers })).body.data).toEqual([]);
    const view = await app.request('GET', `/api/schedules/${s.id}`, { headers: owner.headers });
    expect(view.body).toMatchObject({ state: 'active', lastRunId: null });
  });
});
