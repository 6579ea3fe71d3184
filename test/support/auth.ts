import { randomBytes } from 'node:crypto';
import type { TestApp, TestResponse } from './app';

export type Role = 'owner' | 'admin' | 'member' | 'viewer';

/** Headers that authenticate a request: `{authorization: 'Bearer …'}`. */
export type AuthHeaders = Record<string, string>;

export interface SignedUp {
  /** The session token (`ths_…`). */
  token: string;
  userId: string;
  /** The personal organization created at sign-up (the user owns it; it is the session's active one). */
  organizationId: string;
  organizationSlug: string;
  email: string;
  password: string;
  headers: AuthHeaders;
}

let counter = 0;

/** A unique, valid email for this test run. */
export function uniqueEmail(label = 'user'): string {
  counter += 1;
  return `${label}-${counter}-${randomBytes(4).toString('hex')}@example.test`;
}

/**
 * Signs a new user up over HTTP (`POST /api/auth/sign-up`): a fresh user who owns a fresh
 * organization, with a session token ready to use in `headers`. Throws unless the app answers 201.
 */
export async function signUp(app: TestApp, overrides: { email?: string; password?: string; name?: string } = {}): Promise<SignedUp> {
  const email = overrides.email ?? uniqueEmail();
  const password = overrides.password ?? `pw-${randomBytes(12).toString('hex')}`;
  const res = await app.request('POST', '/api/auth/sign-up', { body: { email, password, ...(overrides.name ? { name: overrides.name } : {}) } });
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${res.text}`);
  const token = res.body.token as string;
  return {
    token,
    userId: res.body.user.id,
    organizationId: res.body.organization.id,
    organizationSlug: res.body.organization.slug,
    email: res.body.user.email,
    password,
    headers: { authorization: `Bearer ${token}` },
  };
}

/** Signs an existing user in; returns a new session's token and headers. */
export async function signIn(app: TestApp, email: string, password: string): Promise<{ token: string; headers: AuthHeaders; body: TestResponse['body'] }> {
  const res = await app.request('POST', '/api/auth/sign-in', { body: { email, password } });
  if (res.status !== 200) throw new Error(`sign-in failed: ${res.status} ${res.text}`);
  return { token: res.body.token, headers: { authorization: `Bearer ${res.body.token}` }, body: res.body };
}

export interface CreatedKey {
  /** The raw API key (`thd_…`), shown once. */
  key: string;
  id: string;
  prefix: string;
  role: Role;
  headers: AuthHeaders;
}

/**
 * Creates an API key in the organization `headers` act in (`POST /api/api-keys`, admin+).
 * Default role `member`. Throws unless the app answers 201.
 */
export async function createApiKey(
  app: TestApp,
  headers: AuthHeaders,
  options: { role?: Role; name?: string; expiresAt?: string } = {},
): Promise<CreatedKey> {
  const res = await app.request('POST', '/api/api-keys', {
    headers,
    body: { name: options.name ?? `key-${randomBytes(3).toString('hex')}`, role: options.role ?? 'member', ...(options.expiresAt ? { expiresAt: options.expiresAt } : {}) },
  });
  if (res.status !== 201) throw new Error(`API key creation failed: ${res.status} ${res.text}`);
  return { key: res.body.key, id: res.body.id, prefix: res.body.prefix, role: res.body.role, headers: { authorization: `Bearer ${res.body.key}` } };
}

/**
 * A new user who joins `owner`'s organization with `role` through a real invitation, acting in
 * that organization (their session's active organization is switched to it).
 */
export async function addMember(app: TestApp, owner: { headers: AuthHeaders; organizationId: string }, role: Role): Promise<SignedUp> {
  const email = uniqueEmail(role);
  const invite = await app.request('POST', '/api/invitations', { headers: owner.headers, body: { email, role } });
  if (invite.status !== 201) throw new Error(`invitation failed: ${invite.status} ${invite.text}`);
  const user = await signUp(app, { email });
  const accepted = await app.request('POST', `/api/invitations/${invite.body.token}/accept`, { headers: user.headers });
  if (accepted.status !== 200) throw new Error(`accepting the invitation failed: ${accepted.status} ${accepted.text}`);
  const switched = await app.request('POST', '/api/auth/active-organization', { headers: user.headers, body: { organizationId: owner.organizationId } });
  if (switched.status !== 200) throw new Error(`switching organization failed: ${switched.status} ${switched.text}`);
  return { ...user, organizationId: owner.organizationId };
}
