import { rebuildProjection } from '../../src/projections/rebuild';
import { EventStore } from '../../src/event-store/event-store';
import { ALL_PROJECTIONS, findProjection } from '../../src/app/projections';
import { startTestApp, type TestApp } from '../support/app';
import { addMember, createApiKey, signUp, uniqueEmail, type SignedUp } from '../support/auth';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp('organizations', { THODARE_AUTH_RATE_LIMIT_PER_MIN: '10000' });
});
afterAll(() => app.close());

const members = async (headers: Record<string, string>) => (await app.request('GET', '/api/members', { headers })).body.data as { userId: string; role: string; email: string }[];

async function invite(owner: SignedUp, role: string, email = uniqueEmail(role)) {
  const res = await app.request('POST', '/api/invitations', { headers: owner.headers, body: { email, role } });
  expect(res.status).toBe(201);
  return { ...res.body, email } as { id: string; token: string; email: string; role: string; expiresAt: string };
}

describe('invitations', () => {
  it('the invited email accepts once and becomes a member with the role; a second use is 409 invitation_used', async () => {
    const owner = await signUp(app);
    const invitation = await invite(owner, 'admin');
    expect(invitation.token).toMatch(/^thi_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(invitation.expiresAt)).toBeGreaterThan(Date.now());
    const invitee = await signUp(app, { email: invitation.email.toUpperCase() });
    const accepted = await app.request('POST', `/api/invitations/${invitation.token}/accept`, { headers: invitee.headers });
    expect(accepted.status).toBe(200);
    expect(accepted.body).toEqual({ organizationId: owner.organizationId, role: 'admin' });
    expect(await members(owner.headers)).toEqual([
      expect.objectContaining({ userId: owner.userId, role: 'owner' }),
      expect.objectContaining({ userId: invitee.userId, role: 'admin', email: invitation.email }),
    ]);
    const again = await app.request('POST', `/api/invitations/${invitation.token}/accept`, { headers: invitee.headers });
    expect(again.status).toBe(409);
    expect(again.body.error).toBe('invitation_used');
    const listed = await app.request('GET', '/api/invitations', { headers: owner.headers });
    expect(listed.body.data).toEqual([expect.objectContaining({ id: invitation.id, acceptedBy: invitee.userId, acceptedAt: expect.any(String) })]);
    expect(listed.text).not.toContain(invitation.token);
  });

  it('another email cannot use the token: 404, as if it did not exist, and the invitation stays usable', async () => {
    const owner = await signUp(app);
    const invitation = await invite(owner, 'member');
    const intruder = await signUp(app);
    const res = await app.request('POST', `/api/invitations/${invitation.token}/accept`, { headers: intruder.headers });
    expect(res.status).toBe(404);
    expect(res.body.error).toBe('not_found');
    expect((await members(owner.headers)).map((m) => m.userId)).toEqual([owner.userId]);
    const invitee = await signUp(app, { email: invitation.email });
    expect((await app.request('POST', `/api/invitations/${invitation.token}/accept`, { headers: invitee.headers })).status).toBe(200);
  });

  it('an unknown token is 404, and so is any token for an API key (keys have no email)', async () => {
    const owner = await signUp(app);
    expect((await app.request('POST', '/api/invitations/thi_nonexistent/accept', { headers: owner.headers })).status).toBe(404);
    const key = await createApiKey(app, owner.headers, { role: 'owner' });
    const invitation = await invite(owner, 'viewer');
    expect((await app.request('POST', `/api/invitations/${invitation.token}/accept`, { headers: key.headers })).status).toBe(404);
  });

  it('nobody invites above their own role, and members cannot be invited twice', async () => {
    const owner = await signUp(app);
    const admin = await addMember(app, owner, 'admin');
    const res = await app.request('POST', '/api/invitations', { headers: admin.headers, body: { email: uniqueEmail(), role: 'owner' } });
    expect(res.status).toBe(403);
    const dup = await app.request('POST', '/api/invitations', { headers: owner.headers, body: { email: admin.email, role: 'viewer' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error).toBe('already_member');
  });

  it('an expired invitation is 410 invitation_expired; an expiry in the past or beyond 30 days is 400', async () => {
    const owner = await signUp(app);
    const email = uniqueEmail();
    const res = await app.request('POST', '/api/invitations', { headers: owner.headers, body: { email, role: 'member', expiresAt: new Date(Date.now() + 1500).toISOString() } });
    expect(res.status).toBe(201);
    const invitee = await signUp(app, { email });
    await new Promise((resolve) => setTimeout(resolve, 1600));
    const late = await app.request('POST', `/api/invitations/${res.body.token}/accept`, { headers: invitee.headers });
    expect(late.status).toBe(410);
    expect(late.body.error).toBe('invitation_expired');
    for (const expiresAt of ['2001-01-01T00:00:00Z', new Date(Date.now() + 31 * 86400_000).toISOString()]) {
      const bad = await app.request('POST', '/api/invitations', { headers: owner.headers, body: { email, role: 'member', expiresAt } });
      expect(bad.status).toBe(400);
      expect(bad.body.error).toBe('invalid_expiry');
    }
  });
});

describe('roles', () => {
  it('a viewer can read but not write: 403 forbidden', async () => {
    const owner = await signUp(app);
    const viewer = await addMember(app, owner, 'viewer');
    expect((await app.request('GET', '/api/members', { headers: viewer.headers })).status).toBe(200);
    const write = await app.request('POST', '/api/invitations', { headers: viewer.headers, body: { email: uniqueEmail(), role: 'viewer' } });
    expect(write.status).toBe(403);
    expect(write.body).toMatchObject({ error: 'forbidden', requiredRole: 'admin', role: 'viewer' });
    const patch = await app.request('PATCH', `/api/members/${owner.userId}`, { headers: viewer.headers, body: { role: 'viewer' } });
    expect(patch.status).toBe(403);
    const remove = await app.request('DELETE', `/api/members/${owner.userId}`, { headers: viewer.headers });
    expect(remove.status).toBe(403);
  });

  it('admins manage members but cannot grant owner or touch an owner', async () => {
    const owner = await signUp(app);
    const admin = await addMember(app, owner, 'admin');
    const member = await addMember(app, owner, 'member');
    expect((await app.request('PATCH', `/api/members/${member.userId}`, { headers: admin.headers, body: { role: 'viewer' } })).status).toBe(200);
    expect((await app.request('PATCH', `/api/members/${member.userId}`, { headers: admin.headers, body: { role: 'owner' } })).status).toBe(403);
    expect((await app.request('PATCH', `/api/members/${owner.userId}`, { headers: admin.headers, body: { role: 'member' } })).status).toBe(403);
    expect((await app.request('DELETE', `/api/members/${owner.userId}`, { headers: admin.headers })).status).toBe(403);
    expect((await app.request('DELETE', `/api/members/${member.userId}`, { headers: admin.headers })).status).toBe(204);
    expect((await members(owner.headers)).map((m) => m.userId)).toEqual([owner.userId, admin.userId]);
  });

  it('a removed member loses access at once; their session falls back to their own organization', async () => {
    const owner = await signUp(app);
    const member = await addMember(app, owner, 'member');
    expect((await app.request('GET', '/api/auth/session', { headers: member.headers })).body.organizationId).toBe(owner.organizationId);
    expect((await app.request('DELETE', `/api/members/${member.userId}`, { headers: owner.headers })).status).toBe(204);
    const session = await app.request('GET', '/api/auth/session', { headers: member.headers });
    expect(session.body.organizationId).not.toBe(owner.organizationId);
    expect(session.body.role).toBe('owner'); // their personal organization
    expect((await members(member.headers)).map((m) => m.userId)).toEqual([member.userId]);
    const back = await app.request('POST', '/api/auth/active-organization', { headers: member.headers, body: { organizationId: owner.organizationId } });
    expect(back.status).toBe(404);
  });

  it('a role change applies to the very next request of that member', async () => {
    const owner = await signUp(app);
    const admin = await addMember(app, owner, 'admin');
    expect((await app.request('GET', '/api/invitations', { headers: admin.headers })).status).toBe(200);
    await app.request('PATCH', `/api/members/${admin.userId}`, { headers: owner.headers, body: { role: 'member' } });
    expect((await app.request('GET', '/api/invitations', { headers: admin.headers })).status).toBe(403);
  });
});

describe('the last owner', () => {
  it('cannot leave, be demoted or be removed (409 last_owner) until another owner exists', async () => {
    const owner = await signUp(app);
    const leave = await app.request('DELETE', `/api/members/${owner.userId}`, { headers: owner.headers });
    expect(leave.status).toBe(409);
    expect(leave.body.error).toBe('last_owner');
    const demote = await app.request('PATCH', `/api/members/${owner.userId}`, { headers: owner.headers, body: { role: 'admin' } });
    expect(demote.status).toBe(409);
    expect(demote.body.error).toBe('last_owner');

    const second = await addMember(app, owner, 'admin');
    expect((await app.request('PATCH', `/api/members/${second.userId}`, { headers: owner.headers, body: { role: 'owner' } })).status).toBe(200);
    expect((await app.request('DELETE', `/api/members/${owner.userId}`, { headers: owner.headers })).status).toBe(204);
    // The one left is now the last owner.
    const removeLast = await app.request('DELETE', `/api/members/${second.userId}`, { headers: second.headers });
    expect(removeLast.body.error).toBe('last_owner');
    // The first owner left their only organization: their session still works, but only for
    // the routes that need no organization (session, organizations, invitations, sign-out).
    const session = await app.request('GET', '/api/auth/session', { headers: owner.headers });
    expect(session.status).toBe(200);
    expect(session.body.organizationId).toBe('');
    const blocked = await app.request('GET', '/api/members', { headers: owner.headers });
    expect(blocked.status).toBe(403);
    expect(blocked.body.error).toBe('no_organization');
    expect((await app.request('POST', '/api/organizations', { headers: owner.headers, body: { name: 'Fresh start' } })).status).toBe(201);
    expect((await app.request('GET', '/api/members', { headers: owner.headers })).status).toBe(200);
  });

  it('holds under concurrent demotions: exactly one of two owners can be demoted', async () => {
    const owner = await signUp(app);
    const second = await addMember(app, owner, 'admin');
    await app.request('PATCH', `/api/members/${second.userId}`, { headers: owner.headers, body: { role: 'owner' } });
    const results = await Promise.all([
      app.request('PATCH', `/api/members/${owner.userId}`, { headers: second.headers, body: { role: 'admin' } }),
      app.request('PATCH', `/api/members/${second.userId}`, { headers: owner.headers, body: { role: 'admin' } }),
    ]);
    // The loser sees either the last-owner rule (409) or, if the winner committed before its
    // request was authorised, that it is no longer an owner (403): never both succeed.
    const statuses = results.map((r) => r.status).sort();
    expect(statuses[0]).toBe(200);
    expect([403, 409]).toContain(statuses[1]);
    expect((await members(owner.headers)).filter((m) => m.role === 'owner')).toHaveLength(1);
  });
});

describe('events', () => {
  it('records membership, invitation and key changes on org-<id> with the actor, and the projections rebuild to the same rows', async () => {
    const owner = await signUp(app);
    const key = await createApiKey(app, owner.headers, { role: 'admin' });
    const member = await addMember(app, owner, 'member');
    await app.request('PATCH', `/api/members/${member.userId}`, { headers: key.headers, body: { role: 'viewer' } });
    await app.request('DELETE', `/api/api-keys/${key.id}`, { headers: owner.headers });
    const { rows } = await app.db.pool.query(`SELECT type, metadata FROM events WHERE stream_id = $1 ORDER BY stream_version`, [`org-${owner.organizationId}`]);
    expect(rows.map((r) => r.type)).toEqual(['OrganizationCreated', 'MemberAdded', 'ApiKeyCreated', 'InvitationCreated', 'InvitationAccepted', 'MemberAdded', 'MemberRoleChanged', 'ApiKeyRevoked']);
    expect(rows[0].metadata.actor).toEqual({ type: 'user', id: owner.userId });
    expect(rows[4].metadata.actor).toEqual({ type: 'user', id: member.userId });
    expect(rows[6].metadata.actor).toEqual({ type: 'api_key', id: key.id });

    const store = new EventStore(app.db.pool, 'unused', ALL_PROJECTIONS);
    for (const name of ['organizations', 'memberships', 'invitations', 'api_keys']) {
      const projection = findProjection(name)!;
      const table = projection.tables[0]!;
      const before = (await app.db.pool.query(`SELECT * FROM ${table} ORDER BY 1, 2`)).rows;
      await rebuildProjection(app.db.pool, store, projection);
      expect((await app.db.pool.query(`SELECT * FROM ${table} ORDER BY 1, 2`)).rows).toEqual(before);
    }
  });

  it('serialises concurrent writers on one organization without losing any', async () => {
    const owner = await signUp(app);
    const results = await Promise.all(Array.from({ length: 8 }, () => app.request('POST', '/api/invitations', { headers: owner.headers, body: { email: uniqueEmail(), role: 'viewer' } })));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill(201));
    expect((await app.request('GET', '/api/invitations', { headers: owner.headers })).body.data).toHaveLength(8);
  });
});
