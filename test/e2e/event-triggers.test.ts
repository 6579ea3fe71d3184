import { randomUUID } from 'node:crypto';
import { inTransaction } from '../../src/database/pool';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from '../../src/event-store/event';
import { EventStore } from '../../src/event-store/event-store';
import { requestHash } from '../../src/http/request-hash';
import { EventTriggerStarts } from '../../src/runs/event-trigger-starts';
import { ORG_EVENT_RETENTION_MS } from '../../src/runs/org-events';
import { orgEventsProjection } from '../../src/runs/org-events.projection';
import { RunStore } from '../../src/runs/run-store';
import { sweepOrgEvents } from '../../src/worker/org-event-sweeper';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type AuthHeaders, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, patchWorkflow, waitForRun } from '../support/run-api';

/**
 * Workflows that start on an organization event (`trigger_event`), built with EditOps only:
 * every publication starts each such workflow once — also when a worker's sweep delivers the
 * event of a publisher that crashed, racing another sweep —, never another organization's, and
 * says which workflows it could not start.
 */
let app: TestApp;
let owner: SignedUp;
let other: SignedUp;

beforeAll(async () => {
  app = await startTestApp('event_triggers');
  [owner, other] = [await signUp(app), await signUp(app)];
});
afterAll(() => app?.close());

const publish = (headers: AuthHeaders, body: Record<string, unknown>) => app.request('POST', '/api/events', { headers, body });

/** trigger_event on `eventName` → a transform that reads the payload. */
function onEvent(headers: AuthHeaders, eventName: string, template = 'paid {{trigger.payload.amount}}', triggerParams: Record<string, unknown> = {}): Promise<string> {
  return createWorkflow(app, headers, [add('on', 'trigger_event', { eventName, ...triggerParams }), add('out', 'transform', { template }), connect('on', 'out')]);
}

async function runsOf(headers: AuthHeaders, workflowId: string): Promise<string[]> {
  return (await app.request('GET', `/api/runs?workflowId=${workflowId}`, { headers })).body.data.map((run: { id: string }) => run.id);
}

