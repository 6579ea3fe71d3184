import type { components } from '../../src/client/openapi-types';

/** The API's named schemas, generated from /openapi.json: the console reads exactly the contract. */
export type Schemas = components['schemas'];

/** An answer other than 2xx: the API's `{error, message}` body, with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Fired when the session is gone (401), so the app can show the sign-in page. */
export const UNAUTHORIZED_EVENT = 'thodare:unauthorized';

const SAFE_METHODS = new Set(['GET', 'HEAD']);

/**
 * One call of the public API with the session cookie. Writes carry `X-Thodare-CSRF`, the proof
 * the API demands of cookie-authenticated writes (a page of another site cannot send it).
 */
export async function api<T>(path: string, options: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { ...options.headers, accept: 'application/json' };
  if (!SAFE_METHODS.has(method)) headers['x-thodare-csrf'] = '1';
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  const body = text ? parse(text) : undefined;
  if (!response.ok) {
    const error = (body ?? {}) as { error?: string; message?: string };
    if (response.status === 401 && !path.startsWith('/api/auth/')) window.dispatchEvent(new Event(UNAUTHORIZED_EVENT));
    throw new ApiError(response.status, error.error ?? `http_${response.status}`, error.message ?? response.statusText);
  }
  return body as T;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `?a=1&b=2` from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** A short sentence for an error, for the page to show. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
