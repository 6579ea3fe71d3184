import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpFetch } from './http-fetch';

// The CLI's fetch against a real HTTP server on loopback: what the client and `runs follow` read.
let server: Server;
let base: string;
let releaseStream: () => void = () => undefined;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url === '/echo') {
        res.writeHead(201, { 'content-type': 'application/json', 'x-seen': 'yes' });
        res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'], key: req.headers['x-api-key'], body: Buffer.concat(chunks).toString() }));
      } else if (req.url === '/empty') {
        res.writeHead(204).end();
      } else if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: one\n\n');
        releaseStream = () => res.end('data: two\n\n');
      } else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the CLI client fetch over node:http', () => {
  it('sends a Request with its method, headers and body, and answers its status, headers and body', async () => {
    const request = new Request(`${base}/echo`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k1' }, body: '{"n":1}' });
    const response = await httpFetch(request);
    expect(response.status).toBe(201);
    expect(response.headers.get('x-seen')).toBe('yes');
    expect(await response.json()).toEqual({ method: 'POST', type: 'application/json', key: 'k1', body: '{"n":1}' });
  });

  it('takes a URL and init as fetch does, and answers a 4xx as a response, not an error', async () => {
    const response = await httpFetch(`${base}/missing`, { method: 'GET' });
    expect(response.status).toBe(404);
    expect(response.ok).toBe(false);
    expect(await response.json()).toEqual({ error: 'not_found' });
  });

  it('answers a 204 with no body', async () => {
    const response = await httpFetch(`${base}/empty`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  it('streams the body as it arrives (server-sent events)', async () => {
    const response = await httpFetch(`${base}/stream`);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    expect(decoder.decode((await reader.read()).value)).toBe('data: one\n\n');
    releaseStream();
    let rest = '';
    for (let read = await reader.read(); !read.done; read = await reader.read()) rest += decoder.decode(read.value);
    expect(rest).toBe('data: two\n\n');
  });

  it('rejects when nothing listens, with the connection error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(httpFetch(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('rejects when its signal aborts', async () => {
    const controller = new AbortController();
    const pending = httpFetch(`${base}/stream`, { signal: controller.signal }).then((response) => response.text());
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    releaseStream();
  });
});
