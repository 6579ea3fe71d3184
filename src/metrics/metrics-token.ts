import { createHash, timingSafeEqual } from 'node:crypto';

/** Whether an `Authorization` header carries the metrics token (always true when none is configured). */
export function metricsAuthorized(token: string | undefined, authorization: string | string[] | undefined): boolean {
  if (token === undefined) return true;
  const header = Array.isArray(authorization) ? authorization[0] : authorization;
  const match = /^Bearer (.+)$/i.exec(header ?? '');
  if (!match) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(match[1]!.trim()), digest(token));
}
