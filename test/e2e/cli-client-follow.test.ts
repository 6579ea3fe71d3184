import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, type TestApp } from '../support/app';
import { createApiKey, signUp } from '../support/auth';
import { followRunLogs, runCli } from '../support/cli';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

// `thodare login`/`logout` profiles and `runs logs --follow`, as child processes against a live server.
let app: TestApp;
let dir: string;
let key: string;
let headers: Record<string, string>;

beforeAll(async () => {
  app = await startTestApp('cli_client_follow');
  const owner = await signUp(app);
  headers = owner.headers;
  key = (await createApiKey(app, owner.headers)).key;
  dir = mkdtempSync(join(tmpdir(), 'thodare-cli-follow-'));
}, 60_000);

afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

const noServer = { THODARE_URL: undefined, THODARE_API_KEY: undefined };

describe('thodare login', () => {
  it('saves a checked profile readable only by its owner, which later commands use until logout', async () => {
    const config = join(dir, 'login-config');
    const env = { ...noServer, XDG_CONFIG_HOME: config };
    const login = await runCli(['login', '--url', app.url, '--api-key', key, '--output', 'json'], env);
    expect(login.code).toBe(0);
    const path = join(config, 'thodare', 'profiles.json');
    expect(JSON.parse(login.stdout)).toMatchObject({ profile: 'default', url: app.url, path, role: 'member' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8')).profiles.default).toEqual({ url: app.url, apiKey: key });

    const listed = await runCli(['workflows', 'list', '--output', 'json'], env);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toMatchObject({ data: expect.any(Array) });
    // The environment overrides the profile.
    expect((await runCli(['workflows', 'list'], { ...env, THODARE_API_KEY: 'thd_wrong' })).code).toBe(3);

    expect((await runCli(['login', '--url', app.url, '--api-key', key, '--profile', 'staging'], env)).code).toBe(0);
    expect((await runCli(['workflows', 'list', '--profile', 'staging'], env)).code).toBe(0);
    expect((await runCli(['logout', '--profile', 'staging'], env)).code).toBe(0);
    expect((await runCli(['workflows', 'list', '--profile', 'staging'], env)).code).toBe(2);
    expect((await runCli(['logout'], env)).code).toBe(0);
    expect((await runCli(['workflows', 'list'], env)).code).toBe(2);
  });

  it('refuses a key the server refuses, and saves nothing', async () => {
    const config = join(dir, 'refused-config');
    const refused = await runCli(['login', '--url', app.url, '--api-key', 'thd_nope'], { ...noServer, XDG_CONFIG_HOME: config });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^error: unauthorized: /m);
    expect(() => statSync(join(config, 'thodare', 'profiles.json'))).toThrow();
  });
});

describe('thodare runs logs --follow', () => {
  it('prints attempts as they happen and ends, exit 0, when the run ends', async () => {
    const ops = [
      add('start', 'trigger_manual'),
      add('before', 'transform', { template: 'one' }),
      add('hold', 'wait_for_event', { eventName: 'go' }),
      add('after', 'transform', { template: 'two' }),
      connect('start', 'before'),
      connect('before', 'hold'),
      connect('hold', 'after'),
    ];
    const workflowId = await createWorkflow(app, headers, ops);
    const started = await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers, body: {} });
    const runId = started.body.runId as string;

    const follow = followRunLogs(runId, { THODARE_URL: app.url, THODARE_API_KEY: key, XDG_CONFIG_HOME: join(dir, 'follow-config') });
    const lines = follow.lines;
    try {
      await follow.until((line) => line.type === 'RunWaitingForEvent');
      // The run waits: the command has printed the first attempt and is still following.
      await waitForRun(app, headers, runId, ['waiting']);
      expect(follow.exited()).toBe(false);
      expect(lines()).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'StepAttemptStarted', blockId: 'before' }),
          expect.objectContaining({ type: 'StepAttemptSucceeded', blockId: 'before' }),
        ]),
      );
      expect(lines().some((line) => line.blockId === 'after')).toBe(false);

      const signal = await app.request('POST', `/api/runs/${runId}/signals`, { headers, body: { name: 'go' } });
      expect(signal.status).toBe(202);
      expect(await follow.exit).toBe(0);
    } finally {
      follow.kill();
    }
    const types = lines().map((line) => `${line.type}:${line.blockId ?? ''}`);
    expect(types).toEqual(expect.arrayContaining(['StepAttemptStarted:after', 'StepAttemptSucceeded:after', 'RunCompleted:']));
    expect(types.at(-1)).toBe('RunCompleted:');
    expect(follow.stderr()).toContain(`run ${runId} completed`);
  });

  it('prints step attempts as a table, and exits 4 for an unknown run', async () => {
    const workflowId = await createWorkflow(app, headers, [add('start', 'trigger_manual'), add('echo', 'transform', { template: 'x' }), connect('start', 'echo')]);
    const runId = (await app.request('POST', `/api/workflows/${workflowId}/runs`, { headers, body: {} })).body.runId as string;
    const env = { THODARE_URL: app.url, THODARE_API_KEY: key, XDG_CONFIG_HOME: join(dir, 'table-config') };
    const table = await runCli(['runs', 'logs', runId, '--follow', '--output', 'table'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/echo \(transform\) {2}attempt 1 started/);
    expect(table.stdout).toMatch(/echo \(transform\) {2}attempt 1 succeeded in \d+ ms/);
    expect((await runCli(['runs', 'logs', '00000000-0000-4000-8000-000000000000', '--follow'], env)).code).toBe(4);
  });
});
