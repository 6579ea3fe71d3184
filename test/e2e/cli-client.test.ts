import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestApp, type TestApp } from '../support/app';
import { createApiKey, signUp } from '../support/auth';
import { runCli } from '../support/cli';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { add, connect, waitForRun } from '../support/run-api';
import { createRunTestTables, runTestConnectors } from '../support/run-connectors';

// The client commands as a user runs them: `bin/thodare.js` child processes against a live server.
let db: TestDatabase;
let app: TestApp;
let dir: string;
let env: Record<string, string>;
let owner: Awaited<ReturnType<typeof signUp>>;

const cli = (args: string[], extra: Record<string, string | undefined> = {}) => runCli(args, { ...env, ...extra });
async function json(args: string[]) {
  const result = await cli([...args, '--output', 'json']);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  return JSON.parse(result.stdout);
}
const file = (name: string, value: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};

beforeAll(async () => {
  db = await createTestDatabase('cli_client');
  await createRunTestTables(db.pool);
  app = await startTestApp('cli_client', {}, { api: true, worker: true }, db, runTestConnectors(db.pool));
  owner = await signUp(app);
  const key = await createApiKey(app, owner.headers, { role: 'admin' });
  dir = mkdtempSync(join(tmpdir(), 'thodare-cli-client-'));
  env = { THODARE_URL: app.url, THODARE_API_KEY: key.key, XDG_CONFIG_HOME: join(dir, 'config') };
}, 60_000);

