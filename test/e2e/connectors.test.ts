import { startTestApp, type TestApp } from '../support/app';
import { createApiKey, signUp, type SignedUp } from '../support/auth';

const BUILTINS = [
  'trigger_manual',
  'trigger_webhook',
  'trigger_schedule',
  'trigger_event',
  'http_request',
  'slack_send_message',
  'transform',
  'condition',
  'wait_duration',
  'wait_for_event',
  'human_approval',
];

let app: TestApp;
let user: SignedUp;

beforeAll(async () => {
  app = await startTestApp('connectors');
  user = await signUp(app);
});
afterAll(() => app.close());

describe('GET /api/connectors', () => {
  it('lists every builtin as a summary by default', async () => {
    const res = await app.request('GET', '/api/connectors', { headers: user.headers });
    expect(res.status).toBe(200);
    expect(res.body.data.map((c: { type: string }) => c.type)).toEqual(BUILTINS);
    for (const entry of res.body.data) expect(Object.keys(entry).sort()).toEqual(['category', 'description', 'kind', 'name', 'type']);
    expect(res.body.data.find((c: { type: string }) => c.type === 'human_approval').kind).toBe('wait');
  });

  it('adds params and outputs as JSON Schema with ?detail=full, and secrets as names', async () => {
    const res = await app.request('GET', '/api/connectors?detail=full', { headers: user.headers });
    const slack = res.body.data.find((c: { type: string }) => c.type === 'slack_send_message');
    expect(slack.params).toMatchObject({ type: 'object', properties: { channel: expect.any(Object), text: expect.any(Object) } });
    expect(slack.outputs.properties).toHaveProperty('ts');
    expect(slack.secrets).toEqual(['SLACK_BOT_TOKEN']);
    expect(res.body.data.find((c: { type: string }) => c.type === 'condition').sourceHandles).toEqual(['true', 'false']);
  });

  it('never contains a hidden param name anywhere in its JSON', async () => {
    for (const path of ['/api/connectors?detail=full', '/api/connectors', '/api/connectors/slack_send_message']) {
      const res = await app.request('GET', path, { headers: user.headers });
      expect(res.status).toBe(200);
      expect(res.text).not.toContain('botToken');
    }
  });

  it('refuses an unknown detail level', async () => {
    const res = await app.request('GET', '/api/connectors?detail=everything', { headers: user.headers });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_query');
  });

  it('needs authentication, and any role may read it', async () => {
    expect((await app.request('GET', '/api/connectors')).status).toBe(401);
    const viewer = await createApiKey(app, user.headers, { role: 'viewer' });
    expect((await app.request('GET', '/api/connectors/transform', { headers: viewer.headers })).status).toBe(200);
  });
});

describe('GET /api/connectors/:type', () => {
  it('returns the full entry', async () => {
    const res = await app.request('GET', '/api/connectors/http_request', { headers: user.headers });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ type: 'http_request', kind: 'action', params: { properties: { url: expect.any(Object) } }, outputs: expect.any(Object), secrets: [] });
    expect(res.body.pure).toBeUndefined();
    const transform = await app.request('GET', '/api/connectors/transform', { headers: user.headers });
    expect(transform.body.pure).toBe(true);
  });

  it('answers 404 not_found for an unknown type, prototype names included', async () => {
    for (const type of ['nope', '__proto__', 'constructor', 'toString']) {
      const res = await app.request('GET', `/api/connectors/${type}`, { headers: user.headers });
      expect([type, res.status, res.body.error]).toEqual([type, 404, 'not_found']);
    }
  });
});
