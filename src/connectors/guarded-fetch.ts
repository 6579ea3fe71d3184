import { ConnectorError } from '../domain/connectors/connector-error';
import { assertPublicUrl, type HostResolver } from './ssrf-guard';

const MAX_REDIRECTS = 5;

/**
 * `fetch` with the SSRF guard on the first URL and on every redirect hop (redirects are followed
 * by hand, at most 5; 303, and 301/302 after a POST, continue as GET without a body).
 */
export async function fetchGuarded(
  url: URL,
  init: RequestInit,
  allowHosts: readonly string[],
  resolve: HostResolver,
  timeoutMs: number,
): Promise<Response> {
  let current = url;
  let request = init;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
    await assertPublicUrl(current, allowHosts, resolve);
    const response = await fetch(current, { ...request, redirect: 'manual' }).catch((error) =>
      rethrow(error, timeoutMs),
    );
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return response;
    await response.body?.cancel().catch(() => undefined);
    current = new URL(location, current);
    if (
      response.status === 303 ||
      ((response.status === 301 || response.status === 302) && request.method === 'POST')
    ) {
      const headers = new Headers(request.headers);
      headers.delete('content-type');
      request = { ...request, method: 'GET', body: undefined, headers };
    }
  }
  throw new ConnectorError(
    'too_many_redirects',
    `More than ${MAX_REDIRECTS} redirects from ${url.host}`,
    { retryable: false },
  );
}

/** Maps fetch failures to ConnectorErrors: `timeout`, `aborted` (not retryable), `network_error`. */
export function rethrow(error: unknown, timeoutMs: number): never {
  if (error instanceof ConnectorError) throw error;
  const name = (error as { name?: string } | null)?.name;
  if (name === 'TimeoutError')
    throw new ConnectorError('timeout', `The request did not finish within ${timeoutMs} ms.`, {
      cause: error,
    });
  if (name === 'AbortError')
    throw new ConnectorError('aborted', 'The request was aborted.', {
      retryable: false,
      cause: error,
    });
  throw new ConnectorError(
    'network_error',
    `The request failed: ${String((error as Error)?.message ?? error)}`,
    { cause: error },
  );
}
