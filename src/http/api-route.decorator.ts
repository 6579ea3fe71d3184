import { SetMetadata } from '@nestjs/common';
import type { ZodType } from 'zod';

export const API_ROUTE = 'thodare:api-route';
export const PUBLIC_ROUTE = 'thodare:public-route';

/**
 * What a route accepts and answers, as zod schemas. The same spec validates the request
 * (`ValidationGuard`) and describes the route in `/openapi.json`, so the two cannot
 * drift apart. Handlers read the parsed values from `@Body()` / `@Query()`.
 */
export interface ApiRouteSpec {
  summary: string;
  description?: string;
  tags?: string[];
  body?: ZodType;
  query?: ZodType;
  /** Status → response schema (or a sentence when there is no body). */
  responses?: Record<number, ZodType | string>;
  /**
   * Request headers the route reads, besides the ones every route takes (`Authorization`,
   * `X-Thodare-Agent`). Declared as header parameters in `/openapi.json`.
   */
  headers?: ApiRouteHeader[];
  /**
   * Route-specific error statuses → the codes and when (e.g. `{409: 'run_finished: …'}`).
   * The common ones (400, 401, 403, 404, 413, 415, 429) are derived from the route itself.
   */
  errors?: Record<number, string>;
}

/** Request headers a route may declare; each has one definition in `components.parameters`. */
export type ApiRouteHeader = 'If-Match' | 'Idempotency-Key';

export const ApiRoute = (spec: ApiRouteSpec) => SetMetadata(API_ROUTE, spec);

/** Marks a route that needs no credentials (the auth guard lets it through). */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
