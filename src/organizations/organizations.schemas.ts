import { z } from 'zod';
import { emailSchema } from '../auth/email';
import { pageQuery } from '../http/keyset';

export const role = z.enum(['owner', 'admin', 'member', 'viewer']);

export const createOrganizationBody = z.object({
  name: z.string().trim().min(1).max(100),
  slug: z
    .string()
    .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'lowercase letters, digits and dashes, at most 40')
    .optional()
    .describe('derived from the name when absent'),
});
/** Every list answers `{data, next}` (API.md): one page, and the cursor for `?after=` (null on the last page). */
const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next: z.string().nullable().describe('pass as `after` for the next page; null on the last page') });
export const listPage = pageQuery();

export const organizationView = z.object({ id: z.string(), name: z.string(), slug: z.string(), role });
export const organizationList = listOf(organizationView.extend({ active: z.boolean() }));

export const memberView = z.object({ userId: z.string(), email: z.string(), name: z.string().nullable(), role, joinedAt: z.string() });
export const memberList = listOf(memberView);
export const changeRoleBody = z.object({ role });
export const changeRoleResponse = z.object({ userId: z.string(), role });

export const inviteBody = z.object({
  email: emailSchema,
  role,
  expiresAt: z.iso.datetime({ offset: true }).optional().describe('when the invitation lapses; default 7 days, at most 30'),
});
export const invitationCreated = z.object({ id: z.string(), token: z.string().describe('single-use; shown only here'), email: z.string(), role, expiresAt: z.string() });
export const invitationList = listOf(
  z.object({ id: z.string(), email: z.string(), role, createdAt: z.string(), expiresAt: z.string(), acceptedAt: z.string().nullable(), acceptedBy: z.string().nullable() }),
);
export const invitationAccepted = z.object({ organizationId: z.string(), role });
