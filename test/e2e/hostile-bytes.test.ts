import { randomBytes, randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { z, type ZodType } from 'zod';
import { MAX_BODY_DEPTH } from '../../src/domain/json-depth';
import { UNREAD_BODY_DROP_BYTES } from '../../src/http/unread-body';
import { listRoutes, type RouteInfo } from '../../src/http/route-catalog';
import { failOnErrorLogs, startTestApp, type TestApp, type TestResponse } from '../support/app';
import { signUp, uniqueEmail, type AuthHeaders } from '../support/auth';

/**
 * Hostile bytes are 4xx, never 500: Postgres cannot store a NUL or an unpaired UTF-16 surrogate,
 * so every route — enumerated from the route catalog, like the route matrix — must refuse them
 * in its body (400 `invalid_body`), query (400 `invalid_query`) and path ids (404: such an id
 * cannot exist) before anything reaches the database.
 */

const NUL = '\u0000';
const LONE = '\ud800';
const HOSTILE = [`a${NUL}b`, `a${LONE}b`];

/** The caller's own resources, so path ids reach real rows. */
interface World {
  userId: string;
  apiKeyId: string;
  invitationId: string;
  invitationToken: string;
  secretName: string;
  workflowId: string;
  runId: string;
}

/** Bodies that pass validation (see route-matrix.test.ts); default `{}`. */
const BODIES: Record<string, unknown> = {
  'PATCH /api/members/:userId': { role: 'viewer' },
  'POST /api/workflows/:id/operations': { ops: [] },
  'POST /api/workflows/:id/revert': { version: 1 },
  'POST /api/workflows/:id/runs': { input: {} },
  'POST /api/runs/:id/signals': { name: 'hostile', payload: {} },
  'POST /api/approvals/:token': { approved: true },
  'PATCH /api/schedules/:id': { paused: true },
};

/** Routes that would end the caller's session if a request got through. */
const SKIP = new Set(['POST /api/auth/sign-out']);

const key = (r: RouteInfo) => `${r.method} ${r.path}`;
const params = (path: string) => [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!);
const hasBody = (r: RouteInfo) => !['GET', 'DELETE', 'HEAD', 'OPTIONS'].includes(r.method);
const fieldsOf = (schema: ZodType | undefined) => (schema instanceof z.ZodObject ? Object.keys(schema.shape) : []);
const describeRes = (res: TestResponse) => `${res.status} ${res.text.slice(0, 140)}`;

let app: TestApp;
let routes: RouteInfo[];
let world: World;
let owner: AuthHeaders;

beforeAll(async () => {
  app = await startTestApp('hostile_bytes', { THODARE_AUTH_RATE_LIMIT_PER_MIN: '100000', THODARE_RATE_LIMIT_PER_MIN: '100000' });
  const nest = app.running.app;
  routes = listRoutes(nest.get(DiscoveryService, { strict: false }), nest.get(MetadataScanner, { strict: false }), nest.get(Reflector, { strict: false })).filter(
    (r) => !SKIP.has(key(r)),
  );
  const user = await signUp(app);
  owner = user.headers;
  world = await buildWorld(user.userId);
});
afterAll(() => app.close());
// None of these requests is the server's fault, so none may log an error: a NUL in a webhook
// token answered 404 all the same, while the rate limiter failed open and logged one each time.
failOnErrorLogs(() => app);

async function buildWorld(userId: string): Promise<World> {
  const ok = (res: TestResponse) => {
    if (res.status >= 300) throw new Error(`setup failed: ${describeRes(res)}`);
    return res.body;
  };
  const apiKey = ok(await app.request('POST', '/api/api-keys', { headers: owner, body: { name: 'hostile', role: 'admin' } }));
  const invitation = ok(await app.request('POST', '/api/invitations', { headers: owner, body: { email: uniqueEmail('invitee'), role: 'viewer' } }));
  const secretName = `HOSTILE_${randomBytes(4).toString('hex').toUpperCase()}`;
  ok(await app.request('POST', '/api/secrets', { headers: owner, body: { name: secretName, value: 'v' } }));
  const workflowId = ok(await app.request('POST', '/api/workflows', { headers: owner, body: { name: 'hostile' } })).id;
  const ops = [{ operation_type: 'add', block_id: 'start', type: 'trigger_manual' }];
  ok(await app.request('POST', `/api/workflows/${workflowId}/operations`, { headers: owner, body: { ops } }));
  const runId = ok(await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner, body: { input: {} } })).runId;
  return { userId, apiKeyId: apiKey.id, invitationId: invitation.id, invitationToken: invitation.token, secretName, workflowId, runId };
}

