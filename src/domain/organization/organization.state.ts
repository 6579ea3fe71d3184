import type { OrganizationEvent, OrgRole } from './organization.events';

export interface InvitationState {
  email: string;
  role: OrgRole;
  expiresAt: string;
  acceptedBy: string | undefined;
}

/** What the rules need to know about one organization, folded from its stream. */
export interface OrganizationState {
  exists: boolean;
  members: ReadonlyMap<string, OrgRole>;
  invitations: ReadonlyMap<string, InvitationState>;
  apiKeys: ReadonlyMap<string, { role: OrgRole; revoked: boolean }>;
}

export const initialOrganizationState: OrganizationState = { exists: false, members: new Map(), invitations: new Map(), apiKeys: new Map() };

/**
 * One step of the fold. Other capabilities may append their own facts to `org-` streams
 * (secrets metadata), so unknown types are ignored rather than rejected.
 */
export function evolveOrganization(state: OrganizationState, event: { type: string; data: unknown }): OrganizationState {
  const e = event as OrganizationEvent;
  switch (e.type) {
    case 'OrganizationCreated':
      return { ...state, exists: true };
    case 'MemberAdded':
      return { ...state, members: withEntry(state.members, e.data.userId, e.data.role) };
    case 'MemberRoleChanged':
      return { ...state, members: withEntry(state.members, e.data.userId, e.data.to) };
    case 'MemberRemoved':
      return { ...state, members: without(state.members, e.data.userId) };
    case 'InvitationCreated': {
      const { email, role, expiresAt } = e.data;
      return { ...state, invitations: withEntry(state.invitations, e.data.invitationId, { email, role, expiresAt, acceptedBy: undefined }) };
    }
    case 'InvitationAccepted': {
      const invitation = state.invitations.get(e.data.invitationId);
      if (!invitation) return state;
      return { ...state, invitations: withEntry(state.invitations, e.data.invitationId, { ...invitation, acceptedBy: e.data.userId }) };
    }
    case 'ApiKeyCreated':
      return { ...state, apiKeys: withEntry(state.apiKeys, e.data.apiKeyId, { role: e.data.role, revoked: false }) };
    case 'ApiKeyRevoked': {
      const key = state.apiKeys.get(e.data.apiKeyId);
      return key ? { ...state, apiKeys: withEntry(state.apiKeys, e.data.apiKeyId, { ...key, revoked: true }) } : state;
    }
    default:
      return state;
  }
}

export function foldOrganization(events: readonly { type: string; data: unknown }[]): OrganizationState {
  return events.reduce(evolveOrganization, initialOrganizationState);
}

function withEntry<V>(map: ReadonlyMap<string, V>, key: string, value: V): ReadonlyMap<string, V> {
  return new Map(map).set(key, value);
}

function without<V>(map: ReadonlyMap<string, V>, key: string): ReadonlyMap<string, V> {
  const next = new Map(map);
  next.delete(key);
  return next;
}
