import { randomUUID } from 'node:crypto';
import { inTransaction } from '../../src/database/pool';
import { EVENT_COLUMNS, toRecordedEvent, type EventRow } from '../../src/event-store/event';
import { EventStore } from '../../src/event-store/event-store';
import { requestHash } from '../../src/http/request-hash';
import { ALL_PROJECTIONS, findProjection } from '../../src/app/projections';
import { ORG_EVENT_RETENTION_MS, storedEventsFor } from '../../src/runs/org-events';
import { orgEventsProjection } from '../../src/runs/org-events.projection';
import { RunCommands } from '../../src/runs/run-commands';
import { EventTriggerStarts } from '../../src/runs/event-trigger-starts';
import { sweepOrgEvents } from '../../src/worker/org-event-sweeper';
import { startTestApp, type TestApp } from '../support/app';
import { createApiKey, signUp, type CreatedKey, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';
import { rebuildWhole } from '../support/database';

let app: TestApp;
let owner: SignedUp;
let apiKey: CreatedKey;
beforeAll(async () => {
  app = await startTestApp('org_events_stream');
  owner = await signUp(app);
  apiKey = await createApiKey(app, owner.headers, { role: 'member' });
});
afterAll(() => app?.close());

const HOUR = 60 * 60 * 1000;
const publish = (headers: Record<string, string>, body: Record<string, unknown>) => app.request('POST', '/api/events', { headers, body });
const waiting = () => [add('start', 'trigger_manual'), add('hold', 'wait_for_event', { eventName: 'resume', correlationKey: '{{trigger.key}}' }), add('out', 'transform', { template: '{{hold.data}}' }), connect('start', 'hold'), connect('hold', 'out')];

async function startWaitingRun(key: string): Promise<string> {
  const run = await app.request('POST', `/api/workflows/${await createWorkflow(app, owner.headers, waiting())}/runs`, { headers: owner.headers, body: { input: { key } } });
  await waitForRun(app, owner.headers, run.body.runId, ['waiting']);
  return run.body.runId;
}

async function streamOf(eventId: string) {
  const { rows } = await app.db.pool.query(`SELECT stream_version, organization_id, type, data, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version`, [`orgevent-${eventId}`]);
  return rows;
}

const orgEventCount = async () => (await app.db.pool.query(`SELECT count(*)::int AS n FROM events WHERE stream_id LIKE 'orgevent-%'`)).rows[0].n as number;
// Every column, timestamps at full precision.
const snapshot = async () => (await app.db.pool.query('SELECT to_jsonb(o) AS row FROM org_events o ORDER BY event_id')).rows;

/** A publication appended `agoMs` ago whose publisher died before delivering (live path: append + inline projection). */
async function publishedAgo(organizationId: string, agoMs: number, event: { name: string; correlationKey?: string; payload: unknown; idempotencyKey?: string }): Promise<string> {
  const eventId = randomUUID();
  const data = { eventId, ...event, requestHash: requestHash({ name: event.name, correlationKey: event.correlationKey ?? null, payload: event.payload }), retentionMs: ORG_EVENT_RETENTION_MS };
  await inTransaction(app.db.pool, async (client) => {
    const { rows } = await client.query<EventRow>(
      `INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata, recorded_at)
       VALUES ($1, 1, $2, 'OrgEventPublished', $3, $4, now() - $5 * interval '1 millisecond') RETURNING ${EVENT_COLUMNS}`,
      [`orgevent-${eventId}`, organizationId, data, { actor: { type: 'system', id: 'test' } }, agoMs],
    );
    await orgEventsProjection.apply(client, toRecordedEvent(rows[0]!));
  });
  return eventId;
}

describe('organization events are events', () => {
  it('records a publication on orgevent-<id> with the organization and the actor, then its delivery; org-<id> is untouched', async () => {
    const orgStream = async () => (await app.db.pool.query('SELECT count(*)::int AS n FROM events WHERE stream_id = $1', [`org-${owner.organizationId}`])).rows[0].n;
    const orgVersion = await orgStream();
    const runId = await startWaitingRun('k-1');

    const hit = await publish(owner.headers, { name: 'resume', correlationKey: 'k-1', payload: { ok: 1 } });
    expect(hit.status).toBe(202);
    expect(hit.body).toEqual({ eventId: expect.any(String), matchedRuns: 1, startedRuns: [], refusedStarts: [] });
    const stream = await streamOf(hit.body.eventId);
    expect(stream).toEqual([
      { stream_version: 1, organization_id: owner.organizationId, type: 'OrgEventPublished', data: expect.objectContaining({ eventId: hit.body.eventId, name: 'resume', correlationKey: 'k-1', payload: { ok: 1 }, retentionMs: 24 * HOUR }), metadata: expect.anything() },
      { stream_version: 2, organization_id: owner.organizationId, type: 'OrgEventDelivered', data: { eventId: hit.body.eventId, matchedRuns: 1, startedRuns: [], refusedStarts: [] }, metadata: expect.anything() },
    ]);
    expect(stream[0].metadata).toMatchObject({ actor: { type: 'user', id: owner.userId }, requestId: expect.any(String) });
    expect((await waitForRun(app, owner.headers, runId)).outputs.out).toEqual({ value: { ok: 1 } });

    const byKey = await publish(apiKey.headers, { name: 'other' });
    expect((await streamOf(byKey.body.eventId))[0].metadata.actor).toEqual({ type: 'api_key', id: apiKey.id });
    expect(await orgStream()).toBe(orgVersion);

    // The row's times are the events' recorded times, not the clock of the insert.
    const { rows } = await app.db.pool.query(
      `SELECT o.matched_runs, o.published_at = p.recorded_at AS published, o.expires_at = p.recorded_at + interval '24 hours' AS expires,
              o.delivered_at = d.recorded_at AS delivered
       FROM org_events o JOIN events p ON p.stream_id = 'orgevent-' || o.event_id AND p.stream_version = 1
       JOIN events d ON d.stream_id = p.stream_id AND d.stream_version = 2 WHERE o.event_id = $1`,
      [hit.body.eventId],
    );
    expect(rows).toEqual([{ matched_runs: 1, published: true, expires: true, delivered: true }]);
  });

  it('answers an idempotent replay with the first publication and a different body with 409, recording nothing', async () => {
    const body = { name: 'paid', correlationKey: 'o-1', payload: { amount: 5 }, idempotencyKey: 'ev-1' };
    const first = await publish(owner.headers, body);
    expect(first.status).toBe(202);
    const [events, rows] = [await orgEventCount(), await snapshot()];

    const replay = await publish(owner.headers, body);
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ eventId: first.body.eventId, matchedRuns: 0, startedRuns: [], refusedStarts: [], duplicate: true });
    const conflict = await publish(owner.headers, { ...body, payload: { amount: 6 } });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error).toBe('idempotency_conflict');
    expect(await orgEventCount()).toBe(events);
    expect(await snapshot()).toEqual(rows);
  });

  it('lets the sweeper deliver a publication whose publisher died, recording the delivery once', async () => {
    const runId = await startWaitingRun('k-crash');
    const eventId = await publishedAgo(owner.organizationId, 11_000, { name: 'resume', correlationKey: 'k-crash', payload: 'late' });
    const runs = app.running.app.get(RunCommands);
    const store = app.running.app.get(EventStore);
    const sweep = () => sweepOrgEvents(app.db.pool, store, runs, app.running.app.get(EventTriggerStarts), { actor: { type: 'system', id: 'sweeper-test' } });
    await Promise.all([sweep(), sweep()]);
    await sweep();

    expect((await waitForRun(app, owner.headers, runId)).outputs.out).toEqual({ value: 'late' });
    const stream = await streamOf(eventId);
    expect(stream.map((e) => [e.type, e.data])).toEqual([
      ['OrgEventPublished', expect.anything()],
      ['OrgEventDelivered', { eventId, matchedRuns: 1, startedRuns: [], refusedStarts: [] }],
    ]);
    expect(stream[1].metadata.actor.type).toBe('system');
  });

  it('stops matching an expired publication, frees its key and prunes it at the next publication of its organization', async () => {
    const stale = await publishedAgo(owner.organizationId, 25 * HOUR, { name: 'stale', payload: 1, idempotencyKey: 'old-key' });
    expect(await storedEventsFor(app.db.pool, owner.organizationId, { eventName: 'stale' })).toEqual([]);
    const reused = await publish(owner.headers, { name: 'stale', payload: 2, idempotencyKey: 'old-key' });
    expect(reused.status).toBe(202);
    expect(reused.body.duplicate).toBeUndefined();
    const { rows } = await app.db.pool.query('SELECT event_id FROM org_events WHERE event_id = ANY($1)', [[stale, reused.body.eventId]]);
    expect(rows).toEqual([{ event_id: reused.body.eventId }]);
  });

  it('rebuilds org_events from the events into exactly the live table', async () => {
    const [other, quiet] = [await signUp(app), await signUp(app)];
    await publishedAgo(other.organizationId, 25 * HOUR, { name: 'pruned-by-the-burst', payload: null });
    const kept = await publishedAgo(quiet.organizationId, 25 * HOUR, { name: 'kept: its organization publishes no more', payload: null });
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => publish(i % 2 ? owner.headers : other.headers, { name: `burst-${i % 3}`, payload: { i }, ...(i % 4 === 0 ? { idempotencyKey: `burst-${i}` } : {}) })),
    );
    await publish(owner.headers, { name: `burst-0`, payload: { i: 0 }, idempotencyKey: 'burst-0' });
    const live = await snapshot();
    expect(live.map((r) => r.row.event_id)).toContain(kept);
    expect(live.map((r) => r.row.name)).not.toContain('pruned-by-the-burst');

    await rebuildWhole(app.db.pool, new EventStore(app.db.pool, 'unused', ALL_PROJECTIONS), findProjection('org_events')!);
    expect(await snapshot()).toEqual(live);
  });
});
