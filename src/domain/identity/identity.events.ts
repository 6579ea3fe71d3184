/**
 * Security facts about people and their sessions (issue 11: the audit trail). Sessions stay a
 * plain table — these events record what happened to them, they are not the sessions' source
 * of truth. They name users, session ids (a random id, not the token), client addresses and user
 * agents — never a password, a token or any hash of one.
 */
export type IdentityEvent =
  | { type: 'UserSignedIn'; data: { userId: string; sessionId: string; method: SignInMethod; clientAddress: string | null; userAgent: string | null } }
  | {
      type: 'UserSignInFailed';
      data: {
        /** null when no account has the email; then `emailHash` keys the attempt instead. */
        userId: string | null;
        emailHash: string | null;
        method: 'password';
        reason: SignInFailure;
        clientAddress: string | null;
        userAgent: string | null;
      };
    }
  | { type: 'UserSignedOut'; data: { userId: string; sessionId: string } }
  | { type: 'ActiveOrganizationSwitched'; data: { userId: string; sessionId: string; organizationId: string; from: string | null } };

/** `password`: `POST /api/auth/sign-in`; `sign_up`: the session sign-up hands out. */
export type SignInMethod = 'password' | 'sign_up';

/** Stable reason codes; an unknown email and a wrong password answer the client alike (401). */
export type SignInFailure = 'unknown_email' | 'wrong_password';

export const IDENTITY_EVENT_TYPES: readonly IdentityEvent['type'][] = ['UserSignedIn', 'UserSignInFailed', 'UserSignedOut', 'ActiveOrganizationSwitched'];

/**
 * The organization id of facts that belong to no tenant: failed sign-ins for an unknown email,
 * and a user who belongs to no organization. Tenant ids are UUIDs, so no principal ever acts
 * in it and no tenant can read it.
 */
export const PLATFORM_ORGANIZATION_ID = '_platform';

/**
 * One stream per (user, organization): each organization's trail shows its members' sessions,
 * and sign-ins never contend with membership changes on `org-<id>`.
 */
export function userStream(userId: string, organizationId: string): string {
  return `user-${userId}-org-${organizationId}`;
}

/** Failed sign-ins for an email no account has, keyed by the email's hash (never the email itself). */
export function unknownEmailStream(emailHash: string): string {
  return `signin-${emailHash}`;
}

/** An identity fact and the organization whose trail records it. */
export interface IdentityRecord {
  organizationId: string;
  event: IdentityEvent;
}

/**
 * The same fact once per organization of the user (the platform's when they have none), so
 * every organization the person can act in sees it.
 */
export function inEachOrganization(organizationIds: readonly string[], event: IdentityEvent): IdentityRecord[] {
  const ids = organizationIds.length > 0 ? organizationIds : [PLATFORM_ORGANIZATION_ID];
  return ids.map((organizationId) => ({ organizationId, event }));
}
