import { forbidden, notFound, OrganizationRuleError } from './organization.errors';
import { ORG_ROLE_RANK, type OrganizationEvent, type OrgRole } from './organization.events';
import type { OrganizationState } from './organization.state';

/** Who acts: their role in this organization (as the request saw it) and their user or key id. */
export interface OrgActor {
  role: OrgRole;
  userId: string | undefined;
  apiKeyId?: string | undefined;
}

/**
 * The actor's role as of the folded stream, not as of the request's authentication: a
 * demotion or revocation committed in between is honoured, never raced past.
 */
export function currentActor(state: OrganizationState, actor: OrgActor): OrgActor {
  if (actor.userId) {
    const role = state.members.get(actor.userId);
    if (!role) throw forbidden('you are no longer a member of this organization');
    return { ...actor, role };
  }
  if (actor.apiKeyId) {
    const key = state.apiKeys.get(actor.apiKeyId);
    if (!key || key.revoked) throw forbidden('this API key has been revoked');
    return { ...actor, role: key.role };
  }
  return actor;
}

const owners = (state: OrganizationState) => [...state.members.values()].filter((role) => role === 'owner').length;

const lastOwner = (what: string) =>
  new OrganizationRuleError('last_owner', `${what}: an organization always keeps at least one owner; make someone else owner first`);

/**
 * The admin/owner rule: admins manage members and viewers and other admins, but only an owner
 * may grant the owner role or change or remove an owner.
 */
function assertMayManage(actor: OrgActor, targetRole: OrgRole, newRole?: OrgRole): void {
  if (ORG_ROLE_RANK[actor.role] < ORG_ROLE_RANK.admin) throw forbidden('managing members needs the admin role');
  if (actor.role !== 'owner' && (targetRole === 'owner' || newRole === 'owner')) {
    throw forbidden('only an owner can grant the owner role or change or remove an owner');
  }
}

/** `PATCH /api/members/:userId`. Same role → no event. */
export function changeMemberRole(state: OrganizationState, requester: OrgActor, userId: string, to: OrgRole): OrganizationEvent[] {
  const actor = currentActor(state, requester);
  const from = state.members.get(userId);
  if (!from) throw notFound('member');
  assertMayManage(actor, from, to);
  if (from === to) return [];
  if (from === 'owner' && owners(state) === 1) throw lastOwner('the last owner cannot be demoted');
  return [{ type: 'MemberRoleChanged', data: { userId, from, to } }];
}

/** `DELETE /api/members/:userId`: anyone may leave; removing someone else follows the admin/owner rule. */
export function removeMember(state: OrganizationState, requester: OrgActor, userId: string): OrganizationEvent[] {
  const actor = currentActor(state, requester);
  const role = state.members.get(userId);
  if (!role) throw notFound('member');
  const leaving = actor.userId === userId;
  if (!leaving) assertMayManage(actor, role);
  if (role === 'owner' && owners(state) === 1) throw lastOwner(leaving ? 'the last owner cannot leave' : 'the last owner cannot be removed');
  return [{ type: 'MemberRemoved', data: { userId, role, left: leaving } }];
}

/** Nobody hands out more than they hold: a role above the actor's is refused. */
export function assertMayGrant(state: OrganizationState, requester: OrgActor, role: OrgRole, what: string): OrgActor {
  const actor = currentActor(state, requester);
  if (ORG_ROLE_RANK[role] > ORG_ROLE_RANK[actor.role]) throw forbidden(`you cannot create ${what} with a role above your own (${actor.role})`);
  return actor;
}
