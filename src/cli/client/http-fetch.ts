import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';

/** Statuses whose response has no body (the `Response` constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

/**
 * A `fetch` over `node:http`, for the CLI's client. Each command is a short-lived process, and
 * the global `fetch` cost every one of them ~200 ms: undici compiles its HTTP parser, which is
 * WebAssembly, and the process then waits at exit for V8 to finish optimising it (a
 * `workflows list` took ~360 ms against ~150 for an empty `node` on the same machine; strace
 * showed the output written 280 ms before the exit). `node:http` parses natively.
 *
 * It takes what the client sends — a `Request`, or a URL and init — and answers a `Response`
 * whose body streams (`runs follow` reads server-sent events from it). Unlike `fetch` it does
 * not follow redirects: the API answers every route itself.
 */
export async function httpFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const request = input instanceof Request && init === undefined ? input : new Request(input, init);
  const url = new URL(request.url);
  const body = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
  const headers: Record<string, string> = Object.fromEntries(request.headers);
  if (body) headers['content-length'] = String(body.length);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const outgoing = send(url, { method: request.method, headers, signal: request.signal }, (incoming) => resolve(responseOf(incoming, request.method)));
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function responseOf(incoming: IncomingMessage, method: string): Response {
  const status = incoming.statusCode ?? 0;
  const headers = new Headers();
  for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2) headers.append(incoming.rawHeaders[i]!, incoming.rawHeaders[i + 1]!);
  if (NULL_BODY_STATUSES.has(status) || method === 'HEAD') {
    incoming.resume();
    return new Response(null, { status, statusText: incoming.statusMessage ?? '', headers });
  }
  const body = Readable.toWeb(incoming) as ReadableStream<Uint8Array>;
  return new Response(body, { status, statusText: incoming.statusMessage ?? '', headers });
}
