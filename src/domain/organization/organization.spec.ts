import { createApiKey, revokeApiKey } from './api-key.rules';
import { acceptInvitation, inviteMember } from './invitation.rules';
import { changeMemberRole, removeMember, type OrgActor } from './membership.rules';
import type { OrganizationEvent, OrgRole } from './organization.events';
import { foldOrganization } from './organization.state';

const now = new Date('2030-01-01T00:00:00Z');
const later = new Date('2030-01-02T00:00:00Z');

function org(members: Record<string, OrgRole>, extra: OrganizationEvent[] = []) {
  return foldOrganization([
    { type: 'OrganizationCreated', data: { organizationId: 'o1', name: 'O', slug: 'o', createdBy: 'u-owner' } },
    ...Object.entries(members).map(([userId, role]): OrganizationEvent => ({ type: 'MemberAdded', data: { userId, role } })),
    ...extra,
  ]);
}
const as = (userId: string, role: OrgRole): OrgActor => ({ userId, role });
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'no error';
};

describe('membership rules', () => {
  it('keeps the last owner: no demotion, no removal, no leaving', () => {
    const state = org({ a: 'owner', b: 'admin' });
    expect(code(() => changeMemberRole(state, as('a', 'owner'), 'a', 'admin'))).toBe('last_owner');
    expect(code(() => removeMember(state, as('a', 'owner'), 'a'))).toBe('last_owner');
  });

  it('lets an owner go once another owner exists', () => {
    const state = org({ a: 'owner', b: 'owner' });
    expect(removeMember(state, as('a', 'owner'), 'a')).toEqual([{ type: 'MemberRemoved', data: { userId: 'a', role: 'owner', left: true } }]);
    expect(changeMemberRole(state, as('a', 'owner'), 'b', 'admin')).toEqual([{ type: 'MemberRoleChanged', data: { userId: 'b', from: 'owner', to: 'admin' } }]);
  });

  it('admins cannot grant owner nor change or remove an owner', () => {
    const state = org({ a: 'owner', b: 'admin', c: 'member' });
    expect(code(() => changeMemberRole(state, as('b', 'admin'), 'c', 'owner'))).toBe('forbidden');
    expect(code(() => changeMemberRole(state, as('b', 'admin'), 'a', 'member'))).toBe('forbidden');
    expect(code(() => removeMember(state, as('b', 'admin'), 'a'))).toBe('forbidden');
    expect(changeMemberRole(state, as('b', 'admin'), 'c', 'viewer')).toHaveLength(1);
  });

  it('anyone may leave; only admins remove others', () => {
    const state = org({ a: 'owner', v: 'viewer', m: 'member' });
    expect(removeMember(state, as('v', 'viewer'), 'v')).toHaveLength(1);
    expect(code(() => removeMember(state, as('v', 'viewer'), 'm'))).toBe('forbidden');
  });

  it('uses the role in the stream, not the stale one the request carried', () => {
    const state = org({ a: 'owner', b: 'member', c: 'viewer' });
    expect(code(() => changeMemberRole(state, as('b', 'admin'), 'c', 'member'))).toBe('forbidden');
    expect(code(() => changeMemberRole(state, as('gone', 'owner'), 'c', 'member'))).toBe('forbidden');
  });

  it('an unknown member is not_found, and a no-op change records nothing', () => {
    const state = org({ a: 'owner', b: 'member' });
    expect(code(() => changeMemberRole(state, as('a', 'owner'), 'zz', 'member'))).toBe('not_found');
    expect(changeMemberRole(state, as('a', 'owner'), 'b', 'member')).toEqual([]);
  });
});

describe('invitation rules', () => {
  const invited = (role: OrgRole = 'member', expiresAt = later) => org({ a: 'owner' }, [{ type: 'InvitationCreated', data: { invitationId: 'i1', email: 'x@e.test', role, expiresAt: expiresAt.toISOString() } }]);
  const clock = { now, maxTtlHours: 720 };

  it('accepts once, for the invited email only, before expiry', () => {
    const events = acceptInvitation(invited(), 'i1', { id: 'x', email: 'x@e.test' }, now);
    expect(events.map((e) => e.type)).toEqual(['InvitationAccepted', 'MemberAdded']);
    const used = foldOrganization([...[{ type: 'OrganizationCreated', data: {} }], ...[{ type: 'InvitationCreated', data: { invitationId: 'i1', email: 'x@e.test', role: 'member', expiresAt: later.toISOString() } }], ...events]);
    expect(code(() => acceptInvitation(used, 'i1', { id: 'y', email: 'x@e.test' }, now))).toBe('invitation_used');
    expect(code(() => acceptInvitation(invited(), 'i1', { id: 'y', email: 'other@e.test' }, now))).toBe('not_found');
    expect(code(() => acceptInvitation(invited(), 'i1', { id: 'x', email: 'x@e.test' }, later))).toBe('invitation_expired');
  });

  it('nobody invites above their role; expiry must be ahead and bounded', () => {
    const state = org({ a: 'owner', b: 'admin' });
    const invitation = { invitationId: 'i', email: 'q@e.test', role: 'owner' as const, expiresAt: later };
    expect(code(() => inviteMember(state, as('b', 'admin'), invitation, false, clock))).toBe('forbidden');
    expect(inviteMember(state, as('a', 'owner'), invitation, false, clock)).toHaveLength(1);
    expect(code(() => inviteMember(state, as('a', 'owner'), { ...invitation, expiresAt: now }, false, clock))).toBe('invalid_expiry');
    expect(code(() => inviteMember(state, as('a', 'owner'), invitation, true, clock))).toBe('already_member');
  });
});

describe('API key rules', () => {
  it('never grants a key more than its creator holds, and revocation is idempotent', () => {
    const state = org({ a: 'owner', b: 'admin' }, [{ type: 'ApiKeyCreated', data: { apiKeyId: 'k1', name: 'k', prefix: 'thd_x', role: 'owner', expiresAt: null } }]);
    const key = { apiKeyId: 'k2', name: 'k', prefix: 'thd_y', role: 'owner' as const, expiresAt: null };
    expect(code(() => createApiKey(state, as('b', 'admin'), key, now))).toBe('forbidden');
    expect(createApiKey(state, as('a', 'owner'), key, now)).toHaveLength(1);
    expect(code(() => revokeApiKey(state, as('b', 'admin'), 'k1'))).toBe('forbidden');
    const revoked = foldOrganization([{ type: 'OrganizationCreated', data: {} }, { type: 'MemberAdded', data: { userId: 'a', role: 'owner' } }, { type: 'ApiKeyCreated', data: { apiKeyId: 'k1', role: 'owner' } }, { type: 'ApiKeyRevoked', data: { apiKeyId: 'k1' } }]);
    expect(revokeApiKey(revoked, as('a', 'owner'), 'k1')).toEqual([]);
    expect(code(() => revokeApiKey(state, as('a', 'owner'), 'nope'))).toBe('not_found');
  });

  it('a revoked key cannot act, whatever role the request carried', () => {
    const state = foldOrganization([{ type: 'OrganizationCreated', data: {} }, { type: 'MemberAdded', data: { userId: 'a', role: 'owner' } }, { type: 'ApiKeyCreated', data: { apiKeyId: 'k1', role: 'admin' } }, { type: 'ApiKeyRevoked', data: { apiKeyId: 'k1' } }]);
    expect(code(() => changeMemberRole(state, { userId: undefined, apiKeyId: 'k1', role: 'admin' }, 'a', 'admin'))).toBe('forbidden');
  });
});
