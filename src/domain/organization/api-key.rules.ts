import { forbidden, notFound, OrganizationRuleError } from './organization.errors';
import { ORG_ROLE_RANK, type OrganizationEvent, type OrgRole } from './organization.events';
import type { OrganizationState } from './organization.state';
import { assertMayGrant, currentActor, type OrgActor } from './membership.rules';

export interface NewApiKey {
  apiKeyId: string;
  name: string;
  prefix: string;
  role: OrgRole;
  expiresAt: Date | null;
}

/** `POST /api/api-keys`: a key never gets a role above its creator's, and never starts expired. */
export function createApiKey(state: OrganizationState, actor: OrgActor, key: NewApiKey, now: Date): OrganizationEvent[] {
  assertMayGrant(state, actor, key.role, 'an API key');
  if (key.expiresAt && key.expiresAt.getTime() <= now.getTime()) throw new OrganizationRuleError('invalid_expiry', 'expiresAt must be in the future');
  const { apiKeyId, name, prefix, role } = key;
  return [{ type: 'ApiKeyCreated', data: { apiKeyId, name, prefix, role, expiresAt: key.expiresAt?.toISOString() ?? null } }];
}

/** `DELETE /api/api-keys/:id`: revoking twice is a no-op; a key above the actor's role is theirs to keep. */
export function revokeApiKey(state: OrganizationState, requester: OrgActor, apiKeyId: string): OrganizationEvent[] {
  const key = state.apiKeys.get(apiKeyId);
  if (!key) throw notFound('API key');
  const actor = currentActor(state, requester);
  if (ORG_ROLE_RANK[key.role] > ORG_ROLE_RANK[actor.role]) throw forbidden(`only an ${key.role} can revoke a key with the ${key.role} role`);
  return key.revoked ? [] : [{ type: 'ApiKeyRevoked', data: { apiKeyId } }];
}
