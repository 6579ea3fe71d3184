import { createServer, connect, type Server, type Socket } from 'node:net';
import { signUp, type SignedUp } from '../support/auth';
import { startTestApp, type TestApp, type TestResponse } from '../support/app';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres';

// The database goes away under the API: stopped (connections refused), or partitioned (a proxy
// that stops forwarding bytes and never closes a socket). Every route must say
// 503 database_unavailable, log the outage once rather than per request, and recover.

let pg: PrivatePostgres;
let app: TestApp | undefined;

beforeAll(async () => {
  pg = await startPrivatePostgres('api_outage');
}, 120_000);
afterEach(async () => {
  await app?.close();
  app = undefined;
}, 60_000);
afterAll(async () => {
  await pg?.destroy();
}, 60_000);

/** Asks until the database answers again (the app reconnects on its own); no timing asserted. */
async function untilOk(send: () => Promise<TestResponse>): Promise<TestResponse> {
  for (;;) {
    const res = await send();
    if (res.status === 200) return res;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const mentionsOutage = (line: string) => /database|ECONNREFUSED|connection|"stack"/i.test(line);

function expectUnavailable(res: TestResponse): void {
  expect({ status: res.status, error: res.body?.error }).toEqual({ status: 503, error: 'database_unavailable' });
  expect(res.headers.get('retry-after')).toBe('2');
}

describe('the API with its database stopped', () => {
  let owner: SignedUp;

  it('answers 503 database_unavailable with Retry-After on every route, logs the outage once, and recovers', async () => {
    app = await startTestApp('api_outage', {}, { api: true, worker: false }, pg.db);
    owner = await signUp(app);
    expect((await app.request('GET', '/api/workflows', { headers: owner.headers })).status).toBe(200);

    await pg.stop();
    try {
      const logsBefore = app.logs.length;
      const live = app;
      const calls = [
        () => live.request('GET', '/api/workflows', { headers: owner.headers }), // auth itself needs the database
        () => live.request('GET', '/api/runs', { headers: owner.headers }),
        () => live.request('POST', '/api/auth/sign-in', { body: { email: owner.email, password: owner.password } }),
      ];
      for (let i = 0; i < 30; i += 1) expectUnavailable(await calls[i % calls.length]!());
      expect((await app.request('GET', '/ready')).status).toBe(503);
      expect((await app.request('GET', '/health')).status).toBe(200); // liveness: the process answers
      const outageLines = app.logs.slice(logsBefore).filter(mentionsOutage);
      expect(outageLines.length).toBeGreaterThanOrEqual(1);
      expect(outageLines.length).toBeLessThanOrEqual(3);
    } finally {
      await pg.start();
    }

    const restartedAt = performance.now();
    await untilOk(() => app!.request('GET', '/api/workflows', { headers: owner.headers }));
    console.log(`first 200 after the restart: ${Math.round(performance.now() - restartedAt)} ms`); // a figure, not a check
    expect((await untilOk(() => app!.request('GET', '/ready'))).body).toMatchObject({ status: 'ready', database: true });
    expect(app.logs.some((line) => line.includes('database available again'))).toBe(true);
  }, 120_000);
});

/** A TCP proxy to the cluster whose `pause()` holds every byte (both ways) without closing a socket. */
interface Partition {
  port: number;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

async function startPartitionProxy(targetPort: number): Promise<Partition> {
  let paused = false;
  const held: Array<() => void> = [];
  const sockets = new Set<Socket>();
  const forward = (from: Socket, to: Socket) =>
    from.on('data', (chunk) => {
      if (paused) held.push(() => to.write(chunk));
      else to.write(chunk);
    });
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    pause: () => (paused = true),
    resume() {
      paused = false;
      held.splice(0).forEach((write) => write());
    },
    close: () => {
      sockets.forEach((socket) => socket.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('the API with its database partitioned', () => {
  let proxy: Partition;
  beforeAll(async () => {
    proxy = await startPartitionProxy(Number(new URL(pg.db.url).port));
  });
  afterAll(() => proxy?.close());

  it('answers 503 instead of hanging while no byte gets through, and recovers when they do', async () => {
    const url = new URL(pg.db.url);
    url.port = String(proxy.port);
    const timeouts = { THODARE_STATEMENT_TIMEOUT_MS: '1000', THODARE_QUERY_TIMEOUT_MS: '1000', THODARE_DB_CONNECT_TIMEOUT_MS: '1000' };
    app = await startTestApp('api_partition', timeouts, { api: true, worker: false }, { ...pg.db, url: url.toString() });
    const owner = await signUp(app);
    expect((await app.request('GET', '/api/workflows', { headers: owner.headers })).status).toBe(200);

    proxy.pause();
    try {
      expectUnavailable(await app.request('GET', '/api/workflows', { headers: owner.headers }));
      expectUnavailable(await app.request('GET', '/api/runs', { headers: owner.headers }));
      expect((await app.request('GET', '/ready')).status).toBe(503);
    } finally {
      proxy.resume();
    }

    await untilOk(() => app!.request('GET', '/api/workflows', { headers: owner.headers }));
    expect((await untilOk(() => app!.request('GET', '/ready'))).body).toMatchObject({ status: 'ready', database: true });
  }, 120_000);
});
