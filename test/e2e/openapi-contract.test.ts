import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestApp, type TestApp } from '../support/app';

/**
 * `/openapi.json` is the contract clients compile against (issue 12): named components, enums
 * for every closed set of codes, the header parameters, each operation's 4xx, and a document
 * `redocly lint` (ruleset: redocly.yaml) finds no error in.
 */
const ROOT = join(__dirname, '..', '..');
let app: TestApp;
let doc: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- a JSON document under test
let dir: string;

beforeAll(async () => {
  app = await startTestApp('openapi_contract', {}, { api: true, worker: false });
  doc = (await app.request('GET', '/openapi.json')).body;
  dir = mkdtempSync(join(tmpdir(), 'thodare-openapi-'));
});
afterAll(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('passes redocly lint with no error', async () => {
  const file = join(dir, 'openapi.json');
  writeFileSync(file, JSON.stringify(doc));
  if (process.env.OPENAPI_DUMP) writeFileSync(process.env.OPENAPI_DUMP, JSON.stringify(doc, null, 2));
  const lint = await promisify(execFile)(join(ROOT, 'node_modules/.bin/redocly'), ['lint', file, '--format=json', `--config=${join(ROOT, 'redocly.yaml')}`], { cwd: ROOT, maxBuffer: 64 << 20 }).catch(
    (e: { stdout: string; stderr: string }) => e,
  );
  const report = JSON.parse(lint.stdout) as { problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[] };
  const errors = report.problems.filter((p) => p.severity === 'error').map((p) => `${p.ruleId} ${p.location[0]?.pointer}: ${p.message}`);
  expect(errors).toEqual([]);
});

it('names the schemas a client imports, with enums for every closed set of codes', () => {
  const schemas = doc.components.schemas;
  for (const name of ['Workflow', 'Block', 'Connection', 'EditOp', 'PatchResult', 'Run', 'RunSummary', 'StepLog', 'SkippedItem', 'ValidationError', 'Error', 'Issue']) {
    expect([name, schemas[name]?.type ?? (schemas[name]?.oneOf ? 'oneOf' : undefined)]).toEqual([name, expect.any(String)]);
  }
  expect(schemas.RunStatus.enum).toEqual(['queued', 'running', 'sleeping', 'waiting', 'completed', 'failed', 'cancelled']);
  expect(schemas.SkipReasonCode.enum).toEqual(expect.arrayContaining(['block_not_found', 'cycle_introduced', 'invalid_operation']));
  expect(schemas.ValidationErrorCode.enum).toEqual(expect.arrayContaining(['required_param_missing', 'unknown_output']));
  expect(schemas.ErrorCode.enum).toEqual(expect.arrayContaining(['invalid_body', 'version_mismatch', 'rate_limited', 'workflow_not_runnable']));
  expect(schemas.SkippedItem.properties.reason_code).toEqual({ $ref: '#/components/schemas/SkipReasonCode' });
  expect(schemas.Error.properties).toMatchObject({ current: { type: 'integer' }, issues: { items: { $ref: '#/components/schemas/Issue' } } });
  expect(schemas.Workflow.properties.blocks.items).toEqual({ $ref: '#/components/schemas/Block' });
  const get = doc.paths['/api/workflows/{id}'].get.responses['200'].content['application/json'].schema;
  expect(get).toEqual({ $ref: '#/components/schemas/WorkflowDetail' });
  expect(doc.servers).toEqual([expect.objectContaining({ url: '/' })]);
});

it('declares the header parameters and each operation’s 4xx answers', () => {
  const refs = (op: { parameters?: { $ref?: string }[] }) => (op.parameters ?? []).map((p) => p.$ref).filter(Boolean);
  const patch = doc.paths['/api/workflows/{id}/operations'].post;
  expect(refs(patch)).toEqual(['#/components/parameters/Agent', '#/components/parameters/IfMatch', '#/components/parameters/IdempotencyKey']);
  expect(doc.components.parameters.IfMatch).toMatchObject({ name: 'If-Match', in: 'header' });
  expect(Object.keys(patch.responses)).toEqual(expect.arrayContaining(['400', '401', '403', '404', '409', '412', '413', '415', '429']));
  expect(patch.responses['412'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Error' });
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { parameters?: { $ref?: string }[]; security: unknown[]; responses: object }>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (path.startsWith('/api/')) expect([method, path, refs(op)]).toEqual([method, path, expect.arrayContaining(['#/components/parameters/Agent'])]);
      if (op.security.length) expect([method, path, Object.keys(op.responses)]).toEqual([method, path, expect.arrayContaining(['401', '403'])]);
    }
  }
  expect(Object.keys(doc.paths['/api/workflows/{id}/runs'].post.responses)).toEqual(expect.arrayContaining(['409', '422']));
});

it('documents cancel without a required body, and the server takes none', async () => {
  expect(doc.paths['/api/runs/{id}/cancel'].post.requestBody.required).toBe(false);
  const signUp = await app.request('POST', '/api/auth/sign-up', { body: { email: 'cancel-no-body@example.com', password: 'correct horse battery staple' } });
  const res = await app.request('POST', '/api/runs/no-such-run/cancel', { headers: { authorization: `Bearer ${signUp.body.token}` } });
  expect([res.status, res.body.error]).toEqual([404, 'not_found']);
});
