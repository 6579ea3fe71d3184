import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestApp, type TestApp } from '../support/app';
import { readUntil } from '../support/database';
import { uniqueEmail, type AuthHeaders } from '../support/auth';
import { add, connect, createWorkflow, waitForRun } from '../support/run-api';

/**
 * The audit trail shows every event of the organization to its admins, so no event may hold a
 * secret: runs the flows that handle passwords, tokens, keys, secret values, approval links and
 * webhook credentials with recognisable canaries, then scans everything the trail returns for
 * each canary and its SHA-256, and for every stored credential hash.
 */
let app: TestApp;
let slack: Server;

beforeAll(async () => {
  slack = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, channel: 'C1', ts: '1.2' }));
    });
  });
  await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
  app = await startTestApp('audit_no_secrets', { THODARE_SLACK_BASE_URL: `http://127.0.0.1:${(slack.address() as AddressInfo).port}` });
});
afterAll(async () => {
  await app?.close();
  await new Promise((resolve) => slack?.close(resolve));
});

const canary = (label: string) => `${label}-canary-${randomBytes(12).toString('hex')}`;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

async function ok(method: string, path: string, headers: AuthHeaders, body?: unknown) {
  const res = await app.request(method, path, { headers, ...(body === undefined ? {} : { body }) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
  return res.body;
}

it('holds no password, token, key, secret value or hidden param value, nor a hash of one', async () => {
  const password = canary('Password');
  const wrongPassword = canary('WrongPassword');
  const email = uniqueEmail('audit-secrets');
  const signedUp = await ok('POST', '/api/auth/sign-up', {}, { email, password });
  const owner = { authorization: `Bearer ${signedUp.token}` };
  expect((await app.request('POST', '/api/auth/sign-in', { body: { email, password: wrongPassword } })).status).toBe(401);
  const signedIn = await ok('POST', '/api/auth/sign-in', {}, { email, password });

  const key = await ok('POST', '/api/api-keys', owner, { name: 'audited', role: 'admin' });
  await ok('DELETE', `/api/api-keys/${key.id}`, owner);
  const invitation = await ok('POST', '/api/invitations', owner, { email: uniqueEmail('invitee'), role: 'viewer' });

  const secretValue = canary('SecretValue');
  await ok('POST', '/api/secrets', owner, { name: 'SLACK_BOT_TOKEN', value: secretValue });
  const hiddenInput = canary('HiddenParam');
  const slackFlow = [add('start', 'trigger_manual'), add('say', 'slack_send_message', { channel: '#ops', text: 'hi' }), connect('start', 'say')];
  const workflowId = await createWorkflow(app, owner, slackFlow);
  // An agent that puts a value into a hidden param: refused, and recorded as "[hidden]".
  await ok('POST', `/api/workflows/${workflowId}/operations`, owner, { ops: [{ operation_type: 'update', block_id: 'say', params: { botToken: hiddenInput } }] });
  const run = await ok('POST', `/api/workflows/${workflowId}/runs`, owner, { input: {} });
  expect((await waitForRun(app, owner, run.runId)).status).toBe('completed');

  const approvalFlow = [add('start', 'trigger_manual'), add('ask', 'human_approval', { prompt: 'ok?' }), connect('start', 'ask')];
  const asked = await ok('POST', `/api/workflows/${await createWorkflow(app, owner, approvalFlow)}/runs`, owner, {});
  const approvalToken = (await waitForRun(app, owner, asked.runId, ['waiting'])).waitingFor.approvalToken as string;
  await ok('POST', `/api/approvals/${approvalToken}`, {}, { approved: true });

  const hookFlow = () => createWorkflow(app, owner, [add('start', 'trigger_manual')]);
  const hook = await ok('POST', `/api/workflows/${await hookFlow()}/webhooks`, owner, { signed: true });
  const rotated = await ok('POST', `/api/webhooks/${hook.id}/rotate`, owner);
  // A sender's credentials in a delivery's headers are dropped before the delivery is recorded.
  const open = await ok('POST', `/api/workflows/${await hookFlow()}/webhooks`, owner, {});
  const deliveryCredential = canary('DeliveryAuthorization');
  await ok('POST', `/hooks/${open.token}`, { authorization: `Bearer ${deliveryCredential}` }, { hello: 1 });
  await ok('POST', '/api/auth/sign-out', { authorization: `Bearer ${signedIn.token}` });

  const secrets: Record<string, string> = {
    password,
    wrongPassword,
    sessionToken: signedUp.token,
    secondSessionToken: signedIn.token,
    apiKey: key.key,
    invitationToken: invitation.token,
    secretValue,
    hiddenInput,
    approvalToken,
    webhookToken: hook.token,
    openWebhookToken: open.token,
    signingSecret: hook.signingSecret,
    rotatedSigningSecret: rotated.signingSecret,
    deliveryCredential,
  };
  const stored = await app.db.pool.query<{ hash: string }>(
    `SELECT password_hash AS hash FROM users UNION ALL SELECT token_hash FROM sessions UNION ALL SELECT key_hash FROM api_key_credentials
     UNION ALL SELECT token_hash FROM invitation_tokens`,
  );
  const everything: Record<string, string> = {
    ...secrets,
    ...Object.fromEntries(Object.entries(secrets).map(([name, value]) => [`sha256(${name})`, sha256(value)])),
    ...Object.fromEntries(stored.rows.map((row, i) => [`stored hash ${i}`, row.hash])),
  };
  expect(Object.values(secrets).every((value) => typeof value === 'string' && value.length > 10)).toBe(true);

  const expectedTypes = ['UserSignedIn', 'UserSignInFailed', 'UserSignedOut', 'ApiKeyCreated', 'ApiKeyRevoked', 'SecretStored', 'ApprovalRequested', 'ApprovalDecided', 'WebhookCreated', 'WebhookSecretRotated', 'WebhookReceived', 'RunStarted'];
  // The trail stops below the server's oldest open writing transaction (see `readUntil`).
  const trail = await readUntil(
    async () => (await fetch(`${app.url}/api/audit/events`, { headers: { ...owner, accept: 'application/x-ndjson' } })).text(),
    (text) => expectedTypes.every((type) => text.includes(`"type":"${type}"`)),
  );
  const lines: { type: string; data: { token?: string } }[] = trail.split('\n').filter(Boolean).map((line) => JSON.parse(line));
  const types = new Set(lines.map((e) => e.type));
  for (const type of expectedTypes) {
    expect([type, types.has(type)]).toEqual([type, true]);
  }
  expect(lines.filter((e) => e.type.startsWith('Approval')).map((e) => e.data.token)).toEqual(['[redacted]', '[redacted]']);
  expect(Object.entries(everything).filter(([, value]) => trail.includes(value)).map(([name]) => name)).toEqual([]);
  const page = await app.request('GET', '/api/audit/events?limit=500', { headers: owner });
  expect(Object.entries(everything).filter(([, value]) => page.text.includes(value)).map(([name]) => name)).toEqual([]);

  // Below the API too: no event of any organization (the platform's included) holds an identity
  // credential. (A run's own events keep its approval token, which the trail redacts.)
  const { rows } = await app.db.pool.query<{ text: string }>('SELECT data::text || metadata::text AS text FROM events');
  const all = rows.map((row) => row.text).join('\n');
  const found = Object.entries(everything).filter(([name, value]) => !name.includes('approvalToken') && all.includes(value));
  expect(found.map(([name]) => name)).toEqual([]);
});
