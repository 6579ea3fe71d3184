import { notFound, OrganizationRuleError } from './organization.errors';
import type { OrganizationEvent, OrgRole } from './organization.events';
import type { OrganizationState } from './organization.state';
import { assertMayGrant, type OrgActor } from './membership.rules';

export interface NewInvitation {
  invitationId: string;
  email: string;
  role: OrgRole;
  expiresAt: Date;
}

/** `POST /api/invitations` (admin+, the route's guard checks that); `emailIsMember` is looked up by the shell. */
export function inviteMember(
  state: OrganizationState,
  actor: OrgActor,
  invitation: NewInvitation,
  emailIsMember: boolean,
  clock: { now: Date; maxTtlHours: number },
): OrganizationEvent[] {
  assertMayGrant(state, actor, invitation.role, 'an invitation');
  const ttl = invitation.expiresAt.getTime() - clock.now.getTime();
  if (ttl <= 0 || ttl > clock.maxTtlHours * 3600_000) {
    throw new OrganizationRuleError('invalid_expiry', `expiresAt must be in the future and at most ${clock.maxTtlHours} hours away`);
  }
  if (emailIsMember) throw new OrganizationRuleError('already_member', 'that email already belongs to a member of this organization');
  const { invitationId, email, role, expiresAt } = invitation;
  return [{ type: 'InvitationCreated', data: { invitationId, email, role, expiresAt: expiresAt.toISOString() } }];
}

/**
 * `POST /api/invitations/:token/accept`. Only the invited email may accept: for anyone else
 * the invitation does not exist (404), so a leaked token reveals nothing about the organization.
 */
export function acceptInvitation(
  state: OrganizationState,
  invitationId: string,
  user: { id: string; email: string },
  now: Date,
): OrganizationEvent[] {
  const invitation = state.invitations.get(invitationId);
  if (!invitation || invitation.email !== user.email) throw notFound('invitation');
  if (invitation.acceptedBy) throw new OrganizationRuleError('invitation_used', 'this invitation has already been accepted');
  if (Date.parse(invitation.expiresAt) <= now.getTime()) throw new OrganizationRuleError('invitation_expired', 'this invitation has expired');
  if (state.members.has(user.id)) throw new OrganizationRuleError('already_member', 'you are already a member of this organization');
  return [
    { type: 'InvitationAccepted', data: { invitationId, userId: user.id, role: invitation.role } },
    { type: 'MemberAdded', data: { userId: user.id, role: invitation.role, invitationId } },
  ];
}
