import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { ZodType } from 'zod';
import { AppError } from '../errors';
import { API_ROUTE, ApiRouteSpec } from './api-route.decorator';
import { assertStorableRequest } from './storable-request';

/**
 * Parses body and query with the route's zod schemas; 400 with every issue when they fail. Then
 * refuses text Postgres cannot store, on every route (see `assertStorableRequest`).
 *
 * The last guard (after authentication and the rate limit) rather than an interceptor: it only
 * looks at the request, and Nest wraps every interceptor of every request in an rxjs pipeline
 * and two `AsyncResource.bind`s (~40-60 µs a request here) that a guard does without.
 */
@Injectable()
export class ValidationGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const spec = this.reflector.get<ApiRouteSpec | undefined>(API_ROUTE, context.getHandler());
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    assertStorableRequest({ params: request.params });
    if (spec?.body) request.body = parse(spec.body, request.body ?? {}, 'invalid_body', 'body');
    if (spec?.query) request.query = parse(spec.query, request.query ?? {}, 'invalid_query', 'query string');
    assertStorableRequest({ query: request.query, body: request.body });
    return true;
  }
}

function parse(schema: ZodType, value: unknown, code: string, where: string): never | ReturnType<ZodType['parse']> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), code: i.code, message: i.message }));
  const first = issues[0];
  throw new AppError(code, `invalid ${where}: ${first ? `${first.path || '(root)'}: ${first.message}` : 'rejected'}`, { issues });
}
