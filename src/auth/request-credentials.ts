import type { FastifyRequest } from 'fastify';
import { isUnstorableText } from '../domain/run/storable';
import { API_KEY_PREFIX } from './credentials';

/** The HttpOnly cookie browser UIs authenticate with. */
export const SESSION_COOKIE = 'thodare_session';

/** A request header's first value, trimmed; undefined when absent or blank. */
export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
}

function bearer(request: FastifyRequest): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header(request, 'authorization') ?? '');
  return match?.[1];
}

/** `x-api-key: thd_…`, or `Authorization: Bearer thd_…`. */
export function apiKeyFrom(request: FastifyRequest): string | undefined {
  const explicit = header(request, 'x-api-key');
  if (explicit) return explicit;
  const token = bearer(request);
  return token?.startsWith(API_KEY_PREFIX) ? token : undefined;
}

/** A non-key bearer token, else the session cookie. */
export function sessionTokenFrom(request: FastifyRequest): { token: string; fromCookie: boolean } | undefined {
  const token = bearer(request);
  if (token) return token.startsWith(API_KEY_PREFIX) ? undefined : { token, fromCookie: false };
  if (header(request, 'authorization')) return undefined; // another scheme: not ours, and not silently the cookie
  const fromCookie = cookie(header(request, 'cookie'), SESSION_COOKIE);
  return fromCookie ? { token: fromCookie, fromCookie: true } : undefined;
}

/** The named cookie's value; undefined when absent or unreadable (bad %-escapes, NUL), i.e. no credential. */
export function cookie(cookieHeader: string | undefined, name: string): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decoded(part.slice(eq + 1).trim());
  }
  return undefined;
}

function decoded(value: string): string | undefined {
  try {
    const text = decodeURIComponent(value);
    return text && !isUnstorableText(text) ? text : undefined;
  } catch {
    return undefined; // URIError: a malformed %-escape
  }
}
