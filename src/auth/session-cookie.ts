import type { FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_COOKIE } from './request-credentials';

/**
 * HttpOnly (scripts cannot read it), SameSite=Lax (not sent on cross-site POST/PATCH/DELETE),
 * Secure when the request came over HTTPS. Lax still lets same-site pages (another port, a
 * sibling subdomain) post with it: writes it authenticates also need the CSRF header (`csrf.ts`).
 */
export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, expiresAt: Date): void {
  const maxAge = Math.max(0, Math.floor((expiresAt.getTime() - Date.now()) / 1000));
  const secure = request.protocol === 'https' ? '; Secure' : '';
  void reply.header('set-cookie', `${SESSION_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`);
}

export function clearSessionCookie(reply: FastifyReply): void {
  void reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`);
}
