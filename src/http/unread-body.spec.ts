import { request, Agent } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { dropUnreadBodies, UNREAD_BODY_DROP_MS } from './unread-body';

/** A server whose JSON body limit is 1 KB, answering 413 past it (before the body has all arrived). */
async function server(): Promise<{ app: FastifyInstance; sockets: Socket[]; port: number }> {
  const app = Fastify({ bodyLimit: 1024 });
  dropUnreadBodies(app);
  app.post('/echo', async (req) => req.body);
  const sockets: Socket[] = [];
  app.server.on('connection', (socket: Socket) => sockets.push(socket));
  await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, sockets, port: (app.server.address() as AddressInfo).port };
}

describe('dropUnreadBodies', () => {
  it('leaves nothing behind on a kept-alive connection that is answered early again and again', async () => {
    const { app, sockets, port } = await server();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 12; i += 1) {
        const status = await new Promise<number>((resolve, reject) => {
          const req = request({ port, host: '127.0.0.1', path: '/echo', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': 64 * 1024 } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end(Buffer.alloc(64 * 1024, 0x20));
        });
        expect(status).toBe(413);
      }
      expect(sockets).toHaveLength(1); // the connection was kept
      expect(sockets[0]!.listenerCount('close')).toBeLessThan(5);
    } finally {
      agent.destroy();
      await app.close();
    }
  });

  it('leaves a request answered in process (inject, as the MCP tools call routes) alone', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask', 'Date', 'hrtime', 'performance'] });
    try {
      const app = Fastify({ bodyLimit: 1024 });
      dropUnreadBodies(app);
      app.post('/echo', async (req) => req.body);
      const res = await app.inject({ method: 'POST', url: '/echo', payload: { a: 'x'.repeat(4096) } });
      expect(res.statusCode).toBe(413);
      expect(() => jest.advanceTimersByTime(UNREAD_BODY_DROP_MS + 1)).not.toThrow();
      await app.close();
    } finally {
      jest.useRealTimers();
    }
  });
});
