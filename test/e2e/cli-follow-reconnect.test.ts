import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, type TestApp } from '../support/app';
import { createApiKey, signUp } from '../support/auth';
import { followRunLogs } from '../support/cli';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

// `runs logs --follow` through a TCP proxy whose connections are cut mid-stream: the command
// reconnects from the last event id and prints every event exactly once.

let app: TestApp;
let dir: string;
let proxy: Server;
const sockets = new Set<Socket>();

beforeAll(async () => {
  app = await startTestApp('cli_follow_reconnect');
  dir = mkdtempSync(join(tmpdir(), 'thodare-cli-reconnect-'));
  const target = new URL(app.url);
  proxy = createServer((client) => {
    const upstream = tcpConnect(Number(target.port), target.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
}, 60_000);

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => proxy?.close(resolve));
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('reconnects after its connection is cut, and prints every event exactly once', async () => {
  const owner = await signUp(app);
  const key = (await createApiKey(app, owner.headers)).key;
  const ops = [
    add('start', 'trigger_manual'),
    add('before', 'transform', { template: 'one' }),
    add('hold', 'wait_for_event', { eventName: 'go' }),
    add('after', 'transform', { template: 'two' }),
    connect('start', 'before'),
    connect('before', 'hold'),
    connect('hold', 'after'),
  ];
  const workflowId = await createWorkflow(app, owner.headers, ops);
  const runId = (await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers: owner.headers, body: {} })).body.runId as string;
  const address = proxy.address() as { port: number };
  const follow = followRunLogs(runId, { THODARE_URL: `http://127.0.0.1:${address.port}`, THODARE_API_KEY: key, XDG_CONFIG_HOME: join(dir, 'config') });
  try {
    await follow.until((line) => line.type === 'RunWaitingForEvent');
    await waitForRun(app, owner.headers, runId, ['waiting']);
    expect(sockets.size).toBeGreaterThan(0);
    for (const socket of sockets) socket.destroy(); // the cut
    // The command notices the cut and reconnects; were it broken, it would exit instead.
    await new Promise<void>((resolve) => {
      const check = () => (follow.stderr().includes('reconnecting') || follow.exited() ? resolve() : setTimeout(check, 20));
      check();
    });
    expect({ exited: follow.exited(), stderr: follow.stderr() }).toEqual({ exited: false, stderr: expect.stringContaining('reconnecting') });
    expect((await app.request('POST', `/api/runs/${runId}/signals`, { headers: owner.headers, body: { name: 'go' } })).status).toBe(202);
    expect(await follow.exit).toBe(0);
  } finally {
    follow.kill();
  }
  const lines = follow.lines;
  const versions = lines().map((line) => line.version);
  expect(new Set(versions).size).toBe(versions.length); // nothing printed twice
  const types = lines().map((line) => `${line.type}:${line.blockId ?? ''}`);
  expect(types.filter((t) => t === 'StepAttemptStarted:before')).toHaveLength(1);
  expect(types).toEqual(expect.arrayContaining(['StepAttemptStarted:after', 'StepAttemptSucceeded:after']));
  expect(types.at(-1)).toBe('RunCompleted:');
});
