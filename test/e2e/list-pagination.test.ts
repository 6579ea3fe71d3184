import { startTestApp, type TestApp } from '../support/app';
import { addMember, createApiKey, signUp, type SignedUp } from '../support/auth';

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  anyOf?: JsonSchema[];
  $ref?: string;
}

let app: TestApp;
let owner: SignedUp;
beforeAll(async () => {
  app = await startTestApp('list_pagination');
  owner = await signUp(app);
  for (const role of ['admin', 'member', 'viewer', 'member'] as const) await addMember(app, owner, role);
  for (let i = 0; i < 5; i++) await createApiKey(app, owner.headers, { name: `key-${i}` });
  for (let i = 0; i < 4; i++) {
    const created = await app.request('POST', '/api/organizations', { headers: owner.headers, body: { name: `Org ${i}`, slug: `pages-${i}-${Date.now()}` } });
    expect(created.status).toBe(201);
  }
});
afterAll(() => app.close());

/** Follows `next` with `limit=2` until the last page; returns every page's ids. */
async function walk(path: string, id: (item: Record<string, unknown>) => unknown): Promise<unknown[][]> {
  const pages: unknown[][] = [];
  let after: string | null = null;
  do {
    const res = await app.request('GET', `${path}?limit=2${after ? `&after=${encodeURIComponent(after)}` : ''}`, { headers: owner.headers });
    expect(res.status).toBe(200);
    pages.push(res.body.data.map(id));
    after = res.body.next;
  } while (after && pages.length < 20);
  return pages;
}

it.each([
  ['/api/organizations', (o: Record<string, unknown>) => o.id],
  ['/api/members', (m: Record<string, unknown>) => m.userId],
  ['/api/api-keys', (k: Record<string, unknown>) => k.id],
  ['/api/invitations', (i: Record<string, unknown>) => i.id],
])('%s pages with keyset cursors: every item once, in the same order as one big page', async (path, id) => {
  const whole = await app.request('GET', `${path}?limit=200`, { headers: owner.headers });
  expect(whole.body.next).toBeNull();
  const all = whole.body.data.map(id);
  expect(all.length).toBeGreaterThanOrEqual(4);
  const pages = await walk(path, id);
  expect(pages.every((p) => p.length <= 2)).toBe(true);
  expect(pages.flat()).toEqual(all);
});

it('lists members owners first', async () => {
  const res = await app.request('GET', '/api/members', { headers: owner.headers });
  expect(res.body.data.map((m: { role: string }) => m.role)).toEqual(['owner', 'admin', 'member', 'member', 'viewer']);
});

it('answers a forged cursor with 400 invalid_query, not a server error', async () => {
  for (const path of ['/api/organizations', '/api/members', '/api/api-keys', '/api/invitations', '/api/workflows']) {
    for (const after of ['not-a-cursor', Buffer.from('["x"]').toString('base64url'), Buffer.from('[1,"nope","u"]').toString('base64url')]) {
      const res = await app.request('GET', `${path}?after=${after}`, { headers: owner.headers });
      expect([path, res.status, res.body.error]).toEqual([path, 400, 'invalid_query']);
    }
  }
});

it('answers a forged run or log cursor with 400 invalid_query instead of starting over at page one', async () => {
  for (const path of ['/api/runs?after=abc', '/api/runs?after=1;drop', `/api/runs/00000000-0000-0000-0000-000000000000/logs?after=x`]) {
    const res = await app.request('GET', path, { headers: owner.headers });
    expect([path, res.status, res.body.error]).toEqual([path, 400, 'invalid_query']);
  }
});

/** The 200 schemas of every GET route that answers a list: a collection path (not ending in `{param}`) whose body holds an array. */
async function listRoutes(): Promise<[string, JsonSchema][]> {
  const spec = (await app.request('GET', '/openapi.json')).body as {
    paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }> } }>;
  };
  const lists: [string, JsonSchema][] = [];
  for (const [path, item] of Object.entries(spec.paths)) {
    const schema = item.get?.responses['200']?.content?.['application/json']?.schema;
    const isArray = (s: JsonSchema) => s.type === 'array' || (Array.isArray(s.type) && s.type.includes('array'));
    if (schema && !path.endsWith('}') && Object.values(schema.properties ?? {}).some(isArray)) lists.push([path, schema]);
  }
  return lists;
}

describe('one list shape (issue 9)', () => {
  it('documents every list route as {data, next} in /openapi.json', async () => {
    const lists = await listRoutes();
    expect(lists.map(([path]) => path)).toEqual(
      expect.arrayContaining(['/api/organizations', '/api/members', '/api/api-keys', '/api/invitations', '/api/workflows', '/api/runs', '/api/secrets', '/api/connectors']),
    );
    const wrong = lists.filter(([, schema]) => {
      const keys = Object.keys(schema.properties ?? {}).sort();
      return keys.join() !== 'data,next' || schema.properties?.data?.type !== 'array' || !schema.required?.includes('next');
    });
    expect(wrong.map(([path, schema]) => `${path}: ${Object.keys(schema.properties ?? {}).join()}`)).toEqual([]);
  });

  it('answers {data, next} on every list route without path parameters', async () => {
    const paths = (await listRoutes()).map(([path]) => path).filter((path) => !path.includes('{'));
    expect(paths.length).toBeGreaterThanOrEqual(8);
    for (const path of paths) {
      const res = await app.request('GET', path, { headers: owner.headers });
      expect([path, res.status, Object.keys(res.body).sort()]).toEqual([path, 200, ['data', 'next']]);
      expect([path, Array.isArray(res.body.data), res.body.next === null || typeof res.body.next === 'string']).toEqual([path, true, true]);
    }
  });

  it("shows an API key its own organization as a one-item page", async () => {
    const key = await createApiKey(app, owner.headers, { name: 'orgs-key' });
    const res = await app.request('GET', '/api/organizations', { headers: key.headers });
    expect(res.body).toEqual({ data: [expect.objectContaining({ id: owner.organizationId, active: true })], next: null });
  });
});
