import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpRequestConnector } from './http-request.connector';
import { testContext } from './connector-test-context';

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const routes: Record<string, Handler> = {
  '/json': (_req, res) =>
    res
      .writeHead(200, { 'content-type': 'application/json; charset=utf-8' })
      .end('{"items":[1,2]}'),
  '/text': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('hello'),
  '/echo': (req, res, body) =>
    res.writeHead(201, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        method: req.method,
        url: req.url,
        contentType: req.headers['content-type'],
        auth: req.headers.authorization,
        body,
      }),
    ),
  '/missing': (_req, res) =>
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"nope"}'),
  '/broken': (_req, res) => res.writeHead(503).end('down'),
  '/slow': (_req, res) => {
    setTimeout(() => res.writeHead(200).end('late'), 2_000).unref();
  },
  '/big': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    for (let i = 0; i < 64; i += 1) res.write('x'.repeat(1024));
    res.end();
  },
  '/big-declared': (_req, res) =>
    res.writeHead(200, { 'content-length': String(5000) }).end('y'.repeat(5000)),
  '/to-json': (_req, res) => res.writeHead(302, { location: '/json' }).end(),
  '/to-metadata': (_req, res) =>
    res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
};

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () =>
      (routes[(req.url ?? '').split('?')[0] ?? ''] ?? ((_q, r) => r.writeHead(500).end()))(
        req,
        res,
        body,
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const allowed = createHttpRequestConnector({
  allowHosts: ['127.0.0.1'],
  maxResponseBytes: 32 * 1024,
});
const call = (input: Record<string, unknown>, connector = allowed, signal?: AbortSignal) =>
  connector.run?.(connector.params.parse(input), testContext(signal));

describe('http_request', () => {
  it('parses JSON when the response says JSON', async () => {
    await expect(call({ url: `${base}/json` })).resolves.toMatchObject({
      status: 200,
      ok: true,
      body: { items: [1, 2] },
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
  });

  it('returns text bodies as text', async () => {
    await expect(call({ url: `${base}/text` })).resolves.toMatchObject({ body: 'hello', ok: true });
  });

  it('sends query, headers and a JSON body', async () => {
    const result = await call({
      method: 'POST',
      url: `${base}/echo`,
      query: { q: 'a b', n: 1 },
      headers: { authorization: 'Bearer t' },
      body: { x: 1 },
    });
    expect(result).toMatchObject({
      status: 201,
      body: {
        method: 'POST',
        url: '/echo?q=a+b&n=1',
        contentType: 'application/json',
        auth: 'Bearer t',
        body: '{"x":1}',
      },
    });
  });

  it('sends a string body as text', async () => {
    await expect(call({ method: 'PUT', url: `${base}/echo`, body: 'raw' })).resolves.toMatchObject({
      body: { contentType: 'text/plain; charset=utf-8', body: 'raw' },
    });
  });

  it('returns a non-2xx status as output, not as a failure', async () => {
    await expect(call({ url: `${base}/missing` })).resolves.toEqual({
      status: 404,
      ok: false,
      body: { error: 'nope' },
      headers: expect.any(Object),
    });
  });

  it('fails on non-2xx when asked, retryable only for server errors', async () => {
    await expect(call({ url: `${base}/missing`, failOnNon2xx: true })).rejects.toMatchObject({
      code: 'http_client_error',
      retryable: false,
    });
    await expect(call({ url: `${base}/broken`, failOnNon2xx: true })).rejects.toMatchObject({
      code: 'http_server_error',
      retryable: true,
    });
  });

  it('follows redirects within allowed hosts', async () => {
    await expect(call({ url: `${base}/to-json` })).resolves.toMatchObject({
      body: { items: [1, 2] },
    });
  });

  it('refuses loopback without the operator allow-list', async () => {
    await expect(call({ url: `${base}/json` }, createHttpRequestConnector())).rejects.toMatchObject(
      { code: 'ssrf_blocked', retryable: false },
    );
  });

  it('refuses a name that resolves to a private address', async () => {
    const connector = createHttpRequestConnector({ resolve: async () => ['10.0.0.8'] });
    await expect(call({ url: 'http://intranet.example/' }, connector)).rejects.toMatchObject({
      code: 'ssrf_blocked',
    });
  });

  it('re-checks every redirect hop (no redirect to cloud metadata)', async () => {
    await expect(call({ url: `${base}/to-metadata` })).rejects.toMatchObject({
      code: 'ssrf_blocked',
    });
  });

  it('times out per call', async () => {
    await expect(call({ url: `${base}/slow`, timeoutMs: 150 })).rejects.toMatchObject({
      code: 'timeout',
    });
  });

  it('aborts when the run cancels', async () => {
    const controller = new AbortController();
    const pending = call({ url: `${base}/slow` }, allowed, controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'aborted', retryable: false });
  });

  it('caps the response size, streamed or declared', async () => {
    await expect(call({ url: `${base}/big` })).rejects.toMatchObject({
      code: 'response_too_large',
      retryable: false,
    });
    await expect(
      call({ url: `${base}/big-declared`, maxResponseBytes: 1000 }),
    ).rejects.toMatchObject({ code: 'response_too_large' });
  });

  it('validates its params: http(s) URLs only', () => {
    expect(allowed.params.safeParse({ url: 'file:///etc/passwd' }).success).toBe(false);
    expect(allowed.params.safeParse({ url: 'https://example.com', method: 'BREW' }).success).toBe(
      false,
    );
  });
});
