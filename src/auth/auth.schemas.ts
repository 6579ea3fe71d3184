import { z } from 'zod';
import { emailSchema } from './email';

const role = z.enum(['owner', 'admin', 'member', 'viewer']);
export const userView = z.object({ id: z.string(), email: z.string(), name: z.string().nullable() });
export const organizationView = z.object({ id: z.string(), name: z.string(), slug: z.string() });
export const membershipView = organizationView.extend({ role });

// Passwords are capped so nobody makes the server scrypt a megabyte; the 12-character floor is
// checked by the command (400 `weak_password`, not `invalid_body`).
const password = z.string().max(1024);

export const signUpBody = z.object({ email: emailSchema, password, name: z.string().trim().min(1).max(200).optional() });
export const signUpResponse = z.object({ user: userView, organization: organizationView, token: z.string(), expiresAt: z.string() });

export const signInBody = z.object({ email: z.string().max(320).transform((e) => e.trim().toLowerCase()), password });
export const signInResponse = z.object({
  user: userView,
  token: z.string(),
  expiresAt: z.string(),
  organizations: z.array(membershipView),
  activeOrganizationId: z.string().nullable(),
});

export const sessionResponse = z.object({
  user: userView.nullable().describe('the signed-in user; null when an API key calls'),
  organizationId: z.string(),
  role,
  authMode: z.enum(['session', 'api_key']),
  apiKeyId: z.string().optional(),
});

export const activeOrganizationBody = z.object({ organizationId: z.string().min(1).max(100) });
export const activeOrganizationResponse = z.object({ organizationId: z.string(), role });
