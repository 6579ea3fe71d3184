import { EventStore } from '../../src/event-store/event-store';
import { encodeCursor } from '../../src/http/keyset';
import { startTestApp, type TestApp } from '../support/app';
import { readUntil } from '../support/database';
import { addMember, createApiKey, signUp, type AuthHeaders, type SignedUp } from '../support/auth';

let app: TestApp;
let owner: SignedUp;
let other: SignedUp;

beforeAll(async () => {
  app = await startTestApp('audit_events');
  owner = await signUp(app);
  other = await signUp(app);
});
afterAll(() => app?.close());

const trail = (headers: AuthHeaders, query = '') => app.request('GET', `/api/audit/events${query}`, { headers });

/** Every page of `query`, following `next`. */
async function allPages(headers: AuthHeaders, query: string, limit: number) {
  const items = [];
  let after: string | null = null;
  for (let pages = 0; pages < 1000; pages++) {
    const res = await trail(headers, `?${query}&limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ''}`);
    expect(res.status).toBe(200);
    items.push(...res.body.data);
    after = res.body.next;
    if (!after) return items;
  }
  throw new Error('paging never ended');
}

async function ndjson(headers: AuthHeaders, query = '') {
  const res = await fetch(`${app.url}/api/audit/events?${query}`, { headers: { ...headers, accept: 'application/x-ndjson' } });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text, items: text.split('\n').filter(Boolean).map((line) => JSON.parse(line)) };
}

