import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors';
import { apiKeyFrom, header, sessionTokenFrom } from './request-credentials';

/**
 * The proof a cookie-authenticated write must carry. A cross-site form cannot set a custom
 * header, and a cross-site `fetch` that sets one needs a CORS preflight this API never grants,
 * so its presence shows the request came from a page of this origin (the console). Any
 * non-empty value counts; the console sends `1`.
 */
export const CSRF_HEADER = 'x-thodare-csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** 403: a write authenticated by the session cookie came without `X-Thodare-CSRF`. */
export class CsrfProofMissing extends AppError {
  constructor() {
    super('csrf_required', `a write authenticated by the session cookie needs the header X-Thodare-CSRF: 1 (or authenticate with Authorization instead)`);
  }
}

/** 403: a browser page of another site tried to open a session here (login CSRF). */
export class CrossSiteSignIn extends AppError {
  constructor() {
    super('cross_site_request', 'signing in or up from a page of another site is refused');
  }
}

/**
 * Whether the browser's session cookie is what authenticates this request: an API key or an
 * `Authorization` header wins over the cookie (the strategies try them first), and neither is
 * something a cross-site page can make a browser send.
 */
export function authenticatedByCookie(request: FastifyRequest): boolean {
  return !apiKeyFrom(request) && sessionTokenFrom(request)?.fromCookie === true;
}

/** False for an unsafe-method request that the cookie authenticates and that carries no proof. */
export function hasCsrfProof(request: FastifyRequest): boolean {
  return SAFE_METHODS.has(request.method) || !authenticatedByCookie(request) || header(request, CSRF_HEADER) !== undefined;
}

/** Throws `csrf_required` unless {@link hasCsrfProof}. Called by the auth guard once the principal is known. */
export function assertCsrfProof(request: FastifyRequest): void {
  if (!hasCsrfProof(request)) throw new CsrfProofMissing();
}

/**
 * Refuses a session-opening request (`@OpensSession()`: sign-in, sign-up) sent by a page of
 * another site, so nobody can sign a visitor into an account of the attacker's choosing. `Sec-Fetch-Site` is set by the browser alone (a
 * page cannot forge it): only `same-origin` and `none` (typed or bookmarked) pass. Browsers
 * without it are judged by `Origin`, which must be this server's own origin or `publicUrl`.
 * Clients that send neither (the CLI, scripts, tests) are not browsers and pass.
 */
export function assertSameOriginSignIn(request: FastifyRequest, publicUrl: string | undefined): void {
  const site = header(request, 'sec-fetch-site')?.toLowerCase();
  if (site !== undefined) {
    if (site !== 'same-origin' && site !== 'none') throw new CrossSiteSignIn();
    return;
  }
  const origin = header(request, 'origin');
  if (origin === undefined) return;
  const own = [`${request.protocol}://${request.host}`.toLowerCase(), ...(publicUrl ? [originOf(publicUrl)] : [])];
  if (!own.includes(origin.toLowerCase())) throw new CrossSiteSignIn();
}

function originOf(url: string): string {
  try {
    return new URL(url).origin.toLowerCase();
  } catch {
    return '';
  }
}
