import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AppError } from '../errors';
import type { Actor, EventMetadata } from '../event-store/event';

export type Role = 'owner' | 'admin' | 'member' | 'viewer';

/**
 * Who is calling, as established by the auth guard: every organization-scoped query takes its
 * `organizationId` from here, never from the request body.
 */
export interface Principal {
  organizationId: string;
  role: Role;
  actor: Actor;
  authMode: 'session' | 'api_key';
  userId?: string;
  apiKeyId?: string;
  sessionId?: string;
}

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

const AGENT_HEADER = 'x-thodare-agent';
const MAX_LABEL = 200;

/** The authenticated principal; 401 when the route ran without one. */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new AppError('unauthorized', 'authentication required');
  return principal;
});

/** Event metadata for commands issued by this request (ARCHITECTURE §5). */
export const RequestMeta = createParamDecorator((_: unknown, context: ExecutionContext): EventMetadata => {
  return requestMetadata(context.switchToHttp().getRequest<AuthenticatedRequest>());
});

export function requestMetadata(request: AuthenticatedRequest): EventMetadata {
  const agent = label(request.headers[AGENT_HEADER]);
  const correlationId = label(request.headers['x-correlation-id']);
  return {
    actor: request.principal?.actor ?? { type: 'system', id: 'anonymous' },
    requestId: String(request.id),
    correlationId: correlationId ?? String(request.id),
    causationId: String(request.id),
    ...(agent ? { agent } : {}),
  };
}

/** A client-supplied label: first value, printable characters only, bounded length. */
function label(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  const clean = first?.replace(/[^\x20-\x7e]/g, '').trim().slice(0, MAX_LABEL);
  return clean ? clean : undefined;
}