const RESOURCE_IDS: Record<string, (w: World) => string> = {
  'api-keys': (w) => w.apiKeyId,
  invitations: (w) => w.invitationId,
  members: (w) => w.userId,
  workflows: (w) => w.workflowId,
  secrets: (w) => w.secretName,
  runs: (w) => w.runId,
};

function realParam(name: string, route: RouteInfo): string {
  const resource = route.path.split('/')[2] ?? '';
  if (name === 'id') return RESOURCE_IDS[resource]?.(world) ?? randomUUID();
  if (name === 'userId') return world.userId;
  if (name === 'workflowId') return world.workflowId;
  if (name === 'runId') return world.runId;
  if (name === 'name' && resource === 'secrets') return world.secretName;
  if (name === 'token') return resource === 'invitations' ? world.invitationToken : `tok_${randomBytes(8).toString('hex')}`;
  if (name === 'version') return '1';
  return randomUUID();
}

/** The route's path with real ids, except `hostile` (already URL-encoded) for one parameter. */
function fill(route: RouteInfo, hostile?: { param: string; raw: string }): string {
  return route.path.replace(/:([A-Za-z0-9_]+)/g, (_, name: string) => (hostile?.param === name ? hostile.raw : encodeURIComponent(realParam(name, route))));
}

function send(route: RouteInfo, options: { path?: string; body?: unknown; query?: string } = {}) {
  const body = options.body ?? (hasBody(route) ? (BODIES[key(route)] ?? {}) : undefined);
  const path = `${options.path ?? fill(route)}${options.query ?? ''}`;
  return app.request(route.method, path, { headers: owner, ...(body === undefined ? {} : { body }) });
}

