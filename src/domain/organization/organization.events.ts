/** Roles inside one organization, strongest first: `owner` > `admin` > `member` > `viewer`. */
export type OrgRole = 'owner' | 'admin' | 'member' | 'viewer';

export const ORG_ROLES: readonly OrgRole[] = ['owner', 'admin', 'member', 'viewer'];

export const ORG_ROLE_RANK: Record<OrgRole, number> = { viewer: 0, member: 1, admin: 2, owner: 3 };

/**
 * Facts on an `org-<organizationId>` stream. They name ids, emails, prefixes and roles —
 * never a password, token, key or any hash of one (those live in credential tables).
 * The actor of each fact is in the event metadata.
 */
export type OrganizationEvent =
  | { type: 'OrganizationCreated'; data: { organizationId: string; name: string; slug: string; createdBy: string | null } }
  | { type: 'MemberAdded'; data: { userId: string; role: OrgRole; invitationId?: string } }
  | { type: 'MemberRoleChanged'; data: { userId: string; from: OrgRole; to: OrgRole } }
  | { type: 'MemberRemoved'; data: { userId: string; role: OrgRole; left: boolean } }
  | { type: 'InvitationCreated'; data: { invitationId: string; email: string; role: OrgRole; expiresAt: string } }
  | { type: 'InvitationAccepted'; data: { invitationId: string; userId: string; role: OrgRole } }
  | { type: 'ApiKeyCreated'; data: { apiKeyId: string; name: string; prefix: string; role: OrgRole; expiresAt: string | null } }
  | { type: 'ApiKeyRevoked'; data: { apiKeyId: string } };

export type OrganizationEventType = OrganizationEvent['type'];

export const ORGANIZATION_EVENT_TYPES: readonly OrganizationEventType[] = [
  'OrganizationCreated',
  'MemberAdded',
  'MemberRoleChanged',
  'MemberRemoved',
  'InvitationCreated',
  'InvitationAccepted',
  'ApiKeyCreated',
  'ApiKeyRevoked',
];

/** The stream that holds one organization's membership, invitation and key history. */
export function organizationStream(organizationId: string): string {
  return `org-${organizationId}`;
}
