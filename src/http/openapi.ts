import { z, ZodType } from 'zod';
import type { RouteInfo } from './route-catalog';

const errorBody = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string', description: 'stable machine-readable code' }, message: { type: 'string' } },
};

/** OpenAPI 3.1 from the registered routes and their zod schemas (JSON Schema via zod v4). */
export function buildOpenApi(routes: readonly RouteInfo[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    paths[path] ??= {};
    paths[path][route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Thodare', version, description: 'Control plane for durable workflows that LLM agents build.' },
    paths,
    components: {
      schemas: { Error: errorBody },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API key (thd_…) or a session token' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
    },
  };
}

function operation(route: RouteInfo): Record<string, unknown> {
  const spec = route.spec;
  const parameters = [...route.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  if (spec?.query) {
    const query = jsonSchema(spec.query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      parameters.push({ name, in: 'query', required: query.required?.includes(name) ?? false, schema: schema as { type: string } });
    }
  }
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(spec?.responses ?? { 200: 'OK' })) {
    responses[status] =
      typeof response === 'string'
        ? { description: response }
        : { description: 'OK', content: { 'application/json': { schema: jsonSchema(response, 'output') } } };
  }
  responses.default = { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  return {
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: spec?.summary ?? `${route.method} ${route.path}`,
    ...(spec?.description ? { description: spec.description } : {}),
    tags: spec?.tags ?? [route.path.split('/').filter(Boolean)[route.path.startsWith('/api/') ? 1 : 0] ?? 'system'],
    ...(parameters.length ? { parameters } : {}),
    ...(spec?.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } } } } : {}),
    responses,
    security: route.public ? [] : [{ bearer: [] }, { apiKey: [] }],
  };
}

function jsonSchema(schema: ZodType, io: 'input' | 'output'): unknown {
  try {
    return z.toJSONSchema(schema, { io, unrepresentable: 'any' });
  } catch {
    return {};
  }
}
