import { randomBytes } from 'node:crypto';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { Actor } from '../../src/event-store/event';
import { listRoutes, type RouteInfo } from '../../src/http/route-catalog';
import { startTestApp, type TestApp, type TestResponse } from '../support/app';
import { addMember, createApiKey, signUp, uniqueEmail, type AuthHeaders, type CreatedKey, type SignedUp } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

/**
 * Completeness of the audit trail: every mutating route the app registers — including routes
 * added after this file was written — is called for real, with a known `X-Thodare-Agent`, and
 * must append at least one event carrying the caller's actor and that agent label.
 *
 * When this test fails for a route you added, add an entry to FIXTURES below.
 */

/** Who calls: the owner's session, an owner-role API key, nobody (public routes), or given headers. */
type Caller = 'session' | 'key' | 'none' | { headers: AuthHeaders; actor: Actor };

interface Call {
  path: string;
  caller: Caller;
  body?: unknown;
  /** The actor the event must carry when it is not the caller's (public routes document theirs). */
  actor?: Actor | ((res: TestResponse) => Actor);
}

interface Ctx {
  owner: SignedUp;
  key: CreatedKey;
}

const user = (id: string): Actor => ({ type: 'user', id });
const signedIn = (u: SignedUp): Caller => ({ headers: u.headers, actor: user(u.userId) });
const runnable = () => [add('start', 'trigger_manual')];
const waiting = (block: ReturnType<typeof add>) => [add('start', 'trigger_manual'), block, connect('start', block.block_id)];

let app: TestApp;
let routes: RouteInfo[];
let ctx: Ctx;

async function waitingRun(c: Ctx, block: ReturnType<typeof add>) {
  const workflowId = await createWorkflow(app, c.owner.headers, waiting(block));
  const run = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: c.owner.headers, body: {} });
  return waitForRun(app, c.owner.headers, run.body.runId, ['waiting']);
}

async function schedule(c: Ctx, cron = '0 0 1 1 *'): Promise<string> {
  const workflowId = await createWorkflow(app, c.owner.headers, runnable());
  return (await app.request('POST', '/api/schedules', { headers: c.owner.headers, body: { workflowId, cron } })).body.id;
}

async function webhook(c: Ctx): Promise<{ id: string; token: string }> {
  const workflowId = await createWorkflow(app, c.owner.headers, runnable());
  const res = await app.request('POST', `/api/workflows/${workflowId}/webhooks`, { headers: c.owner.headers, body: {} });
  return { id: res.body.id, token: res.body.token };
}

