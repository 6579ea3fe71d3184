import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runSample } from '../client-sample/sample';
import { startTestApp, type TestApp } from '../support/app';
import { CLIENT_TYPES_FILE, generateClientTypes } from '../support/client-types';

/**
 * Server and client cannot drift apart (issue 12): the committed client types must equal the
 * ones generated from the live `/openapi.json`, a sample program must compile against them (and
 * a wrong field must not), and the same program must work against the running server.
 * `npm run client:types` sets THODARE_WRITE_CLIENT_TYPES to rewrite the committed file.
 */
const ROOT = join(__dirname, '..', '..');
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp('client_drift');
});
afterAll(async () => {
  await app?.close();
});

it('has committed client types equal to the ones generated from the live /openapi.json', async () => {
  const generated = await generateClientTypes((await app.request('GET', '/openapi.json')).body);
  if (process.env.THODARE_WRITE_CLIENT_TYPES === '1') writeFileSync(CLIENT_TYPES_FILE, generated);
  const committed = readFileSync(CLIENT_TYPES_FILE, 'utf8');
  if (committed !== generated) throw new Error('src/client/openapi-types.ts is stale: the API changed. Run `npm run client:types` and commit the result.');
});

it('compiles the sample program against thodare/client with no diagnostics', async () => {
  const tsc = join(ROOT, 'node_modules/.bin/tsc');
  const result = await promisify(execFile)(tsc, ['--noEmit', '-p', join(ROOT, 'test/client-sample/tsconfig.json')], { cwd: ROOT }).catch((e: { stdout: string }) => e);
  expect(result.stdout).toBe('');
});

it('runs the sample against the server: create, patch, run, read the step logs', async () => {
  const result = await runSample(app.url, `sample-${randomUUID()}@example.com`);
  expect(result.patch).toMatchObject({ ok: true, version: 2, skipped_items: [], validation_errors: [] });
  expect(result.status).toBe('completed');
  expect(result.logs.map((log) => [log.blockId, log.status, log.output])).toEqual([['echo', 'succeeded', { value: 'hello sample' }]]);
});
