import { startTestApp, type TestApp } from '../support/app';
import { addMember, createApiKey, signUp, type SignedUp } from '../support/auth';

let app: TestApp;
let owner: SignedUp;
beforeAll(async () => {
  app = await startTestApp('list_pagination');
  owner = await signUp(app);
  for (const role of ['admin', 'member', 'viewer', 'member'] as const) await addMember(app, owner, role);
  for (let i = 0; i < 5; i++) await createApiKey(app, owner.headers, { name: `key-${i}` });
});
afterAll(() => app.close());

/** Follows `next` with `limit=2` until the last page; returns every page's ids. */
async function walk(path: string, field: string, id: (item: Record<string, unknown>) => unknown): Promise<unknown[][]> {
  const pages: unknown[][] = [];
  let after: string | null = null;
  do {
    const res = await app.request('GET', `${path}?limit=2${after ? `&after=${encodeURIComponent(after)}` : ''}`, { headers: owner.headers });
    expect(res.status).toBe(200);
    pages.push(res.body[field].map(id));
    after = res.body.next;
  } while (after && pages.length < 20);
  return pages;
}

it.each([
  ['/api/members', 'members', (m: Record<string, unknown>) => m.userId],
  ['/api/api-keys', 'apiKeys', (k: Record<string, unknown>) => k.id],
  ['/api/invitations', 'invitations', (i: Record<string, unknown>) => i.id],
])('%s pages with keyset cursors: every item once, in the same order as one big page', async (path, field, id) => {
  const whole = await app.request('GET', `${path}?limit=200`, { headers: owner.headers });
  expect(whole.body.next).toBeNull();
  const all = whole.body[field].map(id);
  expect(all.length).toBeGreaterThanOrEqual(4);
  const pages = await walk(path, field, id);
  expect(pages.every((p) => p.length <= 2)).toBe(true);
  expect(pages.flat()).toEqual(all);
});

it('lists members owners first', async () => {
  const res = await app.request('GET', '/api/members', { headers: owner.headers });
  expect(res.body.members.map((m: { role: string }) => m.role)).toEqual(['owner', 'admin', 'member', 'member', 'viewer']);
});

it('answers a forged cursor with 400 invalid_query, not a server error', async () => {
  for (const path of ['/api/members', '/api/api-keys', '/api/invitations', '/api/workflows']) {
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
