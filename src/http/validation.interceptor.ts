import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { Observable } from 'rxjs';
import type { ZodType } from 'zod';
import { AppError } from '../errors';
import { API_ROUTE, ApiRouteSpec } from './api-route.decorator';
import { assertStorableRequest } from './storable-request';

/**
 * Parses body and query with the route's zod schemas; 400 with every issue when they fail. Then
 * refuses text Postgres cannot store, on every route (see `assertStorableRequest`).
 */
@Injectable()
export class ValidationInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const spec = this.reflector.get<ApiRouteSpec | undefined>(API_ROUTE, context.getHandler());
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    assertStorableRequest({ params: request.params });
    if (spec?.body) request.body = parse(spec.body, request.body ?? {}, 'invalid_body', 'body');
    if (spec?.query) request.query = parse(spec.query, request.query ?? {}, 'invalid_query', 'query string');
    assertStorableRequest({ query: request.query, body: request.body });
    return next.handle();
  }
}

function parse(schema: ZodType, value: unknown, code: string, where: string): never | ReturnType<ZodType['parse']> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), code: i.code, message: i.message }));
  const first = issues[0];
  throw new AppError(code, `invalid ${where}: ${first ? `${first.path || '(root)'}: ${first.message}` : 'rejected'}`, { issues });
}
