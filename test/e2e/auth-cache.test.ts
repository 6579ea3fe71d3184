import { Pool } from 'pg';
import { IdentityNotifications } from '../../src/auth/identity-notifications';
import { Notifier } from '../../src/event-store/notifier';
import { startTestApp, type TestApp } from '../support/app';
import { createApiKey, signUp } from '../support/auth';

// Looked-up sessions and API keys are kept in memory (src/auth/credential-cache.ts). A changes
// its identity data through its own API; B and C share the database. A keeps principals for a
// minute and B for a second; C runs with the default. Every change to identity rows notifies, and
// each instance forgets what it kept when its listener hears of it (identity-notifications.ts).
let a: TestApp;
let b: TestApp;
let c: TestApp;

beforeAll(async () => {
  a = await startTestApp('auth_cache', { THODARE_AUTH_CACHE_MS: '60000' }, { api: true, worker: false });
  b = await startTestApp('auth_cache_b', { THODARE_AUTH_CACHE_MS: '1000' }, { api: true, worker: false }, a.db);
  c = await startTestApp('auth_cache_c', {}, { api: true, worker: false }, a.db);
});
afterAll(async () => {
  await c?.close();
  await b?.close();
  await a?.close();
});

/** Asks until `check` holds (B's cache keeps a principal for 1 s). */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  for (let tries = 0; !(await check()); tries += 1) {
    if (tries > 200) throw new Error('never happened');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Waits until `app`'s listener has proven that it heard every identity change committed up to
 * now (a beat it sent after this call came back). A cache serves a principal it has kept for
 * longer than 0.9 s only while such a proof is that fresh; on a loaded machine the beats (every
 * 0.3 s) can come back later than that, and the cache then rightly looks the principal up again.
 */
async function provenHearing(app: TestApp): Promise<void> {
  const hearing = app.running.app.get(IdentityNotifications);
  const since = performance.now();
  while (hearing.heardUpTo() < since) await new Promise((r) => setTimeout(r, 10));
}

/**
 * Waits until every listener of this process has heard every identity change committed up to now.
 * The apps share one process, so a notification that any of them hears empties the caches of all
 * of them: one heard late (a loaded machine) would drop a principal that a test kept after it.
 */
async function everyoneHeard(): Promise<void> {
  await Promise.all([a, b, c].map(provenHearing));
}

const status = async (app: TestApp, headers: Record<string, string>) => (await app.request('GET', '/api/auth/session', { headers })).status;

it('forgets a session deleted behind the API on every instance once it hears of it, though A keeps principals for a minute', async () => {
  const user = await signUp(a);
  expect(await status(a, user.headers)).toBe(200);
  expect(await status(b, user.headers)).toBe(200);
  await a.db.pool.query('DELETE FROM sessions WHERE user_id = $1', [user.userId]);
  await eventually(async () => (await status(a, user.headers)) === 401);
  await eventually(async () => (await status(b, user.headers)) === 401);
});

it('applies what this instance changes on its very next request: revoked key, sign-out, demotion', async () => {
  const owner = await signUp(a);
  const key = await createApiKey(a, owner.headers, { role: 'admin' });
  const keyHeaders = { authorization: `Bearer ${key.key}` };
  expect(await status(a, keyHeaders)).toBe(200);
  expect((await a.request('DELETE', `/api/api-keys/${key.id}`, { headers: owner.headers })).status).toBe(204);
  expect(await status(a, keyHeaders)).toBe(401);

  const member = await signUp(a);
  const invitation = await a.request('POST', '/api/invitations', { headers: owner.headers, body: { email: member.email, role: 'member' } });
  expect((await a.request('POST', `/api/invitations/${invitation.body.token}/accept`, { headers: member.headers })).status).toBe(200);
  const switched = await a.request('POST', '/api/auth/active-organization', { headers: member.headers, body: { organizationId: owner.organizationId } });
  expect(switched.status).toBe(200);
  const write = () => a.request('POST', '/api/workflows', { headers: member.headers, body: { name: 'w' } });
  expect((await write()).status).toBe(201);
  expect((await a.request('PATCH', `/api/members/${member.userId}`, { headers: owner.headers, body: { role: 'viewer' } })).status).toBe(200);
  expect((await write()).status).toBe(403);

  expect((await a.request('POST', '/api/auth/sign-out', { headers: member.headers })).status).toBe(204);
  expect(await status(a, member.headers)).toBe(401);
});

it('a key revoked through A stops working on B within B\'s second', async () => {
  const owner = await signUp(a);
  const key = await createApiKey(a, owner.headers, { role: 'member' });
  const keyHeaders = { 'x-api-key': key.key };
  expect(await status(b, keyHeaders)).toBe(200);
  expect((await a.request('DELETE', `/api/api-keys/${key.id}`, { headers: owner.headers })).status).toBe(204);
  await eventually(async () => (await status(b, keyHeaders)) === 401);
});

/**
 * The app's pool with its queries named `name` watched: `calls` counts them, and while `hold` is
 * set each one's answer waits for it (the query itself has run: its rows are from before).
 */
function watchNamedQueries(app: TestApp, name: string): { calls: () => number; hold: (gate: Promise<void> | undefined) => void; restore: () => void } {
  const pool = app.running.app.get(Pool);
  const query = pool.query;
  let calls = 0;
  let gate: Promise<void> | undefined;
  pool.query = (async (config: unknown, values?: unknown) => {
    const named = typeof config === 'object' && config !== null && (config as { name?: string }).name === name;
    if (named) calls += 1;
    const answer = await (query as (c: unknown, v?: unknown) => Promise<unknown>).call(pool, config, values);
    if (named && gate) await gate;
    return answer;
  }) as typeof pool.query;
  return { calls: () => calls, hold: (g) => (gate = g), restore: () => (pool.query = query) };
}

it('looks a credential up once for a burst of concurrent requests that find it unknown', async () => {
  const user = await signUp(b);
  const key = await createApiKey(b, user.headers, { role: 'member' });
  const sessions = watchNamedQueries(a, 'thodare_auth_session');
  const keys = watchNamedQueries(a, 'thodare_auth_key');
  try {
    const answers = await Promise.all([
      ...Array.from({ length: 20 }, () => status(a, user.headers)),
      ...Array.from({ length: 20 }, () => status(a, { 'x-api-key': key.key })),
    ]);
    expect(answers.every((s) => s === 200)).toBe(true);
    expect(sessions.calls()).toBe(1);
    expect(keys.calls()).toBe(1);
  } finally {
    sessions.restore();
    keys.restore();
  }
});

it('does not keep a lookup that a change made on this instance overtook', async () => {
  const owner = await signUp(a);
  const member = await signUp(a);
  const invitation = await a.request('POST', '/api/invitations', { headers: owner.headers, body: { email: member.email, role: 'member' } });
  expect((await a.request('POST', `/api/invitations/${invitation.body.token}/accept`, { headers: member.headers })).status).toBe(200);
  expect((await a.request('POST', '/api/auth/active-organization', { headers: member.headers, body: { organizationId: owner.organizationId } })).status).toBe(200);
  const write = () => a.request('POST', '/api/workflows', { headers: member.headers, body: { name: 'w' } });
  const lookups = watchNamedQueries(a, 'thodare_auth_session');
  let open!: () => void;
  lookups.hold(new Promise<void>((resolve) => (open = resolve)));
  try {
    // The member's lookup reads the role 'member', and its answer is held back past the demotion.
    const early = write();
    while (lookups.calls() === 0) await new Promise((r) => setTimeout(r, 5));
    lookups.hold(undefined);
    expect((await a.request('PATCH', `/api/members/${member.userId}`, { headers: owner.headers, body: { role: 'viewer' } })).status).toBe(200);
    open();
    expect((await early).status).toBe(201); // it began before the demotion
    expect((await write()).status).toBe(403); // the lookup it made is not served after the demotion
  } finally {
    lookups.restore();
  }
});

it('keeps a principal past a second by default while its listener hears: requests a second and more apart are looked up once', async () => {
  const user = await signUp(c);
  await everyoneHeard(); // the sign-up's membership notifies: heard after the lookup below, it would empty the cache
  const lookups = watchNamedQueries(c, 'thodare_auth_session');
  try {
    expect(await status(c, user.headers)).toBe(200);
    const first = lookups.calls();
    for (let i = 0; i < 3; i += 1) {
      await new Promise((r) => setTimeout(r, 1200));
      await provenHearing(c);
      expect(await status(c, user.headers)).toBe(200);
    }
    expect(lookups.calls()).toBe(first);
  } finally {
    lookups.restore();
  }
});

it('keeps nothing past 0.9 s once its listener stops proving that it hears: a change nobody heard of applies there within a second', async () => {
  const user = await signUp(a);
  await everyoneHeard();
  expect(await status(a, user.headers)).toBe(200);
  expect(await status(c, user.headers)).toBe(200);
  await c.running.app.get(Notifier).stop(); // no notification, no beat reaches C any more
  // Deleted with triggers off (a replica's role), as if every notification were lost.
  const db = await a.db.pool.connect();
  try {
    await db.query('SET session_replication_role = replica');
    await db.query('DELETE FROM sessions WHERE user_id = $1', [user.userId]);
    await db.query('RESET session_replication_role');
  } finally {
    db.release();
  }
  await eventually(async () => (await status(c, user.headers)) === 401);
  await provenHearing(a);
  expect(await status(a, user.headers)).toBe(200); // A's listener hears, and there was nothing to hear: its minute holds
});