describe('GET /api/audit/events', () => {
  it("records security events with the caller's actor and agent, and never the password", async () => {
    const agent = { 'x-thodare-agent': 'audit-test/1.0' };
    const member = await addMember(app, owner, 'member');
    const wrong = await app.request('POST', '/api/auth/sign-in', { headers: agent, body: { email: member.email, password: 'not-the-password-at-all' } });
    expect(wrong.status).toBe(401);
    const signedIn = await app.request('POST', '/api/auth/sign-in', { headers: { ...agent, 'user-agent': 'audit-ua/2' }, body: { email: member.email, password: member.password } });
    expect(signedIn.status).toBe(200);
    const key = await createApiKey(app, { ...owner.headers, ...agent });
    expect((await app.request('DELETE', `/api/api-keys/${key.id}`, { headers: { ...owner.headers, ...agent } })).status).toBe(204);
    expect((await app.request('PATCH', `/api/members/${member.userId}`, { headers: { ...owner.headers, ...agent }, body: { role: 'viewer' } })).status).toBe(200);
    expect((await app.request('POST', '/api/auth/sign-out', { headers: { authorization: `Bearer ${signedIn.body.token}`, ...agent } })).status).toBe(204);

    // The trail stops below the server's oldest open writing transaction (see `readUntil`): a
    // projection's pass still open may hold back the last events for a moment.
    const events = await readUntil(
      () => allPages(owner.headers, 'agent=audit-test%2F1.0', 100),
      (items) => items.some((e) => e.type === 'UserSignedOut'),
    );
    const byType = (type: string) => events.filter((e) => e.type === type);
    const memberActor = { type: 'user', id: member.userId };
    const ownerActor = { type: 'user', id: owner.userId };
    expect(byType('UserSignInFailed')).toEqual([
      expect.objectContaining({ streamId: `user-${member.userId}-org-${owner.organizationId}`, actor: { type: 'system', id: 'anonymous' }, data: expect.objectContaining({ userId: member.userId, reason: 'wrong_password', method: 'password' }) }),
    ]);
    expect(byType('UserSignedIn')).toEqual([
      expect.objectContaining({ actor: memberActor, agent: 'audit-test/1.0', data: expect.objectContaining({ method: 'password', userAgent: 'audit-ua/2', clientAddress: expect.any(String), sessionId: expect.any(String) }) }),
    ]);
    expect(byType('UserSignedOut')).toEqual([expect.objectContaining({ actor: memberActor, data: { userId: member.userId, sessionId: byType('UserSignedIn')[0].data.sessionId } })]);
    expect(byType('ApiKeyCreated')).toEqual([expect.objectContaining({ actor: ownerActor, data: expect.objectContaining({ apiKeyId: key.id }) })]);
    expect(byType('ApiKeyRevoked')).toEqual([expect.objectContaining({ actor: ownerActor, data: { apiKeyId: key.id } })]);
    expect(byType('MemberRoleChanged')).toEqual([expect.objectContaining({ actor: ownerActor, data: { userId: member.userId, from: 'member', to: 'viewer' } })]);
    for (const event of events) {
      expect(event).toEqual(expect.objectContaining({ requestId: expect.any(String), correlationId: expect.any(String), causationId: expect.any(String), recordedAt: expect.any(String) }));
    }
    expect(JSON.stringify(events)).not.toContain('not-the-password-at-all');
    expect(JSON.stringify(events)).not.toContain(member.password);
  });

  it('files failed sign-ins for an unknown email under the platform, keyed by a hash, where no tenant reads them', async () => {
    const email = `nobody-${Date.now()}@example.test`;
    expect((await app.request('POST', '/api/auth/sign-in', { body: { email, password: 'guess-guess-guess' } })).status).toBe(401);
    const { rows } = await app.db.pool.query(`SELECT stream_id, data::text AS data FROM events WHERE organization_id = '_platform' AND type = 'UserSignInFailed'`);
    expect(rows).toHaveLength(1);
    expect(rows[0].stream_id).toMatch(/^signin-[0-9a-f]{64}$/);
    expect(rows[0].data).not.toContain(email);
    expect(rows[0].data).not.toContain('guess-guess-guess');
    expect(JSON.parse(rows[0].data)).toMatchObject({ userId: null, reason: 'unknown_email' });
    expect((await ndjson(owner.headers, 'type=UserSignInFailed')).text).not.toContain('unknown_email');
  });

  it('pages in commit order with after, and the NDJSON stream is the same range', async () => {
    // More than one stream batch (200), so the stream has to carry on from batch to batch.
    const store = app.running.app.get(EventStore);
    const bulk = Array.from({ length: 450 }, (_, i) => ({ type: 'AuditBulkTested', data: { i } }));
    await store.append(`audit-bulk-${owner.organizationId}`, 0, bulk, { organizationId: owner.organizationId, metadata: { actor: { type: 'system', id: 'test' }, agent: 'bulk' } });
    // The trail stops below the server's oldest open writing transaction (see `readUntil`).
    await readUntil(() => allPages(owner.headers, 'agent=bulk', 500), (items) => items.length >= bulk.length);
    const pages = await allPages(owner.headers, '', 37);
    const streamed = await ndjson(owner.headers);
    expect(streamed.status).toBe(200);
    expect(streamed.type).toMatch(/^application\/x-ndjson/);
    expect(streamed.text.endsWith('\n')).toBe(true);
    expect(streamed.items).toEqual(pages);
    expect(pages.filter((e) => e.type === 'AuditBulkTested').map((e) => e.data.i)).toEqual(bulk.map((e) => e.data.i));
    const order = pages.map((e) => [BigInt(e.transactionId), e.position] as const);
    for (let i = 1; i < order.length; i++) {
      const [t0, p0] = order[i - 1]!;
      const [t1, p1] = order[i]!;
      expect(t1 > t0 || (t1 === t0 && p1 > p0)).toBe(true);
    }
    // Resuming from any event's cursor gives exactly what follows it, in both forms.
    const middle = pages[200];
    const rest = await ndjson(owner.headers, `after=${encodeURIComponent(middle.cursor)}`);
    expect(rest.items).toEqual(pages.slice(201));
    expect((await trail(owner.headers, `?after=${encodeURIComponent(middle.cursor)}&limit=2`)).body.data).toEqual(pages.slice(201, 203));
  });

  it('cuts pages at 4 MiB of events past the first, and pages and the NDJSON stream still hold every event', async () => {
    // A run of 40 steps each outputting a 250 KB input: ~20 MB of events. Before: one page of
    // them all (and NDJSON batches of 200 events), read whole into memory.
    const user = await signUp(app);
    const ops: unknown[] = [{ operation_type: 'add', block_id: 'start', type: 'trigger_manual', params: {} }];
    for (let i = 1; i <= 40; i += 1) {
      ops.push({ operation_type: 'add', block_id: `s${i}`, type: 'transform', params: { template: '{{trigger.s}}' } });
      ops.push({ operation_type: 'connect', block_id: i === 1 ? 'start' : `s${i - 1}`, target_block_id: `s${i}` });
    }
    const wf = await app.request('POST', '/api/workflows', { headers: user.headers, body: {} });
    expect((await app.request('POST', `/api/workflows/${wf.body.id}/operations`, { headers: user.headers, body: { ops } })).body.ok).toBe(true);
    const run = await app.request('POST', `/api/workflows/${wf.body.id}/runs?waitMs=20000`, { headers: user.headers, body: { input: { s: 'x'.repeat(250_000) } } });
    expect(run.body.status).toBe('completed');
    // The run's events are committed with its end: the trail holds them all now.
    const pages: number[] = [];
    let after: string | null = null;
    for (;;) {
      const res = await trail(user.headers, `?limit=500${after ? `&after=${encodeURIComponent(after)}` : ''}`);
      expect(res.status).toBe(200);
      if (res.body.data.length > 1) expect(res.text.length).toBeLessThan(4 * 2 ** 20 + 64 * 1024);
      pages.push(res.body.data.length);
      after = res.body.next;
      if (!after) break;
    }
    expect(pages.length).toBeGreaterThan(3);
    const all = await allPages(user.headers, '', 500);
    expect(all.length).toBe(pages.reduce((sum, count) => sum + count, 0));
    expect(all.filter((event: { streamId: string }) => event.streamId === `run-${run.body.id}`).length).toBeGreaterThan(80);
    expect((await ndjson(user.headers)).items.map((event: { position: number }) => event.position)).toEqual(all.map((event: { position: number }) => event.position));
  });

  it('filters by type (a list), stream, actor, agent and time', async () => {
    const all = await allPages(owner.headers, '', 500);
    const types = await allPages(owner.headers, 'type=MemberAdded,OrganizationCreated', 500);
    expect(types).toEqual(all.filter((e) => ['MemberAdded', 'OrganizationCreated'].includes(e.type)));
    expect(types.length).toBeGreaterThan(1);
    expect(await allPages(owner.headers, 'type=MemberAdded&type=OrganizationCreated', 500)).toEqual(types);
    const stream = `org-${owner.organizationId}`;
    expect(await allPages(owner.headers, `streamId=${stream}`, 500)).toEqual(all.filter((e) => e.streamId === stream));
    expect(await allPages(owner.headers, `actor=user:${owner.userId}`, 500)).toEqual(all.filter((e) => e.actor.type === 'user' && e.actor.id === owner.userId));
    expect(await allPages(owner.headers, `actor=${owner.userId}`, 500)).toEqual(all.filter((e) => e.actor.id === owner.userId));
    expect(await allPages(owner.headers, 'actor=api_key:' + owner.userId, 500)).toEqual([]);
    expect(await allPages(owner.headers, 'agent=bulk', 500)).toHaveLength(450);
    const cut = all[Math.floor(all.length / 2)].recordedAt as string;
    const from = await allPages(owner.headers, `from=${encodeURIComponent(cut)}`, 500);
    const to = await allPages(owner.headers, `to=${encodeURIComponent(cut)}`, 500);
    expect(from).toEqual(all.filter((e) => e.recordedAt >= cut));
    expect(to).toEqual(all.filter((e) => e.recordedAt < cut));
    expect((await ndjson(owner.headers, 'type=MemberAdded,OrganizationCreated')).items).toEqual(types);
  });

  it('answers 400 invalid_query for bad filters and for cursors it did not return', async () => {
    const forged = [
      'garbage',
      encodeCursor(['1', 'x']),
      encodeCursor(['not-an-xid', 1]),
      encodeCursor(['99999999999999999999', 1]),
      encodeCursor(['1', -1]),
      encodeCursor(['2026-01-01T00:00:00.000Z', 'some-id']), // another list's cursor
    ];
    for (const after of forged) {
      const res = await trail(owner.headers, `?after=${encodeURIComponent(after)}`);
      expect([after, res.status, res.body.error]).toEqual([after, 400, 'invalid_query']);
      expect((await ndjson(owner.headers, `after=${encodeURIComponent(after)}`)).status).toBe(400);
    }
    for (const query of ['limit=0', 'limit=501', 'type=bad%20type', 'from=yesterday', 'from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', `agent=${'a'.repeat(201)}`]) {
      const res = await trail(owner.headers, `?${query}`);
      expect([query, res.status, res.body.error]).toEqual([query, 400, 'invalid_query']);
    }
  });

  it('is for admins: members and viewers get 403, with a session or a key', async () => {
    const member = await addMember(app, owner, 'member');
    const viewer = await addMember(app, owner, 'viewer');
    const memberKey = await createApiKey(app, owner.headers, { role: 'member' });
    for (const headers of [member.headers, viewer.headers, memberKey.headers]) {
      expect((await trail(headers)).status).toBe(403);
      expect((await ndjson(headers)).status).toBe(403);
    }
    const adminKey = await createApiKey(app, owner.headers, { role: 'admin' });
    expect((await trail(adminKey.headers)).status).toBe(200);
  });

  it("never shows another organization's events", async () => {
    await createApiKey(app, { ...other.headers, 'x-thodare-agent': 'other-org' });
    const mine = await ndjson(owner.headers);
    const theirs = await ndjson(other.headers);
    expect(theirs.items.length).toBeGreaterThan(0);
    expect(mine.text).not.toContain(other.organizationId);
    expect(mine.text).not.toContain(other.userId);
    expect(theirs.text).not.toContain(owner.organizationId);
    expect(theirs.items.some((e) => e.agent === 'bulk')).toBe(false);
    expect((await trail(owner.headers, `?streamId=org-${other.organizationId}`)).body.data).toEqual([]);
  });

  it('is described in /openapi.json with its filters and item shape', async () => {
    const doc = (await app.request('GET', '/openapi.json')).body;
    const op = doc.paths['/api/audit/events'].get;
    expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['after', 'limit', 'type', 'streamId', 'actor', 'agent', 'from', 'to']));
    // Items are the named AuditEvent component.
    expect(op.responses['200'].content['application/json'].schema.properties.data.items).toEqual({ $ref: '#/components/schemas/AuditEvent' });
    const item = doc.components.schemas.AuditEvent;
    expect(Object.keys(item.properties)).toEqual(expect.arrayContaining(['position', 'cursor', 'streamId', 'type', 'data', 'actor', 'agent', 'requestId', 'causationId', 'correlationId']));
  });
});
