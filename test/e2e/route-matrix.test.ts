import { randomBytes, randomUUID } from 'node:crypto';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { listRoutes, type RouteInfo } from '../../src/http/route-catalog';
import { failOnErrorLogs, startTestApp, type TestApp } from '../support/app';
import { createApiKey, signUp, uniqueEmail, type AuthHeaders } from '../support/auth';

/**
 * The route matrix: every route the app registers — including routes added after this file
 * was written — must (1) answer 401 without credentials unless it is one of the documented
 * public routes, and (2) answer 404 when organization A names anything of organization B.
 *
 * When this test fails for a route you added, it tells you which table below to extend.
 */

/** The documented public routes (API.md). A route marked @Public() that is not here fails. */
const PUBLIC_ROUTES = new Set([
  'GET /', // links to the docs, the API and the probes (README, additions to the API contract)
  'GET /health',
  'GET /ready',
  'GET /metrics', // behind THODARE_METRICS_TOKEN when it is set (test/e2e/metrics.test.ts)
  'GET /openapi.json',
  'GET /docs',
  'GET /docs/init.js',
  'GET /docs/swagger-ui.css',
  'GET /docs/swagger-ui-bundle.js',
  'POST /api/auth/sign-up',
  'POST /api/auth/sign-in',
  'GET /api/approvals/:token',
  'POST /api/approvals/:token',
  'POST /hooks/:token',
]);

/** Organization B's resources, made through the API before the matrix runs. */
interface World {
  organizationId: string;
  ownerUserId: string;
  email: string;
  apiKeyId: string;
  invitationId: string;
  invitationToken: string;
  secretName: string | undefined;
  workflowId: string | undefined;
  runId: string | undefined;
  scheduleId: string | undefined;
  webhookId: string | undefined;
  deliveryId: string | undefined;
}

/** `/api/<resource>/…` → the resource segment. */
const resourceOf = (path: string) => path.split('/')[2] ?? '';

/**
 * B-owned ids for `:id`, by resource. A resource missing here still gets a random id (which must
 * be 404 too), but add it: only a real B-owned id proves the route checks the organization.
 */
const RESOURCE_IDS: Record<string, (b: World) => string | undefined> = {
  'api-keys': (b) => b.apiKeyId,
  invitations: (b) => b.invitationId,
  members: (b) => b.ownerUserId,
  workflows: (b) => b.workflowId,
  secrets: (b) => b.secretName,
  runs: (b) => b.runId,
  schedules: (b) => b.scheduleId,
  webhooks: (b) => b.webhookId,
};

const randomToken = () => `tok_${randomBytes(16).toString('hex')}`;

/**
 * How to fill each path parameter, by name. A route whose parameter is not here FAILS this test:
 * add an entry that returns something organization B owns (extend `buildWorld` to create it).
 * Entries marked "random" are for resources not yet creatable here; they must still be 404.
 */
const PARAM_FIXTURES: Record<string, (b: World, route: RouteInfo) => string> = {
  id: (b, route) => RESOURCE_IDS[resourceOf(route.path)]?.(b) ?? randomUUID(),
  userId: (b) => b.ownerUserId,
  token: (b, route) => (route.path.startsWith('/api/invitations/') ? b.invitationToken : randomToken()),
  name: (b, route) => (resourceOf(route.path) === 'secrets' ? b.secretName : undefined) ?? `NAME_${randomBytes(4).toString('hex')}`,
  // The connector catalog is global, not a tenant's: an unknown type must simply be 404.
  type: () => `no_such_connector_${randomBytes(4).toString('hex')}`,
  version: () => '1',
  workflowId: (b) => b.workflowId ?? randomUUID(),
  runId: (b) => b.runId ?? randomUUID(),
  scheduleId: (b) => b.scheduleId ?? randomUUID(),
  webhookId: (b) => b.webhookId ?? randomUUID(),
  deliveryId: (b) => b.deliveryId ?? randomUUID(),
};

/** Bodies that pass validation, so the handler (and its tenant check) is reached. Default `{}`. */
const BODIES: Record<string, unknown> = {
  'PATCH /api/members/:userId': { role: 'viewer' },
  'POST /api/workflows/:id/operations': { ops: [] },
  'POST /api/workflows/:id/revert': { version: 1 },
  'POST /api/workflows/:id/runs': { input: {} },
  'POST /api/runs/:id/signals': { name: 'route-matrix', payload: {} },
  'POST /api/approvals/:token': { approved: true },
  'PATCH /api/schedules/:id': { paused: true },
  'POST /api/schedules/:id/backfill': { from: '2026-01-01T00:00:00Z', to: '2026-01-01T01:00:00Z' },
};

