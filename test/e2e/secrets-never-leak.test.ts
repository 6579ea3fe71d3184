import { createHash, randomBytes } from 'node:crypto';
import { startTestApp, type TestApp, type TestResponse } from '../support/app';
import { uniqueEmail } from '../support/auth';

/**
 * Runs the identity flows with recognisable secrets, then proves that none of them — nor their
 * hashes — reaches the logs (at trace level) or the event store, that the raw secrets are in no
 * table at all, and that each appears in exactly one response: the one that created it.
 */
let app: TestApp;
beforeAll(async () => {
  app = await startTestApp('secrets_never_leak', { THODARE_LOG_LEVEL: 'trace', THODARE_AUTH_RATE_LIMIT_PER_MIN: '10000' });
});
afterAll(() => app.close());

const canary = (label: string) => `${label}-canary-${randomBytes(12).toString('hex')}`;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface Exchange {
  label: string;
  res: TestResponse;
}

it('no password, session token, API key or invitation token leaks', async () => {
  const exchanges: Exchange[] = [];
  const call = async (label: string, method: string, path: string, options: Parameters<TestApp['request']>[2] = {}) => {
    const res = await app.request(method, path, options);
    exchanges.push({ label, res });
    return res;
  };

  const password = canary('Password');
  const inviteePassword = canary('InviteePassword');
  const wrongPassword = canary('WrongPassword');
  const email = uniqueEmail('leak');
  const inviteeEmail = uniqueEmail('leak-invitee');

  const signUp = await call('sign-up', 'POST', '/api/auth/sign-up', { body: { email, password, name: 'Leak Test' } });
  expect(signUp.status).toBe(201);
  const session = signUp.body.token as string;
  const bearer = { authorization: `Bearer ${session}` };

  await call('weak', 'POST', '/api/auth/sign-up', { body: { email: uniqueEmail(), password: 'short-pw' } });
  expect((await call('wrong password', 'POST', '/api/auth/sign-in', { body: { email, password: wrongPassword } })).status).toBe(401);
  const signIn = await call('sign-in', 'POST', '/api/auth/sign-in', { body: { email, password } });
  const session2 = signIn.body.token as string;

  const created = await call('key', 'POST', '/api/api-keys', { headers: bearer, body: { name: 'leak-key', role: 'admin' } });
  const apiKey = created.body.key as string;
  await call('use key bearer', 'GET', '/api/members', { headers: { authorization: `Bearer ${apiKey}` } });
  await call('use key header', 'GET', '/api/api-keys', { headers: { 'x-api-key': apiKey } });
  await call('use cookie', 'GET', '/api/auth/session', { headers: { cookie: `thodare_session=${session2}` } });

  const invitation = await call('invite', 'POST', '/api/invitations', { headers: { 'x-api-key': apiKey }, body: { email: inviteeEmail, role: 'member' } });
  const invitationToken = invitation.body.token as string;
  await call('list invitations', 'GET', '/api/invitations', { headers: bearer });
  const invitee = await call('invitee sign-up', 'POST', '/api/auth/sign-up', { body: { email: inviteeEmail, password: inviteePassword } });
  const inviteeSession = invitee.body.token as string;
  await call('wrong accept', 'POST', `/api/invitations/${invitationToken}/accept`, { headers: bearer });
  expect((await call('accept', 'POST', `/api/invitations/${invitationToken}/accept`, { headers: { authorization: `Bearer ${inviteeSession}` } })).status).toBe(200);
  await call('reuse', 'POST', `/api/invitations/${invitationToken}/accept`, { headers: { authorization: `Bearer ${inviteeSession}` } });

  await call('revoke', 'DELETE', `/api/api-keys/${created.body.id}`, { headers: bearer });
  expect((await call('revoked key', 'GET', '/api/members', { headers: { 'x-api-key': apiKey } })).status).toBe(401);
  await call('sign-out', 'POST', '/api/auth/sign-out', { headers: bearer });
  expect((await call('signed out', 'GET', '/api/auth/session', { headers: bearer })).status).toBe(401);

  const secrets: Record<string, string> = { password, inviteePassword, wrongPassword, session, session2, inviteeSession, apiKey, invitationToken };
  const { rows: users } = await app.db.pool.query<{ password_hash: string }>('SELECT password_hash FROM users');
  const hashes: Record<string, string> = Object.fromEntries([
    ...Object.entries(secrets).map(([name, value]) => [`sha256(${name})`, sha256(value)]),
    ...users.map((u, i) => [`password hash ${i}`, u.password_hash]),
  ]);
  const everything = { ...secrets, ...hashes };

  // Logs, at trace level.
  const logs = app.logs.join('\n');
  expect(logs.length).toBeGreaterThan(1000);
  expect(Object.entries(everything).filter(([, v]) => logs.includes(v)).map(([k]) => k)).toEqual([]);

  // The whole event store: data and metadata.
  const { rows: events } = await app.db.pool.query<{ text: string }>('SELECT data::text || metadata::text AS text FROM events');
  expect(events.length).toBeGreaterThan(5);
  const eventText = events.map((e) => e.text).join('\n');
  expect(Object.entries(everything).filter(([, v]) => eventText.includes(v)).map(([k]) => k)).toEqual([]);

  // Every table of the schema: raw secrets are nowhere (only their hashes, in credential tables).
  const { rows: tables } = await app.db.pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
  );
  for (const { table_name } of tables) {
    const { rows } = await app.db.pool.query<{ t: string }>(`SELECT t::text AS t FROM "${table_name}" t`);
    const dump = rows.map((r) => r.t).join('\n');
    expect([table_name, Object.entries(secrets).filter(([, v]) => dump.includes(v)).map(([k]) => k)]).toEqual([table_name, []]);
  }

  // Responses: each secret only where it was issued; passwords never.
  const issuedBy: Record<string, string[]> = {
    session: ['sign-up'],
    session2: ['sign-in'],
    inviteeSession: ['invitee sign-up'],
    apiKey: ['key'],
    invitationToken: ['invite'],
  };
  const seen = Object.fromEntries(
    Object.entries(secrets).map(([name, value]) => [
      name,
      exchanges.filter(({ res }) => res.text.includes(value) || [...res.headers.values()].some((h) => h.includes(value))).map((e) => e.label),
    ]),
  );
  expect(seen).toEqual({ password: [], inviteePassword: [], wrongPassword: [], ...issuedBy });
});
