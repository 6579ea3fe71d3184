import type { OrgActor } from '../domain/organization/membership.rules';
import type { Principal } from '../http/principal';

/** The principal as the organization rules see it. */
export function orgActor(principal: Principal): OrgActor {
  return { role: principal.role, userId: principal.userId, apiKeyId: principal.apiKeyId };
}