describe('hostile bytes, every route', () => {
  it('a NUL or a lone surrogate in any body field is 400 invalid_body', async () => {
    const wrong: string[] = [];
    const withBodies = routes.filter((r) => hasBody(r) && fieldsOf(r.spec?.body).length > 0);
    expect(withBodies.length).toBeGreaterThan(10);
    for (const route of withBodies) {
      const base = (BODIES[key(route)] ?? {}) as Record<string, unknown>;
      for (const field of fieldsOf(route.spec?.body)) {
        for (const value of HOSTILE) {
          const res = await send(route, { body: { ...base, [field]: value } });
          if (res.status !== 400 || res.body?.error !== 'invalid_body') wrong.push(`${key(route)} ${field}=${JSON.stringify(value)}: ${describeRes(res)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a body with such a key at the top level, or nested, is never a 5xx', async () => {
    const wrong: string[] = [];
    for (const route of routes.filter(hasBody)) {
      const base = (BODIES[key(route)] ?? {}) as Record<string, unknown>;
      for (const value of HOSTILE) {
        for (const body of [{ ...base, [value]: 1 }, { ...base, nested: { [value]: [value] } }]) {
          const res = await send(route, { body });
          if (res.status >= 500) wrong.push(`${key(route)} ${JSON.stringify(body)}: ${describeRes(res)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a body nested deeper than the limit is 400 invalid_body on every route, and on /hooks/ (it was a 500 at 5,000 levels)', async () => {
    // Written as text: JSON.stringify itself overflows the stack near 10,000 levels.
    const nested = (depth: number) => {
      let open = '';
      let close = '';
      for (let i = 0; i < depth; i += 1) {
        open += i % 2 ? '{"d":' : '[';
        close = (i % 2 ? '}' : ']') + close;
      }
      return `${open}"bottom"${close}`;
    };
    const withDeep = (base: Record<string, unknown>, depth: number) => `${JSON.stringify(base).slice(0, -1)}${Object.keys(base).length ? ',' : ''}"deep":${nested(depth)}}`;
    const wrong: string[] = [];
    for (const route of routes.filter(hasBody)) {
      const base = (BODIES[key(route)] ?? {}) as Record<string, unknown>;
      // One level over the limit (the body's own object is a level), far over, and very far.
      for (const depth of [MAX_BODY_DEPTH, 5_000, 100_000]) {
        const res = await app.request(route.method, fill(route), { headers: { ...owner, 'content-type': 'application/json' }, raw: withDeep(base, depth) });
        if (res.status !== 400 || res.body?.error !== 'invalid_body') wrong.push(`${key(route)} depth ${depth}: ${describeRes(res)}`);
      }
    }
    const hook = (await app.request('POST', `/api/workflows/${world.workflowId}/webhooks`, { headers: owner, body: {} })).body as { url: string };
    const delivery = await fetch(hook.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: withDeep({}, 5_000) });
    const answer = (await delivery.json()) as { error?: string };
    if (delivery.status !== 400 || answer.error !== 'invalid_body') wrong.push(`/hooks/: ${delivery.status} ${JSON.stringify(answer)}`);
    expect(wrong).toEqual([]);
  });

  it('a body exactly at the nesting limit is taken: a run input of that depth is stored and read back', async () => {
    let input: unknown = 'bottom';
    for (let i = 0; i < MAX_BODY_DEPTH - 2; i += 1) input = [input]; // the body adds {input: {x: ...}}
    const started = await app.request('POST', `/api/workflows/${world.workflowId}/runs?waitMs=10000`, { headers: owner, body: { input: { x: input } } });
    expect([started.status, started.body.status]).toEqual([200, 'completed']);
    expect(started.body.input).toEqual({ x: input });
  });

  it('a NUL in any query field is 400 invalid_query', async () => {
    const wrong: string[] = [];
    for (const route of routes.filter((r) => fieldsOf(r.spec?.query).length > 0)) {
      for (const field of fieldsOf(route.spec?.query)) {
        const res = await send(route, { query: `?${encodeURIComponent(field)}=a%00b` });
        if (res.status !== 400 || res.body?.error !== 'invalid_query') wrong.push(`${key(route)} ?${field}=a%00b: ${describeRes(res)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('%00 in any path id is 404 not_found; other undecodable ids are 4xx', async () => {
    const wrong: string[] = [];
    const withParams = routes.filter((r) => params(r.path).length > 0);
    expect(withParams.length).toBeGreaterThan(10);
    for (const route of withParams) {
      for (const param of params(route.path)) {
        const res = await send(route, { path: fill(route, { param, raw: '%00' }) });
        if (res.status !== 404 || res.body?.error !== 'not_found') wrong.push(`${key(route)} :${param}=%00: ${describeRes(res)}`);
        for (const raw of ['a%00b', '%ED%A0%80', '%E0%A4%A']) {
          const odd = await send(route, { path: fill(route, { param, raw }) });
          if (odd.status < 400 || odd.status >= 500) wrong.push(`${key(route)} :${param}=${raw}: ${describeRes(odd)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('hostile bytes, documented answers', () => {
  const post = (path: string, body: unknown) => app.request('POST', path, { headers: owner, body });

  it('names the field in a stored string: workflow name, block id, param key, run input, signal', async () => {
    const cases: [string, unknown, string][] = [
      ['/api/workflows', { name: `w${NUL}` }, 'name'],
      ['/api/workflows', { name: 'w', description: `d${LONE}` }, 'description'],
      [`/api/workflows/${world.workflowId}/operations`, { ops: [{ operation_type: 'add', block_id: `b${LONE}`, type: 'trigger_manual' }] }, 'block_id'],
      [`/api/workflows/${world.workflowId}/operations`, { ops: [{ operation_type: 'add', block_id: 'b', type: `t${NUL}` }] }, 'type'],
      [`/api/workflows/${world.workflowId}/runs`, { input: { [`k${NUL}`]: 'v' } }, 'input'],
      [`/api/workflows/${world.workflowId}/runs`, { input: { k: [`v${LONE}`] } }, 'input.k[0]'],
      [`/api/runs/${world.runId}/signals`, { name: `s${NUL}`, payload: {} }, 'name'],
      [`/api/runs/${world.runId}/signals`, { name: 's', payload: { p: LONE } }, 'payload.p'],
    ];
    for (const [path, body, field] of cases) {
      const res = await post(path, body);
      expect([path, res.status, res.body?.error]).toEqual([path, 400, 'invalid_body']);
      expect(res.body.message).toContain(field);
    }
  });

  it('answers 404 for ids that cannot exist and 400 invalid_query for a hostile filter', async () => {
    for (const path of ['/api/runs/%00', '/api/workflows/%00', `/api/runs/%00/events`, `/api/workflows/%00/history`]) {
      const res = await app.request('GET', path, { headers: owner });
      expect([path, res.status, res.body?.error]).toEqual([path, 404, 'not_found']);
    }
    const res = await app.request('GET', '/api/runs?workflowId=%00', { headers: owner });
    expect([res.status, res.body?.error]).toEqual([400, 'invalid_query']);
    expect(res.body.message).toContain('workflowId');
  });

  it('a malformed session cookie is no credential: 401, not 500', async () => {
    for (const value of ['%E0%A4%A', '%00', 'ths_%ZZ']) {
      const res = await app.request('GET', '/api/workflows', { headers: { cookie: `thodare_session=${value}` } });
      expect([value, res.status, res.body?.error]).toEqual([value, 401, 'unauthorized']);
    }
  });

  it('an endless body stops being read at the body limit, on /hooks/ (kept raw for signatures) as on any route: 413', async () => {
    // 64 MB offered in 256 KB chunks, chunked or announced by a content-length: how much the
    // server let the client write before it answered.
    const offer = (path: string, announced = false) =>
      new Promise<{ status: number; error?: string; sentMb: number }>((resolve, reject) => {
        const chunk = Buffer.alloc(256 * 1024, 0x20);
        let sent = 0;
        let answered = false;
        const headers = { 'content-type': 'application/json', ...(announced ? { 'content-length': String(64 * 2 ** 20 + 9) } : {}) };
        const req = httpRequest(`${app.url}${path}`, { method: 'POST', headers }, (res) => {
          answered = true;
          let text = '';
          res.on('data', (d: Buffer) => (text += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, error: (JSON.parse(text || '{}') as { error?: string }).error, sentMb: Math.round(sent / 2 ** 20) }));
        });
        req.on('error', (error) => (answered ? undefined : reject(error)));
        const pump = () => {
          while (!answered && sent < 64 * 2 ** 20) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        req.write('{"blob":"');
        pump();
      });
    const limitMb = app.config.bodyLimit / 2 ** 20;
    for (const path of ['/hooks/not-a-real-token-at-all', `/api/workflows/${world.workflowId}/operations`]) {
      for (const announced of [false, true]) {
        const answer = await offer(path, announced);
        expect([path, announced, answer.status, answer.error]).toEqual([path, announced, 413, 'payload_too_large']);
        // Refused near the limit, not after reading (and holding) everything that was offered.
        expect(answer.sentMb).toBeLessThan(limitMb + 16);
      }
    }
  });

  it('a client still writing past the limit reads the 413, not a reset, however late it reads', async () => {
    // A client that writes its whole body before reading (many do) keeps writing after the 413 is
    // sent. A server that closes at once has unread bytes in its socket; the close then sends a
    // reset, and the reset throws away the 413 waiting, unread, in the client's buffer.
    const limit = app.config.bodyLimit;
    const { hostname, port } = new URL(app.url);
    const offer = (path: string, announced: boolean) =>
      new Promise<string>((resolve) => {
        let text = '';
        const socket = connect(Number(port), hostname);
        socket.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          if (text.includes('\r\n\r\n')) socket.destroy();
        });
        socket.pause(); // read nothing until the writing is over: the answer waits in the kernel
        socket.on('error', () => undefined); // a reset: what was read so far is the answer
        socket.on('close', () => resolve(text.split('\r\n')[0] ?? ''));
        socket.on('connect', () => {
          const framing = announced ? `content-length: ${limit * 4}\r\n` : 'transfer-encoding: chunked\r\n';
          const bytes = (n: number) => (announced ? Buffer.alloc(n, 0x20) : Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), Buffer.alloc(n, 0x20), Buffer.from('\r\n')]));
          socket.write(`POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\n${framing}\r\n`);
          socket.write(bytes(limit + 1024));
          // Time for the server to answer (and, before the fix, to close); then more of the body,
          // and only then read.
          setTimeout(() => {
            socket.write(bytes(256 * 1024));
            setTimeout(() => socket.resume(), 300);
          }, 500);
        });
      });
    for (const path of ['/hooks/not-a-real-token-at-all', `/api/workflows/${world.workflowId}/operations`]) {
      for (const announced of [false, true]) {
        expect([path, announced, await offer(path, announced)]).toEqual([path, announced, 'HTTP/1.1 413 Payload Too Large']);
      }
    }
    // What is dropped after the answer is bounded: a client that never stops writing (and never
    // reads) is cut off once UNREAD_BODY_DROP_BYTES more have arrived.
    const endless = (path: string) =>
      new Promise<number>((resolve) => {
        let sent = 0;
        const chunk = Buffer.concat([Buffer.from(`${(256 * 1024).toString(16)}\r\n`), Buffer.alloc(256 * 1024, 0x20), Buffer.from('\r\n')]);
        const socket = connect(Number(port), hostname);
        socket.pause();
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(sent));
        const pump = () => {
          while (!socket.destroyed && sent < 256 * 2 ** 20) {
            sent += chunk.length;
            if (!socket.write(chunk)) return void socket.once('drain', pump);
          }
          socket.destroy(); // never cut off
        };
        socket.on('connect', () => {
          socket.write(`POST ${path} HTTP/1.1\r\nhost: ${hostname}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`);
          pump();
        });
      });
    for (const path of ['/hooks/not-a-real-token-at-all', `/api/workflows/${world.workflowId}/operations`]) {
      expect(await endless(path)).toBeLessThan(limit + UNREAD_BODY_DROP_BYTES + 16 * 2 ** 20);
    }
  });

  it('a body that is not JSON is 415 unsupported_media_type', async () => {
    const json = JSON.stringify({ email: uniqueEmail(), password: 'long enough password' });
    for (const contentType of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', 'application/xml']) {
      const res = await fetch(`${app.url}/api/auth/sign-up`, { method: 'POST', headers: { 'content-type': contentType }, body: json });
      expect([contentType, res.status, ((await res.json()) as { error?: string }).error]).toEqual([contentType, 415, 'unsupported_media_type']);
    }
    const untyped = await fetch(`${app.url}/api/auth/sign-up`, { method: 'POST', body: new Blob([json]) });
    expect(untyped.status).toBe(415);
    const res = await app.request('POST', `/api/workflows/${world.workflowId}/operations`, { headers: { ...owner, 'content-type': 'text/plain' }, raw: '{"ops":[]}' });
    expect([res.status, res.body?.error]).toEqual([415, 'unsupported_media_type']);
  });
});