const key = (r: RouteInfo) => `${r.method} ${r.path}`;
const params = (path: string) => [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);

let app: TestApp;
let routes: RouteInfo[];
let world: World;
let a: { session: AuthHeaders; key: AuthHeaders };
let bSession: AuthHeaders;

beforeAll(async () => {
  app = await startTestApp('route_matrix', { THODARE_AUTH_RATE_LIMIT_PER_MIN: '10000', THODARE_RATE_LIMIT_PER_MIN: '100000' });
  const nest = app.running.app;
  routes = listRoutes(nest.get(DiscoveryService, { strict: false }), nest.get(MetadataScanner, { strict: false }), nest.get(Reflector, { strict: false }));
  const ownerA = await signUp(app);
  a = { session: ownerA.headers, key: (await createApiKey(app, ownerA.headers, { role: 'owner' })).headers };
  const ownerB = await signUp(app);
  bSession = ownerB.headers;
  world = await buildWorld(ownerB);
});
afterAll(() => app.close());
// A request for another organization's resource is the caller's mistake: nothing to log as an error.
failOnErrorLogs(() => app);

async function buildWorld(b: Awaited<ReturnType<typeof signUp>>): Promise<World> {
  const apiKey = await createApiKey(app, b.headers, { role: 'admin' });
  const invitation = await app.request('POST', '/api/invitations', { headers: b.headers, body: { email: uniqueEmail('b-invitee'), role: 'viewer' } });
  const has = (k: string) => routes.some((r) => key(r) === k);
  let secretName: string | undefined;
  if (has('POST /api/secrets')) {
    const name = `B_SECRET_${randomBytes(4).toString('hex').toUpperCase()}`;
    const res = await app.request('POST', '/api/secrets', { headers: b.headers, body: { name, value: 'b-only' } });
    if (res.status === 201) secretName = name;
  }
  let workflowId: string | undefined;
  if (has('POST /api/workflows')) {
    const res = await app.request('POST', '/api/workflows', { headers: b.headers, body: { name: 'b-workflow' } });
    if (res.status === 201) workflowId = res.body.id;
  }
  let runId: string | undefined;
  if (workflowId && has('POST /api/workflows/:id/runs')) {
    const ops = [{ operation_type: 'add', block_id: 'start', type: 'trigger_manual' }];
    await app.request('POST', `/api/workflows/${workflowId}/operations`, { headers: b.headers, body: { ops } });
    const res = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: b.headers, body: { input: {} } });
    if (res.status < 300) runId = res.body.runId;
  }
  let scheduleId: string | undefined;
  if (workflowId && has('POST /api/schedules')) {
    const res = await app.request('POST', '/api/schedules', { headers: b.headers, body: { workflowId, cron: '0 0 1 1 *' } });
    if (res.status === 201) scheduleId = res.body.id;
  }
  let webhookId: string | undefined;
  let deliveryId: string | undefined;
  if (workflowId && has('POST /api/workflows/:id/webhooks')) {
    const res = await app.request('POST', `/api/workflows/${workflowId}/webhooks`, { headers: b.headers, body: {} });
    if (res.status === 201) {
      webhookId = res.body.id;
      await fetch(res.body.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const deliveries = await app.request('GET', `/api/webhooks/${webhookId}/deliveries`, { headers: b.headers });
      deliveryId = deliveries.body.data?.[0]?.deliveryId;
    }
  }
  return {
    organizationId: b.organizationId,
    ownerUserId: b.userId,
    email: b.email,
    apiKeyId: apiKey.id,
    invitationId: invitation.body.id,
    invitationToken: invitation.body.token,
    secretName,
    workflowId,
    runId,
    scheduleId,
    webhookId,
    deliveryId,
  };
}

function fill(route: RouteInfo): string {
  return route.path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => {
    const fixture = PARAM_FIXTURES[name];
    if (!fixture) throw new Error(`no fixture for :${name}`);
    return encodeURIComponent(fixture(world, route));
  });
}

function send(route: RouteInfo, headers: AuthHeaders) {
  const body = BODIES[key(route)] ?? (route.method === 'GET' || route.method === 'DELETE' ? undefined : {});
  return app.request(route.method, fill(route), { headers, ...(body === undefined ? {} : { body }) });
}

