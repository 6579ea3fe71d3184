import { startTestApp, type TestApp } from '../support/app';
import { writeFillerHistory } from '../support/database';
import { createApiKey, signUp, type SignedUp } from '../support/auth';

// A filter checked event by event over a long history. Before scan windows, a page read on until
// it filled, so a rare match behind a million events outlasted the statement timeout and the
// request answered 503. Here the timeout is short and the window small, so that a million
// events is already a long history: every page answers, and paging finds every match.

let app: TestApp;
let owner: SignedUp;
const FILLER = 1_000_000;
/**
 * Rows a window reads, and the statement timeout. A window reads in ~10-30 ms here, the whole
 * filler in seconds: 250 ms leaves a window room on a loaded CI machine (100 ms with 10,000-row
 * windows answered 503 there once) and still cuts a scan of the whole history.
 */
const SCAN_ROWS = 5_000;
const STATEMENT_TIMEOUT_MS = 250;

beforeAll(async () => {
  // API only: no projection runner works through the filler meanwhile.
  app = await startTestApp('audit_scan', { THODARE_STATEMENT_TIMEOUT_MS: String(STATEMENT_TIMEOUT_MS), THODARE_AUDIT_SCAN_ROWS: String(SCAN_ROWS) }, { api: true, worker: false });
  owner = await signUp(app);
  // Another actor's history (the test's own connection has no timeout).
  await writeFillerHistory(app.db.pool, owner.organizationId, FILLER);
  await app.db.pool.query('ANALYZE events');
  await createApiKey(app, owner.headers, { name: 'after-the-filler' }); // the owner acts again, a million events later
}, 120_000);
afterAll(() => app?.close());

it('answers every page of a filter matched only far apart, and paging finds every match', async () => {
  const seen: { type: string; cursor: string }[] = [];
  let after: string | null = null;
  let pages = 0;
  let empty = 0;
  do {
    const res = await app.request('GET', `/api/audit/events?actor=user:${owner.userId}&limit=100${after ? `&after=${encodeURIComponent(after)}` : ''}`, { headers: owner.headers });
    // Before: 503 database_unavailable, the first page's scan cancelled by the statement timeout.
    expect(res.status).toBe(200);
    seen.push(...(res.body.data as { type: string; cursor: string }[]));
    if (res.body.data.length === 0) empty += 1;
    after = res.body.next;
    pages += 1;
  } while (after && pages < 500);
  expect(after).toBeNull();
  // Each window reads at most SCAN_ROWS events: the million take two hundred pages, most of them empty.
  expect(pages).toBeGreaterThanOrEqual(FILLER / SCAN_ROWS);
  expect(empty).toBeGreaterThan(0);
  expect(seen.map((e) => e.type)).toContain('ApiKeyCreated');
  expect(seen.map((e) => e.type)).toContain('OrganizationCreated'); // before the filler
  // In commit order, each once.
  expect(new Set(seen.map((e) => e.cursor)).size).toBe(seen.length);
});

it('streams the same matches as NDJSON, window after window', async () => {
  const res = await fetch(`${app.url}/api/audit/events?actor=user:${owner.userId}`, { headers: { ...owner.headers, accept: 'application/x-ndjson' } });
  expect(res.status).toBe(200);
  const lines = (await res.text()).split('\n').filter(Boolean).map((line) => JSON.parse(line) as { type: string; actor: { id: string } });
  expect(lines.map((e) => e.type)).toContain('ApiKeyCreated');
  expect(lines.every((e) => e.actor.id === owner.userId)).toBe(true);
});

it('reads a stream by its own index, in one page, however long the history', async () => {
  const key = await app.request('GET', `/api/audit/events?actor=user:${owner.userId}&type=ApiKeyCreated`, { headers: owner.headers });
  expect(key.status).toBe(200);
  const res = await app.request('GET', '/api/audit/events?streamId=filler-9999&limit=100', { headers: owner.headers });
  expect(res.status).toBe(200);
  expect(res.body.data).toHaveLength(100);
  expect(res.body.next).toBeNull();
});
