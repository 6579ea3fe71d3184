import type { ApiRouteHeader } from './api-route.decorator';
import { errorSchema } from './error.schemas';
import { type JsonObject, SchemaComponents } from './openapi-components';
import type { RouteInfo } from './route-catalog';

const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

/** The errors most routes share, by status; `operation` picks the ones a route can answer. */
const COMMON_ERRORS: Record<number, [name: string, description: string]> = {
  400: ['BadRequest', 'invalid_body (with `issues`), invalid_json or invalid_query (with `issues`)'],
  401: ['Unauthorized', 'unauthorized or invalid_credentials: no usable API key or session'],
  403: ['Forbidden', 'forbidden (with `requiredRole`), no_organization, csrf_required (a cookie-authenticated write without X-Thodare-CSRF) or cross_site_request (sign-in/sign-up from another site)'],
  404: ['NotFound', 'not_found: no such resource in this organization'],
  413: ['PayloadTooLarge', 'payload_too_large: the body is over THODARE_BODY_LIMIT'],
  415: ['UnsupportedMediaType', 'unsupported_media_type: send application/json'],
  429: ['RateLimited', 'rate_limited, or too_many_streams (a run stream or NDJSON export past the organization\'s held requests: THODARE_MAX_HELD_REQUESTS_PER_ORG); both with `retryAfterMs` and a Retry-After header'],
};

const HEADERS: Record<ApiRouteHeader | 'X-Thodare-Agent', [name: string, parameter: JsonObject]> = {
  'X-Thodare-Agent': ['Agent', { description: 'A label for the agent or tool acting (at most 200 characters); recorded with every event the request causes', schema: { type: 'string' } }],
  'If-Match': ['IfMatch', { description: 'The workflow version the change is based on: `"3"`, `3` and `W/"3"` all mean 3; another version is 412 version_mismatch', schema: { type: 'string' } }],
  'Idempotency-Key': ['IdempotencyKey', { description: 'Same key and body replay the stored answer; another body is 409 idempotency_conflict', schema: { type: 'string', minLength: 1, maxLength: 255 } }],
};

/** OpenAPI 3.1 from the registered routes and their zod schemas (JSON Schema via zod v4). */
export function buildOpenApi(routes: readonly RouteInfo[], version: string): Record<string, unknown> {
  const components = new SchemaComponents();
  const errorComponent = components.convert(errorSchema, 'output');
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route, components);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Thodare',
      version,
      description: 'Control plane for durable workflows that LLM agents build.',
      license: { name: 'UNLICENSED', identifier: 'LicenseRef-UNLICENSED' },
    },
    servers: [{ url: '/', description: 'this server' }],
    paths,
    components: {
      schemas: components.finish({ Error: errorComponent }),
      responses: Object.fromEntries(Object.values(COMMON_ERRORS).map(([name, description]) => [name, { description, content: errorContent }])),
      parameters: Object.fromEntries(Object.entries(HEADERS).map(([header, [name, parameter]]) => [name, { name: header, in: 'header', required: false, ...parameter }])),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API key (thd_…) or a session token' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
    },
  };
}

function operation(route: RouteInfo, components: SchemaComponents): Record<string, unknown> {
  const spec = route.spec;
  const pathParams = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string);
  const parameters: JsonObject[] = pathParams.map((name) => ({ name, in: 'path', required: true, schema: { type: 'string' } }));
  if (spec?.query) {
    const query = components.convert(spec.query, 'input') as { properties?: Record<string, JsonObject>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema });
    }
  }
  const headers: (ApiRouteHeader | 'X-Thodare-Agent')[] = [...(route.path.startsWith('/api/') ? (['X-Thodare-Agent'] as const) : []), ...(spec?.headers ?? [])];
  for (const header of headers) parameters.push({ $ref: `#/components/parameters/${HEADERS[header][0]}` });
  const bodyOptional = spec?.body?.safeParse({}).success ?? false;
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: spec?.summary ?? `${route.method} ${route.path}`,
    ...(spec?.description ? { description: spec.description } : {}),
    tags: spec?.tags ?? [route.path.split('/').filter(Boolean)[route.path.startsWith('/api/') ? 1 : 0] ?? 'system'],
    ...(parameters.length ? { parameters } : {}),
    ...(spec?.body ? { requestBody: { required: !bodyOptional, content: { 'application/json': { schema: components.convert(spec.body, 'input') } } } } : {}),
    responses: responses(route, pathParams.length > 0, components),
    security: route.public ? [] : [{ bearer: [] }, { apiKey: [] }],
  };
}

function responses(route: RouteInfo, hasParams: boolean, components: SchemaComponents): Record<string, unknown> {
  const spec = route.spec;
  const answers: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(spec?.responses ?? { 200: 'OK' })) {
    answers[status] =
      typeof response === 'string'
        ? { description: response }
        : { description: 'OK', content: { 'application/json': { schema: components.convert(response, 'output') } } };
  }
  const common = new Set<number>();
  if (spec?.body || spec?.query || hasParams) common.add(400);
  if (!route.public) [401, 403].forEach((s) => common.add(s));
  if (hasParams) common.add(404);
  if (spec?.body) [413, 415].forEach((s) => common.add(s));
  if (route.rateLimited) common.add(429);
  for (const [status, description] of Object.entries(spec?.errors ?? {})) answers[status] ??= { description, content: errorContent };
  for (const status of [...common].sort()) answers[status] ??= { $ref: `#/components/responses/${COMMON_ERRORS[status]?.[0]}` };
  answers.default = { description: 'any other error (500 internal_error, 503 database_unavailable or not_ready)', content: errorContent };
  return answers;
}
