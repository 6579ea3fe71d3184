import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { loggerOptions, requestLogger } from './logging';

/** A real HTTP server whose handler answers as the path says, behind the request logger; the lines it wrote. */
async function serve(level: string): Promise<{ server: Server; url: string; lines: Record<string, unknown>[] }> {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  const { stream: _none, ...options } = loggerOptions(level);
  const log = requestLogger(pino(options, sink));
  const server = createServer((req, res) => {
    log(req, res, 'req-1', () => {
      if (req.url?.startsWith('/slow')) return; // answered never: the client gives up
      res.statusCode = req.url?.startsWith('/fail') ? 503 : 200;
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, lines };
}

function get(url: string, abortAfterMs?: number): Promise<void> {
  return new Promise((resolve) => {
    const req = request(url, (res) => res.resume().on('end', resolve));
    req.on('error', () => resolve());
    if (abortAfterMs !== undefined) setTimeout(() => req.destroy(), abortAfterMs);
    req.end();
  });
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('requestLogger', () => {
  it('writes one line per request: completed, errored (a 5xx, at error) or aborted, with its id and a redacted URL', async () => {
    const { server, url, lines } = await serve('info');
    try {
      await get(`${url}/hooks/whk_secret-token?x=1`);
      await get(`${url}/fail`);
      await get(`${url}/slow`, 20);
      await settle();
      expect(lines).toEqual([
        expect.objectContaining({ level: 30, msg: 'request completed', req: { id: 'req-1', method: 'GET', url: '/hooks/[redacted]?x=1' }, res: { statusCode: 200 }, responseTime: expect.any(Number) }),
        expect.objectContaining({ level: 50, msg: 'request errored', res: { statusCode: 503 } }),
        expect.objectContaining({ level: 30, msg: 'request aborted', req: expect.objectContaining({ url: '/slow' }) }),
      ]);
      expect(JSON.stringify(lines)).not.toContain('whk_secret-token');
    } finally {
      server.close();
    }
  });

  it('writes only what the level lets through', async () => {
    const { server, url, lines } = await serve('warn');
    try {
      await get(`${url}/ok`);
      await get(`${url}/fail`);
      await settle();
      expect(lines.map((line) => line.msg)).toEqual(['request errored']);
    } finally {
      server.close();
    }
  });
});