/** How to make one successful call of each mutating route, by `METHOD path`. */
const FIXTURES: Record<string, (c: Ctx) => Promise<Call>> = {
  'POST /api/auth/sign-up': async () => ({ path: '/api/auth/sign-up', caller: 'none', body: { email: uniqueEmail('audit'), password: 'a long enough password' }, actor: (res) => user(res.body.user.id) }),
  'POST /api/auth/sign-in': async () => {
    const u = await signUp(app);
    return { path: '/api/auth/sign-in', caller: 'none', body: { email: u.email, password: u.password }, actor: user(u.userId) };
  },
  'POST /api/auth/sign-out': async () => ({ path: '/api/auth/sign-out', caller: signedIn(await signUp(app)) }),
  'POST /api/auth/active-organization': async () => {
    const u = await signUp(app);
    const second = await app.request('POST', '/api/organizations', { headers: u.headers, body: { name: 'second' } });
    return { path: '/api/auth/active-organization', caller: signedIn(u), body: { organizationId: second.body.id } };
  },
  'POST /api/organizations': async () => ({ path: '/api/organizations', caller: 'session', body: { name: 'audited' } }),
  'POST /api/invitations': async () => ({ path: '/api/invitations', caller: 'key', body: { email: uniqueEmail('invitee'), role: 'viewer' } }),
  'POST /api/invitations/:token/accept': async (c) => {
    const email = uniqueEmail('invitee');
    const invitation = await app.request('POST', '/api/invitations', { headers: c.owner.headers, body: { email, role: 'viewer' } });
    return { path: `/api/invitations/${invitation.body.token}/accept`, caller: signedIn(await signUp(app, { email })) };
  },
  'PATCH /api/members/:userId': async (c) => ({ path: `/api/members/${(await addMember(app, c.owner, 'member')).userId}`, caller: 'session', body: { role: 'viewer' } }),
  'DELETE /api/members/:userId': async (c) => ({ path: `/api/members/${(await addMember(app, c.owner, 'viewer')).userId}`, caller: 'key' }),
  'POST /api/api-keys': async () => ({ path: '/api/api-keys', caller: 'session', body: { name: 'audited' } }),
  'DELETE /api/api-keys/:id': async (c) => ({ path: `/api/api-keys/${(await createApiKey(app, c.owner.headers)).id}`, caller: 'key' }),
  'POST /api/secrets': async () => ({ path: '/api/secrets', caller: 'key', body: { name: `AUDIT_${randomBytes(4).toString('hex')}`, value: 'v' } }),
  'DELETE /api/secrets/:name': async (c) => {
    const name = `AUDIT_${randomBytes(4).toString('hex')}`;
    await app.request('POST', '/api/secrets', { headers: c.owner.headers, body: { name, value: 'v' } });
    return { path: `/api/secrets/${name}`, caller: 'session' };
  },
  'POST /api/workflows': async () => ({ path: '/api/workflows', caller: 'key', body: { name: 'audited' } }),
  'DELETE /api/workflows/:id': async (c) => ({ path: `/api/workflows/${await createWorkflow(app, c.owner.headers, [])}`, caller: 'session' }),
  'POST /api/workflows/:id/operations': async (c) => ({ path: `/api/workflows/${await createWorkflow(app, c.owner.headers, [])}/operations`, caller: 'key', body: { ops: runnable() } }),
  'POST /api/workflows/:id/revert': async (c) => {
    const workflowId = await createWorkflow(app, c.owner.headers, runnable());
    return { path: `/api/workflows/${workflowId}/revert`, caller: 'key', body: { version: 1 } };
  },
  'POST /api/workflows/:id/runs': async (c) => ({ path: `/api/workflows/${await createWorkflow(app, c.owner.headers, runnable())}/runs`, caller: 'key', body: { input: {} } }),
  'POST /api/workflows/:id/run': async (c) => ({ path: `/api/workflows/${await createWorkflow(app, c.owner.headers, runnable())}/run`, caller: 'session', body: {} }),
  'POST /api/workflows/:id/runs/cancel': async (c) => ({ path: `/api/workflows/${(await waitingRun(c, add('hold', 'wait_for_event', { eventName: 'never' }))).workflowId}/runs/cancel`, caller: 'key', body: { reason: 'audited' } }),
  'POST /api/workflows/:id/runs/rerun': async (c) => {
    const run = await waitingRun(c, add('hold', 'wait_for_event', { eventName: 'never' }));
    await app.request('POST', `/api/runs/${run.id}/cancel`, { headers: c.owner.headers, body: {} });
    await waitForRun(app, c.owner.headers, run.id, ['cancelled']);
    return { path: `/api/workflows/${run.workflowId}/runs/rerun`, caller: 'key', body: { status: 'cancelled', from: 'start' } };
  },
  'POST /api/runs/:id/cancel': async (c) => ({ path: `/api/runs/${(await waitingRun(c, add('hold', 'wait_for_event', { eventName: 'never' }))).id}/cancel`, caller: 'session', body: {} }),
  'POST /api/runs/:id/rerun': async (c) => {
    const run = await waitingRun(c, add('hold', 'wait_for_event', { eventName: 'never' }));
    await app.request('POST', `/api/runs/${run.id}/cancel`, { headers: c.owner.headers, body: {} });
    await waitForRun(app, c.owner.headers, run.id, ['cancelled']);
    return { path: `/api/runs/${run.id}/rerun`, caller: 'key', body: {} };
  },
  'POST /api/runs/:id/signals': async (c) => ({ path: `/api/runs/${(await waitingRun(c, add('hold', 'wait_for_event', { eventName: 'never' }))).id}/signals`, caller: 'key', body: { name: 'poke' } }),
  'POST /api/events': async () => ({ path: '/api/events', caller: 'key', body: { name: 'audited' } }),
  // Public: the link's token is the credential; an anonymous decision is the request's anonymous actor.
  'POST /api/approvals/:token': async (c) => {
    const run = await waitingRun(c, add('ask', 'human_approval', { prompt: 'ok?' }));
    return { path: `/api/approvals/${run.waitingFor.approvalToken}`, caller: 'none', body: { approved: true }, actor: { type: 'system', id: 'anonymous' } };
  },
  'POST /api/schedules': async (c) => ({ path: '/api/schedules', caller: 'session', body: { workflowId: await createWorkflow(app, c.owner.headers, runnable()), cron: '0 0 1 1 *' } }),
  'PATCH /api/schedules/:id': async (c) => ({ path: `/api/schedules/${await schedule(c)}`, caller: 'key', body: { paused: true } }),
  'DELETE /api/schedules/:id': async (c) => ({ path: `/api/schedules/${await schedule(c)}`, caller: 'session' }),
  'POST /api/schedules/:id/trigger': async (c) => ({ path: `/api/schedules/${await schedule(c)}/trigger`, caller: 'key', body: {} }),
  'POST /api/schedules/:id/backfill': async (c) => ({ path: `/api/schedules/${await schedule(c, '0 * * * *')}/backfill`, caller: 'session', body: { from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z' } }),
  // Nothing is due in a fresh organization: the tick itself must still be on record.
  'POST /api/admin/tick': async () => ({ path: '/api/admin/tick', caller: 'session', body: {} }),
  'POST /api/workflows/:id/webhooks': async (c) => ({ path: `/api/workflows/${await createWorkflow(app, c.owner.headers, runnable())}/webhooks`, caller: 'key', body: {} }),
  'DELETE /api/webhooks/:id': async (c) => ({ path: `/api/webhooks/${(await webhook(c)).id}`, caller: 'session' }),
  'POST /api/webhooks/:id/rotate': async (c) => ({ path: `/api/webhooks/${(await webhook(c)).id}/rotate`, caller: 'key' }),
  'POST /api/webhooks/:id/deliveries/:deliveryId/replay': async (c) => {
    const hook = await webhook(c);
    await app.request('POST', `/hooks/${hook.token}`, { body: {} });
    const deliveries = await app.request('GET', `/api/webhooks/${hook.id}/deliveries`, { headers: c.owner.headers });
    return { path: `/api/webhooks/${hook.id}/deliveries/${deliveries.body.data[0].deliveryId}/replay`, caller: 'session' };
  },
  // MCP: a tools/call of a write tool; X-Thodare-Agent names the agent as on REST.
  'POST /mcp': async (c) => ({
    path: '/mcp',
    caller: { headers: { ...c.key.headers, accept: 'application/json, text/event-stream' }, actor: { type: 'api_key', id: c.key.id } },
    body: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'workflow_create', arguments: { name: 'audited through MCP' } } },
  }),
  // Public: the URL's token is the credential; the documented actor is the webhook.
  'POST /hooks/:token': async (c) => {
    const hook = await webhook(c);
    return { path: `/hooks/${hook.token}`, caller: 'none', body: { hello: 'audit' }, actor: { type: 'webhook', id: hook.id } };
  },
};

/**
 * Calls of mutating routes that change no state and so append nothing, by design:
 * - `POST /api/workflows/:id/operations?dry_run=true` stores nothing (asserted below);
 * - a replay of an earlier request with the same `Idempotency-Key` answers the stored response;
 * - `PATCH /api/members/:userId` to the role the member already has, revoking a revoked key.
 * No whole route is exempt: each has a fixture above.
 */
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const key = (r: RouteInfo) => `${r.method} ${r.path}`;

beforeAll(async () => {
  app = await startTestApp('audit_completeness');
  const nest = app.running.app;
  routes = listRoutes(nest.get(DiscoveryService, { strict: false }), nest.get(MetadataScanner, { strict: false }), nest.get(Reflector, { strict: false })).filter((r) => MUTATING.has(r.method));
  const owner = await signUp(app);
  ctx = { owner, key: await createApiKey(app, owner.headers, { role: 'owner' }) };
});
afterAll(() => app?.close());

function callerOf(call: Call): { headers: AuthHeaders; actor: Actor | undefined } {
  if (call.caller === 'session') return { headers: ctx.owner.headers, actor: user(ctx.owner.userId) };
  if (call.caller === 'key') return { headers: ctx.key.headers, actor: { type: 'api_key', id: ctx.key.id } };
  if (call.caller === 'none') return { headers: {}, actor: undefined };
  return call.caller;
}

const lastPosition = async () => Number((await app.db.pool.query('SELECT coalesce(max(global_position), 0) AS p FROM events')).rows[0].p);

describe('audit completeness', () => {
  it('has a fixture for every mutating route', () => {
    expect(routes.length).toBeGreaterThan(25);
    const missing = routes.filter((r) => !FIXTURES[key(r)]).map((r) => `${key(r)}: add an entry to FIXTURES in test/e2e/audit-completeness.test.ts (a successful call, and the actor its event must carry)`);
    expect(missing).toEqual([]);
  });

  it("appends, for every mutating route, an event with the caller's actor and agent label", async () => {
    const wrong: string[] = [];
    for (const route of routes.filter((r) => FIXTURES[key(r)])) {
      const call = await FIXTURES[key(route)]!(ctx);
      const caller = callerOf(call);
      const agent = `audit-completeness ${key(route)}`;
      const before = await lastPosition();
      const res = await app.request(route.method, call.path, { headers: { ...caller.headers, 'x-thodare-agent': agent }, ...(call.body === undefined ? {} : { body: call.body }) });
      if (res.status >= 300) {
        wrong.push(`${key(route)}: the call failed (${res.status} ${res.text.slice(0, 160)}); fix its FIXTURES entry`);
        continue;
      }
      const actor = typeof call.actor === 'function' ? call.actor(res) : (call.actor ?? caller.actor);
      const { rows } = await app.db.pool.query<{ type: string; metadata: { actor: Actor; agent?: string } }>(
        'SELECT type, metadata FROM events WHERE global_position > $1 ORDER BY global_position',
        [before],
      );
      const ours = rows.filter((row) => row.metadata.agent === agent);
      if (!ours.some((row) => row.metadata.actor.type === actor?.type && row.metadata.actor.id === actor.id)) {
        wrong.push(`${key(route)}: no event with actor ${JSON.stringify(actor)} and agent "${agent}"; appended: ${JSON.stringify(rows.map((r) => [r.type, r.metadata.actor, r.metadata.agent ?? null]))}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a dry-run patch changes nothing and appends nothing', async () => {
    const workflowId = await createWorkflow(app, ctx.owner.headers, []);
    const before = await lastPosition();
    const res = await app.request('POST', `/api/workflows/${workflowId}/operations?dry_run=true`, { headers: ctx.owner.headers, body: { ops: runnable() } });
    expect(res.status).toBe(200);
    const { rows } = await app.db.pool.query(`SELECT type FROM events WHERE global_position > $1 AND stream_id = $2`, [before, `workflow-${workflowId}`]);
    expect(rows).toEqual([]);
  });
});