afterAll(async () => {
  await app?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const echoOps = [add('start', 'trigger_manual'), add('echo', 'transform', { template: '{{trigger.n}}' }), connect('start', 'echo')];

describe('thodare workflows', () => {
  it('creates, lists, gets, patches (skips reported, exit 0), shows history and deletes, all as JSON', async () => {
    const created = await json(['workflows', 'create', '--name', 'cli echo', '-f', file('ops.json', { ops: echoOps })]);
    expect(created).toMatchObject({ ok: true, version: 2, skipped_items: [] });
    const id = created.id as string;

    expect((await json(['workflows', 'list'])).data.map((w: { id: string }) => w.id)).toContain(id);
    expect(await json(['workflows', 'get', id])).toMatchObject({ id, version: 2, runnable: true });
    expect((await json(['workflows', 'get', id, '--at-version', '1'])).version).toBe(1);

    const typo = await json(['workflows', 'patch', id, '-f', file('typo.json', [add('extra', 'transfrom', {})]), '--if-match', '2']);
    expect(typo).toMatchObject({ ok: false, version: 2, skipped_items: [{ block_id: 'extra', reason_code: 'block_type_not_registered' }] });
    const dry = await json(['workflows', 'patch', id, '-f', file('rename.json', [{ operation_type: 'set_metadata', name: 'renamed' }]), '--dry-run']);
    expect(dry).toMatchObject({ ok: true, workflow: { metadata: { name: 'renamed' } } });
    expect((await json(['workflows', 'get', id])).workflow.metadata.name).toBe('cli echo');

    // A webhook trigger added by a patch: its URL is what `workflows triggers` shows.
    await json(['workflows', 'patch', id, '-f', file('hook.json', [add('hook', 'trigger_webhook', {}), { operation_type: 'remove', block_id: 'start' }, connect('hook', 'echo')])]);
    const triggers = await json(['workflows', 'triggers', id]);
    expect(triggers).toMatchObject({ schedules: [], webhooks: [{ blockId: 'hook', url: expect.stringContaining('/hooks/') }] });

    const history = await cli(['workflows', 'history', id, '--output', 'jsonl']);
    expect(history.code).toBe(0);
    const lines = history.stdout.trim().split('\n').map((line) => JSON.parse(line));
    expect(lines.length).toBeGreaterThanOrEqual(4);

    // Back to the empty version 1, as version 4; a dry run first stores nothing.
    expect(await json(['workflows', 'revert', id, '--to', '1', '--dry-run'])).toMatchObject({ ok: true, revertedTo: 1, workflow: { blocks: [] } });
    expect(await json(['workflows', 'revert', id, '--to', '1', '--if-match', '3'])).toMatchObject({ ok: true, version: 4, revertedTo: 1, workflow: { blocks: [] } });

    expect(await json(['workflows', 'delete', id])).toEqual({ id, deleted: true });
    const gone = await cli(['workflows', 'get', id]);
    expect(gone.code).toBe(4);
    expect(gone.stderr).toMatch(/^error: not_found: /m);
  });

  it('exits 3 with the error code when the API refuses, and 2 on usage errors', async () => {
    const { id } = await json(['workflows', 'create', '--name', 'stale']);
    const stale = await cli(['workflows', 'patch', id, '-f', file('meta.json', [{ operation_type: 'set_metadata', name: 'x' }]), '--if-match', '7']);
    expect(stale.code).toBe(3);
    expect(stale.stderr).toMatch(/^error: version_mismatch: /m);
    expect(stale.stdout).toBe('');

    for (const args of [['workflows', 'get'], ['workflows', 'list', '--bogus'], ['workflows', 'list', '--output', 'xml'], ['runs', 'start', id, '--input', '{not json'], ['runs']]) {
      const result = await cli(args);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
    }
  });

  it('a profiles file of another shape and a server URL that is not one are usage errors that name them', async () => {
    // Before: TypeErrors and failed requests, exit 3, as if the server had refused or were away.
    const config = join(dir, 'broken-config');
    mkdirSync(join(config, 'thodare'), { recursive: true });
    const profiles = join(config, 'thodare', 'profiles.json');
    for (const [content, named] of [
      ['null', 'the file'],
      ['{"profiles": {"default": {"url": 5, "apiKey": []}}}', 'profiles.default.url'],
    ] as const) {
      writeFileSync(profiles, content);
      const result = await cli(['workflows', 'list'], { THODARE_URL: undefined, THODARE_API_KEY: undefined, XDG_CONFIG_HOME: config });
      expect({ content, code: result.code }).toEqual({ content, code: 2 });
      expect(result.stderr).toContain(`${profiles} is not a profiles file (${named}:`);
    }
    for (const url of ['not a url', 'ftp://example.test']) {
      const result = await cli(['workflows', 'list'], { THODARE_URL: url });
      expect({ url, code: result.code, stderr: result.stderr }).toEqual({ url, code: 2, stderr: `error: the server URL "${url}" is not an http:// or https:// URL\n` });
    }
  });

  it('refuses JSON nested deeper than the server takes, as a usage error, before sending it', async () => {
    // 20,000 levels: writing the request overflowed the stack, reported as `unreachable` (exit 3).
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const path = join(dir, 'deep.json');
    writeFileSync(path, deep);
    const { id } = await json(['workflows', 'create', '--name', 'deep']);
    for (const args of [['workflows', 'patch', id, '-f', path], ['runs', 'start', id, '--input', `@${path}`]]) {
      const result = await cli(args);
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(result.stderr).toMatch(/nests objects and arrays deeper than 100 levels/);
    }
  });
});

describe('thodare runs', () => {
  it('starts a run with input from a file, waits, and reads it back: get, list, events, logs', async () => {
    const { id } = await json(['workflows', 'create', '-f', file('echo.json', echoOps)]);
    const run = await json(['runs', 'start', id, '--input', `@${file('input.json', { n: 42 })}`, '--wait']);
    expect(run).toMatchObject({ workflowId: id, status: 'completed', input: { n: 42 }, outputs: { echo: expect.anything() } });

    expect(await json(['runs', 'get', run.id])).toMatchObject({ id: run.id, status: 'completed' });
    expect((await json(['runs', 'list', '--workflow', id])).data).toEqual([expect.objectContaining({ id: run.id, status: 'completed' })]);
    const events = (await json(['runs', 'events', run.id])).data.map((e: { type: string }) => e.type);
    expect(events).toEqual(expect.arrayContaining(['RunStarted', 'StepAttemptSucceeded', 'RunCompleted']));
    const logs = (await json(['runs', 'logs', run.id])).data;
    expect(logs).toEqual(expect.arrayContaining([expect.objectContaining({ blockId: 'echo', status: 'succeeded' })]));

    const inline = await json(['runs', 'start', id, '--input', '{"n":1}']);
    expect(inline).toMatchObject({ runId: expect.any(String), workflowVersion: 2 });

    const startAt = new Date(Date.now() + 3_600_000).toISOString();
    const later = await json(['runs', 'start', id, '--start-at', startAt]);
    expect(later).toMatchObject({ status: 'queued' });
    expect(await json(['runs', 'get', later.runId])).toMatchObject({ status: 'queued', startAt });
    await json(['runs', 'cancel', later.runId]);
  });

  it('exits 1 when a waited run fails, printing the failed run', async () => {
    const ops = [add('start', 'trigger_manual'), add('boom', 'test_fail', { code: 'kaput', retryable: false }), connect('start', 'boom')];
    const { id } = await json(['workflows', 'create', '-f', file('fail.json', ops)]);
    const result = await cli(['runs', 'start', id, '--wait', '--output', 'json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'failed', error: { code: 'kaput', blockId: 'boom' } });
    expect(result.stderr).toMatch(/failed: kaput/);
  });

  it('cancels a waiting run; an unknown run is exit 4', async () => {
    const ops = [add('start', 'trigger_manual'), add('hold', 'wait_for_event', { eventName: 'never' }), connect('start', 'hold')];
    const { id } = await json(['workflows', 'create', '-f', file('hold.json', ops)]);
    const { runId } = await json(['runs', 'start', id]);
    await waitForRun(app, owner.headers, runId, ['waiting']);
    expect(await json(['runs', 'cancel', runId])).toMatchObject({ id: runId, status: expect.any(String) });
    expect((await waitForRun(app, owner.headers, runId)).status).toBe('cancelled');
    const again = await cli(['runs', 'cancel', runId]);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/^error: run_finished: /m);
    expect((await cli(['runs', 'get', '00000000-0000-4000-8000-000000000000'])).code).toBe(4);

    // Rerun the cancelled run from its failure: the wait it was cut short in runs again.
    const rerun = await json(['runs', 'rerun', runId]);
    expect(rerun).toMatchObject({ rerunOf: runId, reusedBlocks: [] });
    expect(await waitForRun(app, owner.headers, rerun.runId, ['waiting'])).toMatchObject({ rerunOf: runId });
    const fromStart = await json(['runs', 'rerun', runId, '--from-start']);
    expect(fromStart).toMatchObject({ rerunOf: runId, runId: expect.not.stringMatching(rerun.runId) });
    expect(await json(['runs', 'rerun', runId, '--current-version'])).toMatchObject({ rerunOf: runId, workflowVersion: 2 });
    expect(await json(['runs', 'rerun', runId, '--from-block', 'hold'])).toMatchObject({ rerunOf: runId, reusedBlocks: [] });
    // The reruns wait: stop every run of the workflow that has not ended.
    // No limit: no line.
    expect(await json(['workflows', 'concurrency', id])).toEqual({ limit: null, keyPath: null, lines: [] });
    const stopped = await json(['workflows', 'cancel-runs', id, '--reason', 'cli test']);
    expect(stopped.cancelled.length).toBeGreaterThanOrEqual(3);
    for (const run of stopped.cancelled) expect((await waitForRun(app, owner.headers, run)).status).toBe('cancelled');
    // ...and rerun every cancelled run from the start (the first one's too).
    const replayed = await json(['workflows', 'rerun-runs', id, '--status', 'cancelled', '--from', 'start']);
    expect(replayed.rerun.map((r: { rerunOf: string }) => r.rerunOf).sort()).toEqual([runId, ...stopped.cancelled].sort());
    expect(replayed.refused).toEqual([]);
    expect((await cli(['workflows', 'rerun-runs', id, '--status', 'ended'])).code).toBe(2);
    await json(['workflows', 'cancel-runs', id]);
    const both = await cli(['runs', 'rerun', runId, '--from-block', 'hold', '--from-start']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/exclude each other/);
  });
});

describe('thodare events, signals, approvals, connectors, keys', () => {
  it('publishes an event and sends a signal that resume waiting runs', async () => {
    const ops = (name: string) => [add('start', 'trigger_manual'), add('hold', 'wait_for_event', { eventName: name }), connect('start', 'hold')];
    const { id: published } = await json(['workflows', 'create', '-f', file('pub.json', ops('paid'))]);
    const first = (await json(['runs', 'start', published])).runId;
    await waitForRun(app, owner.headers, first, ['waiting']);
    expect(await json(['events', 'publish', 'paid', '--payload', '{"amount":3}'])).toMatchObject({ matchedRuns: 1 });
    expect((await json(['events', 'list', '--name', 'paid'])).data[0]).toMatchObject({ name: 'paid', payload: { amount: 3 }, matchedRuns: 1 });
    expect((await waitForRun(app, owner.headers, first)).status).toBe('completed');

    const { id: signalled } = await json(['workflows', 'create', '-f', file('sig.json', ops('go'))]);
    const second = (await json(['runs', 'start', signalled])).runId;
    expect(await json(['signals', 'send', second, 'go', '--payload', '{"ok":true}'])).toMatchObject({ runId: second, duplicate: false });
    expect((await waitForRun(app, owner.headers, second)).status).toBe('completed');
  });

  it('shows and decides an approval', async () => {
    const ops = [add('start', 'trigger_manual'), add('ask', 'human_approval', { prompt: 'ship it?' }), connect('start', 'ask')];
    const { id } = await json(['workflows', 'create', '-f', file('ask.json', ops)]);
    const { runId } = await json(['runs', 'start', id]);
    const token = (await waitForRun(app, owner.headers, runId, ['waiting'])).waitingFor.approvalToken as string;
    expect(await json(['approvals', 'show', token])).toMatchObject({ prompt: 'ship it?', runId, status: 'pending' });
    expect(await json(['approvals', 'approve', token, '--note', 'lgtm'])).toMatchObject({ runId, approved: true });
    expect((await cli(['approvals', 'reject', token])).code).toBe(3);
    expect((await waitForRun(app, owner.headers, runId)).status).toBe('completed');
  });

  it('lists and shows connectors, and creates, lists and revokes keys', async () => {
    const types = (await json(['connectors', 'list'])).data.map((c: { type: string }) => c.type);
    expect(types).toEqual(expect.arrayContaining(['trigger_manual', 'transform', 'test_fail']));
    expect(await json(['connectors', 'show', 'transform'])).toMatchObject({ type: 'transform', params: expect.any(Object) });
    expect((await cli(['connectors', 'show', 'no_such_thing'])).code).toBe(4);

    const key = await json(['keys', 'create', 'ci', '--role', 'viewer']);
    expect(key).toMatchObject({ name: 'ci', role: 'viewer', key: expect.stringMatching(/^thd_/) });
    expect((await json(['keys', 'list'])).data.map((k: { id: string }) => k.id)).toContain(key.id);
    expect((await cli(['workflows', 'list'], { THODARE_API_KEY: key.key })).code).toBe(0);
    expect(await json(['keys', 'revoke', key.id])).toEqual({ id: key.id, revoked: true });
    const refused = await cli(['workflows', 'list'], { THODARE_API_KEY: key.key });
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/^error: unauthorized: /m);
  });
});