describe('workflows started by organization events', () => {
  it('starts every workflow whose trigger names the event, with the event as its input', async () => {
    const h = owner.headers;
    const [first, second, elsewhere] = [await onEvent(h, 'order.paid'), await onEvent(h, 'order.paid', 'second {{trigger.name}}'), await onEvent(h, 'order.refunded')];
    const res = await publish(h, { name: 'order.paid', correlationKey: 'o-1', payload: { amount: 42 } });
    expect(res.status).toBe(202);
    const { eventId, startedRuns, refusedStarts, matchedRuns } = res.body;
    expect({ matchedRuns, refusedStarts }).toEqual({ matchedRuns: 0, refusedStarts: [] });
    expect(startedRuns.map((s: { workflowId: string }) => s.workflowId).sort()).toEqual([first, second].sort());

    const runOf = (workflowId: string) => startedRuns.find((s: { workflowId: string }) => s.workflowId === workflowId).runId as string;
    const run = await waitForRun(app, h, runOf(first));
    expect(run).toMatchObject({ status: 'completed', input: { eventId, name: 'order.paid', correlationKey: 'o-1', payload: { amount: 42 } }, outputs: { out: { value: 'paid 42' } } });
    expect(await waitForRun(app, h, runOf(second))).toMatchObject({ status: 'completed', outputs: { out: { value: 'second order.paid' } } });
    expect(await runsOf(h, elsewhere)).toEqual([]);

    // The run names the event it came from; the delivery records the runs it started.
    const started = await app.db.pool.query('SELECT metadata FROM events WHERE stream_id = $1 AND stream_version = 1', [`run-${runOf(first)}`]);
    expect(started.rows[0].metadata).toMatchObject({ actor: { type: 'event', id: eventId }, correlationId: eventId, causationId: eventId, requestId: expect.any(String) });
    const delivered = await app.db.pool.query(`SELECT data FROM events WHERE stream_id = $1 AND type = 'OrgEventDelivered'`, [`orgevent-${eventId}`]);
    expect(delivered.rows[0].data.startedRuns).toEqual(startedRuns);
    // Analysts see what started it.
    for (let tries = 0; ; tries++) {
      const { rows } = await app.db.pool.query('SELECT trigger_kind, actor_id FROM analytics_runs WHERE run_id = $1', [runOf(first)]);
      if (rows[0]) {
        expect(rows[0]).toEqual({ trigger_kind: 'event', actor_id: eventId });
        break;
      }
      if (tries > 200) throw new Error('the analytics projection never recorded the run');
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('follows the workflow: a trigger disabled, renamed or deleted starts nothing; a repeated idempotency key starts nothing twice', async () => {
    const h = owner.headers;
    const workflowId = await onEvent(h, 'invoice.sent');
    const once = await publish(h, { name: 'invoice.sent', payload: { amount: 1 }, idempotencyKey: 'invoice-1' });
    expect(once.body.startedRuns).toHaveLength(1);
    const again = await publish(h, { name: 'invoice.sent', payload: { amount: 1 }, idempotencyKey: 'invoice-1' });
    expect(again.body).toMatchObject({ duplicate: true, eventId: once.body.eventId, startedRuns: once.body.startedRuns });

    await patchWorkflow(app, h, workflowId, [{ operation_type: 'update', block_id: 'on', enabled: false }]);
    expect((await publish(h, { name: 'invoice.sent', payload: { amount: 2 } })).body.startedRuns).toEqual([]);
    await patchWorkflow(app, h, workflowId, [{ operation_type: 'update', block_id: 'on', enabled: true, params: { eventName: 'invoice.paid' } }]);
    expect((await publish(h, { name: 'invoice.sent', payload: { amount: 3 } })).body.startedRuns).toEqual([]);
    expect((await publish(h, { name: 'invoice.paid', payload: { amount: 4 } })).body.startedRuns).toEqual([{ workflowId, runId: expect.any(String) }]);
    expect((await app.request('DELETE', `/api/workflows/${workflowId}`, { headers: h })).status).toBe(204);
    expect((await publish(h, { name: 'invoice.paid', payload: { amount: 5 } })).body.startedRuns).toEqual([]);
    expect(await app.db.pool.query('SELECT 1 FROM event_triggers WHERE workflow_id = $1', [workflowId])).toMatchObject({ rowCount: 0 });
  });

  it("says which workflows could not start, and still starts the others; another organization's event starts none", async () => {
    const h = owner.headers;
    const fine = await onEvent(h, 'stock.low');
    // The trigger's input schema wants a numeric payload.level.
    const strict = await onEvent(h, 'stock.low', 'level {{trigger.payload.level}}', {
      inputSchema: { type: 'object', properties: { payload: { type: 'object', properties: { level: { type: 'number' } }, required: ['level'] } }, required: ['payload'] },
    });
    const res = await publish(h, { name: 'stock.low', payload: { level: 'low' } });
    expect(res.body.startedRuns).toEqual([{ workflowId: fine, runId: expect.any(String) }]);
    expect(res.body.refusedStarts).toEqual([{ workflowId: strict, error: 'invalid_input', message: expect.any(String) }]);
    expect(await runsOf(h, strict)).toEqual([]);

    const foreign = await publish(other.headers, { name: 'stock.low', payload: { level: 1 } });
    expect(foreign.body).toMatchObject({ startedRuns: [], refusedStarts: [] });
    expect(await runsOf(h, fine)).toHaveLength(1);
  });

  it("starts a crashed publisher's triggered workflow exactly once when sweepers race to deliver its event", async () => {
    const h = owner.headers;
    const workflowId = await onEvent(h, 'late.event');
    // A publication recorded 11 s ago whose publisher died before delivering it.
    const eventId = randomUUID();
    const data = { eventId, name: 'late.event', payload: { amount: 9 }, requestHash: requestHash({ name: 'late.event', correlationKey: null, payload: { amount: 9 } }), retentionMs: ORG_EVENT_RETENTION_MS };
    await inTransaction(app.db.pool, async (client) => {
      const { rows } = await client.query<EventRow>(
        `INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata, recorded_at)
         VALUES ($1, 1, $2, 'OrgEventPublished', $3, $4, now() - interval '11 seconds') RETURNING ${EVENT_COLUMNS}`,
        [`orgevent-${eventId}`, owner.organizationId, data, { actor: { type: 'system', id: 'test' } }],
      );
      await orgEventsProjection.apply(client, toRecordedEvent(rows[0]!));
    });
    const sweep = () => sweepOrgEvents(app.db.pool, app.running.app.get(EventStore), app.running.app.get(RunStore), app.running.app.get(EventTriggerStarts), { actor: { type: 'system', id: 'sweeper-test' } });
    await Promise.all([sweep(), sweep(), sweep()]);
    await sweep();

    const runs = await runsOf(h, workflowId);
    expect(runs).toHaveLength(1);
    expect(await waitForRun(app, h, runs[0]!)).toMatchObject({ status: 'completed', input: { eventId }, outputs: { out: { value: 'paid 9' } } });
    const delivered = await app.db.pool.query(`SELECT data FROM events WHERE stream_id = $1 AND type = 'OrgEventDelivered'`, [`orgevent-${eventId}`]);
    expect(delivered.rows.map((row) => row.data.startedRuns)).toEqual([[{ workflowId, runId: runs[0] }]]);
  });

  it('lists the publications newest first with what each started, one name or all, a page at a time; never another organization\'s', async () => {
    const h = owner.headers;
    const workflowId = await onEvent(h, 'listed.event');
    const ids: string[] = [];
    for (let n = 1; n <= 3; n++) ids.push((await publish(h, { name: 'listed.event', correlationKey: `k-${n}`, payload: { amount: n } })).body.eventId);
    await publish(h, { name: 'other.event', payload: {} });

    const first = await app.request('GET', '/api/events?name=listed.event&limit=2', { headers: h });
    expect(first.status).toBe(200);
    expect(first.body.data.map((e: { eventId: string }) => e.eventId)).toEqual([ids[2], ids[1]]);
    expect(first.body.data[0]).toMatchObject({ name: 'listed.event', correlationKey: 'k-3', payload: { amount: 3 }, matchedRuns: 0, startedRuns: [{ workflowId, runId: expect.any(String) }], refusedStarts: [], deliveredAt: expect.any(String) });
    const second = await app.request('GET', `/api/events?name=listed.event&limit=2&after=${first.body.next}`, { headers: h });
    expect({ ids: second.body.data.map((e: { eventId: string }) => e.eventId), next: second.body.next }).toEqual({ ids: [ids[0]], next: null });
    const all = await app.request('GET', '/api/events?limit=200', { headers: h });
    expect(all.body.data[0].name).toBe('other.event');

    const one = await app.request('GET', `/api/events/${ids[0]}`, { headers: h });
    expect(one.body).toMatchObject({ eventId: ids[0], startedRuns: [{ workflowId }] });
    for (const [headers, path] of [[other.headers, `/api/events/${ids[0]}`], [h, '/api/events/no-such-event']] as const) {
      const res = await app.request('GET', path, { headers });
      expect({ path, status: res.status, error: res.body.error }).toEqual({ path, status: 404, error: 'not_found' });
    }
    expect((await app.request('GET', '/api/events', { headers: other.headers })).body.data.map((e: { name: string }) => e.name)).not.toContain('listed.event');
    const forged = await app.request('GET', '/api/events?after=bm90LWEtY3Vyc29y', { headers: h });
    expect({ status: forged.status, error: forged.body.error }).toEqual({ status: 400, error: 'invalid_query' });
  });
});
