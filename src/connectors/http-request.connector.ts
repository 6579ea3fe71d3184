import { z } from 'zod';
import { ConnectorError } from '../domain/connectors/connector-error';
import { defineConnector } from '../domain/connectors/define-connector';
import { isJsonContentType, readCappedBody } from './read-capped-body';
import { fetchGuarded, rethrow } from './guarded-fetch';
import { dnsResolver, type HostResolver } from './ssrf-guard';

export interface HttpRequestOptions {
  /** Hosts the SSRF guard lets through even when they are private (THODARE_HTTP_ALLOW). */
  allowHosts?: readonly string[];
  /** Upper bound of the per-call `maxResponseBytes` param, in bytes (default 10 MiB). */
  maxResponseBytes?: number;
  /** DNS resolution used by the SSRF guard (default: node:dns lookup). */
  resolve?: HostResolver;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** Cap of the per-call `timeoutMs` param, and the step's own per-attempt timeout. */
const MAX_CALL_TIMEOUT_MS = 300_000;

const params = z.object({
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']).default('GET'),
  url: z.url({ protocol: /^https?$/ }).describe('Absolute http(s) URL'),
  query: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
    .optional()
    .describe('Added to the URL query string'),
  headers: z.record(z.string(), z.string()).optional(),
  body: z
    .unknown()
    .optional()
    .describe('A string is sent as text; any other JSON value as application/json'),
  timeoutMs: z
    .number()
    .int()
    .min(1)
    .max(MAX_CALL_TIMEOUT_MS)
    .default(DEFAULT_TIMEOUT_MS)
    .describe('Per-call timeout in milliseconds'),
  maxResponseBytes: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('Fail when the response body is larger (bytes)'),
  failOnNon2xx: z
    .boolean()
    .default(false)
    .describe('Fail the step on a non-2xx status instead of returning it'),
});

const outputs = z.object({
  status: z.number().int(),
  headers: z.record(z.string(), z.string()),
  body: z.unknown().describe('Parsed JSON when the response says JSON, otherwise text'),
  ok: z.boolean().describe('status is 2xx'),
});

/**
 * `http_request`: one HTTP call. Non-2xx statuses are an output (`ok: false`), unless
 * `failOnNon2xx`. Refuses non-public addresses (SSRF guard) before the call and on every
 * redirect hop; the per-call timeout and the caller's AbortSignal both abort it.
 */
export function createHttpRequestConnector(options: HttpRequestOptions = {}) {
  const cap = options.maxResponseBytes ?? 10 * 1024 * 1024;
  const allowHosts = options.allowHosts ?? [];
  const resolve = options.resolve ?? dnsResolver;
  return defineConnector({
    type: 'http_request',
    name: 'HTTP request',
    description:
      'Calls an HTTP(S) URL. Output: {status, headers, body, ok}; a non-2xx status is returned, not thrown, unless failOnNon2xx.',
    category: 'integration',
    kind: 'action',
    aliases: ['http', 'fetch', 'api_call', 'webhook_call', 'request', 'rest'],
    params,
    outputs,
    retry: {
      maxAttempts: 3,
      initialIntervalMs: 1_000,
      backoffCoefficient: 2,
      maxIntervalMs: 30_000,
      nonRetryableErrors: [
        'ssrf_blocked',
        'invalid_url',
        'response_too_large',
        'http_client_error',
        'too_many_redirects',
      ],
    },
    timeoutMs: MAX_CALL_TIMEOUT_MS,
    overridable: {
      retry: { maxAttempts: { min: 1, max: 10 }, intervalMs: { min: 0, max: 600_000 } },
      timeoutMs: { min: 1_000, max: 900_000 },
    },
    run: async (input, ctx) => {
      const url = new URL(input.url);
      for (const [key, value] of Object.entries(input.query ?? {}))
        url.searchParams.append(key, String(value));
      const headers = new Headers(input.headers ?? {});
      let body: string | undefined;
      if (input.body !== undefined && input.method !== 'GET' && input.method !== 'HEAD') {
        body = typeof input.body === 'string' ? input.body : JSON.stringify(input.body);
        if (!headers.has('content-type'))
          headers.set(
            'content-type',
            typeof input.body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
          );
      }
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(input.timeoutMs)]);
      const response = await fetchGuarded(
        url,
        { method: input.method, headers, body, signal },
        allowHosts,
        resolve,
        input.timeoutMs,
      );
      const raw = await readCappedBody(
        response,
        Math.min(input.maxResponseBytes ?? cap, cap),
      ).catch((error) => rethrow(error, input.timeoutMs));
      const text = new TextDecoder().decode(raw);
      const result = {
        status: response.status,
        headers: Object.fromEntries(response.headers),
        body: parseBody(text, response),
        ok: response.ok,
      };
      if (!response.ok && input.failOnNon2xx) {
        const server = response.status >= 500 || response.status === 429;
        throw new ConnectorError(
          server ? 'http_server_error' : 'http_client_error',
          `HTTP ${response.status} from ${url.host}`,
          {
            retryable: server,
            details: { status: response.status, body: text.slice(0, 2_000) },
          },
        );
      }
      return result;
    },
  });
}

function parseBody(text: string, response: Response): unknown {
  if (!isJsonContentType(response.headers.get('content-type')) || text.length === 0) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
