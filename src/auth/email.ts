import { z } from 'zod';

/** Emails are compared trimmed and lower-cased everywhere (sign-up, sign-in, invitations). */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

export const emailSchema = z.string().trim().max(320).pipe(z.email()).transform(normaliseEmail);