describe('route matrix', () => {
  it('enumerates the routes, and only the documented ones are public', () => {
    expect(routes.length).toBeGreaterThan(20);
    expect(routes.map(key)).toEqual(expect.arrayContaining(['POST /api/api-keys', 'GET /api/members', 'DELETE /api/members/:userId']));
    const undocumented = routes.filter((r) => r.public && !PUBLIC_ROUTES.has(key(r))).map(key);
    expect(undocumented).toEqual([]); // a new public route must be documented in API.md and added to PUBLIC_ROUTES
  });

  it("organization B's world was really built (so the 404s below are about tenancy)", () => {
    expect(world.apiKeyId).toBeTruthy();
    expect(world.invitationToken).toMatch(/^thi_/);
    for (const [resource, route] of [['workflowId', 'POST /api/workflows'], ['secretName', 'POST /api/secrets'], ['runId', 'POST /api/workflows/:id/runs']] as const) {
      if (routes.some((r) => key(r) === route)) expect([resource, world[resource]]).toEqual([resource, expect.any(String)]);
    }
  });

  it('every path parameter has a fixture', () => {
    const missing = routes.flatMap((r) =>
      params(r.path)
        .filter((p) => !PARAM_FIXTURES[p])
        .map((p) => `${key(r)}: add PARAM_FIXTURES["${p}"] in test/e2e/route-matrix.test.ts, returning something organization B owns (create it in buildWorld)`),
    );
    expect(missing).toEqual([]);
  });

  it('every non-public route answers 401 unauthorized without credentials or with bad ones', async () => {
    const wrong: string[] = [];
    for (const route of routes.filter((r) => !r.public && params(r.path).every((p) => PARAM_FIXTURES[p]))) {
      for (const headers of [{}, { authorization: 'Bearer ths_not-a-session' }, { 'x-api-key': 'thd_not-a-key' }] as AuthHeaders[]) {
        const res = await send(route, headers);
        if (res.status !== 401 || res.body?.error !== 'unauthorized') wrong.push(`${key(route)} with ${JSON.stringify(Object.keys(headers))}: ${res.status} ${res.text.slice(0, 120)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("every route with a path parameter answers 404 when organization A names organization B's things", async () => {
    const wrong: string[] = [];
    const scoped = routes.filter((r) => !r.public && params(r.path).length > 0 && params(r.path).every((p) => PARAM_FIXTURES[p]));
    expect(scoped.length).toBeGreaterThan(5);
    for (const route of scoped) {
      for (const [mode, headers] of Object.entries(a)) {
        const res = await send(route, headers);
        if (res.status === 400 && /^invalid_(body|query)$/.test(res.body?.error)) {
          wrong.push(`${key(route)}: the request body was refused (${res.text.slice(0, 160)}); add a valid body to BODIES in test/e2e/route-matrix.test.ts`);
        } else if (res.status !== 404) {
          wrong.push(`${key(route)} as A's ${mode}: expected 404 for B's id, got ${res.status} ${res.text.slice(0, 160)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("B can read those same ids, so the 404s above are tenancy, not bad fixtures", async () => {
    const wrong: string[] = [];
    for (const route of routes.filter((r) => !r.public && r.method === 'GET' && params(r.path).length > 0 && RESOURCE_IDS[resourceOf(r.path)]?.(world))) {
      const res = await send(route, bSession);
      if (res.status === 404 || res.status === 401) wrong.push(`${key(route)} as B: ${res.status} ${res.text.slice(0, 160)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('public routes with a token answer 404 to an unknown one', async () => {
    const wrong: string[] = [];
    for (const route of routes.filter((r) => r.public && params(r.path).length > 0)) {
      const res = await send(route, {});
      if (res.status === 400 && /^invalid_(body|query)$/.test(res.body?.error)) {
        wrong.push(`${key(route)}: the request body was refused (${res.text.slice(0, 160)}); add a valid body to BODIES in test/e2e/route-matrix.test.ts`);
      } else if (res.status !== 404) wrong.push(`${key(route)}: ${res.status} ${res.text.slice(0, 160)}`);
    }
    expect(wrong).toEqual([]);
  });

  it("no list route shows organization A anything of organization B's", async () => {
    const secrets = [world.organizationId, world.ownerUserId, world.email, world.apiKeyId, world.invitationId, world.secretName, world.workflowId, world.runId].filter(
      (v): v is string => typeof v === 'string',
    );
    const wrong: string[] = [];
    for (const route of routes.filter((r) => !r.public && r.method === 'GET' && params(r.path).length === 0)) {
      for (const [mode, headers] of Object.entries(a)) {
        const res = await send(route, headers);
        const leaked = secrets.filter((s) => res.text.includes(s));
        if (leaked.length) wrong.push(`${key(route)} as A's ${mode} shows B's ${leaked.join(', ')}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
