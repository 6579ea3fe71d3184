import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';

/** The answer of one in-process REST call. */
export interface RestAnswer {
  status: number;
  body: unknown;
  headers: OutgoingHttpHeaders;
}

/** What every tool call of one MCP request shares: who calls, as whom, and how. */
export interface McpCaller {
  /** Calls a REST route of this app with the MCP request's own credentials and agent label. */
  call(method: 'GET' | 'POST', path: string, options?: { body?: unknown; query?: Record<string, unknown>; headers?: Record<string, string> }): Promise<RestAnswer>;
  /** Write tools refuse (403 forbidden) when true: `?readonly=1` or a viewer. */
  readOnly: boolean;
}

/**
 * Headers of the MCP request forwarded unchanged: the credentials (the REST route authenticates
 * again; the CSRF proof travels with the cookie, a cookie-authenticated MCP call already carried
 * it), and where the client reached this service — so the URLs an answer holds (a webhook's, an
 * approval link) are the ones the client can reach, not the in-process call's `localhost:80`.
 * The `x-forwarded-*` ones count only as the original request's did (`THODARE_TRUST_PROXY`).
 */
const FORWARDED = ['authorization', 'x-api-key', 'cookie', 'x-thodare-csrf', 'host', 'x-forwarded-proto', 'x-forwarded-host'] as const;

/**
 * Every tool calls the app's own REST routes through Fastify's `inject`, so tenancy, roles,
 * rate limits, validation, error codes and audit metadata are exactly those of REST.
 */
export function restCaller(server: FastifyInstance, request: FastifyRequest, agent: string, readOnly: boolean): McpCaller {
  const forwarded: Record<string, string> = {};
  for (const name of FORWARDED) {
    const value = request.headers[name];
    if (typeof value === 'string') forwarded[name] = value;
  }
  return {
    readOnly,
    async call(method, path, options = {}) {
      const headers: Record<string, string> = { ...forwarded, 'x-thodare-agent': agent, 'x-correlation-id': String(request.id), ...options.headers };
      if (options.body !== undefined) headers['content-type'] = 'application/json';
      const response = await server.inject({
        method,
        url: path + queryString(options.query ?? {}),
        headers,
        ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}),
      });
      return { status: response.statusCode, body: parsed(response.body), headers: response.headers };
    },
  };
}

function queryString(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null) params.set(key, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

function parsed(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return { error: 'internal', message: text.slice(0, 500) };
  }
}
