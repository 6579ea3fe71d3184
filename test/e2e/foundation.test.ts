import { startTestApp, type TestApp } from '../support/app';

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp('foundation', { THODARE_BODY_LIMIT: '1024' });
});
afterAll(() => app.close());

describe('probes', () => {
  it('GET /health answers ok with the version', async () => {
    const res = await app.request('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('GET /ready is 200 when the database answers and every migration is applied', async () => {
    const res = await app.request('GET', '/ready');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ready', database: true, migrations: true });
  });

  it('GET /ready is 503 when a migration is missing', async () => {
    await app.db.pool.query(`UPDATE pgmigrations SET name = 'renamed' WHERE name = '0001_event-store'`);
    try {
      const res = await app.request('GET', '/ready');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ status: 'not_ready', database: true, migrations: false });
    } finally {
      await app.db.pool.query(`UPDATE pgmigrations SET name = '0001_event-store' WHERE name = 'renamed'`);
    }
  });
});

describe('HTTP conventions', () => {
  it('answers unknown routes with 404 not_found in the error shape', async () => {
    const res = await app.request('GET', '/no/such/route');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'not_found', message: expect.any(String) });
  });

  it('refuses a body over THODARE_BODY_LIMIT with 413 payload_too_large', async () => {
    const res = await app.request('POST', '/health', { raw: JSON.stringify({ pad: 'x'.repeat(5000) }) });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe('payload_too_large');
  });

  it('refuses malformed JSON and prototype-polluting JSON with 400', async () => {
    const bad = await app.request('POST', '/health', { raw: '{"a":' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_json');
    const proto = await app.request('POST', '/health', { raw: '{"__proto__":{"polluted":true}}' });
    expect(proto.status).toBe(400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('echoes a sane x-request-id, logs the request under it, and replaces a hostile one', async () => {
    expect((await app.request('GET', '/health', { headers: { 'x-request-id': 'abc-123' } })).headers.get('x-request-id')).toBe('abc-123');
    const line = app.logs.map((l) => JSON.parse(l)).find((l) => l.req?.id === 'abc-123' && l.res);
    expect(line).toMatchObject({ req: { method: 'GET', url: '/health' }, res: { statusCode: 200 } });
    const hostile = await app.request('GET', '/health', { headers: { 'x-request-id': 'x'.repeat(10_000) } });
    expect(hostile.headers.get('x-request-id')).not.toContain('xxxx');
  });

  it('echoes the x-request-id on refusals too: 404, 401, 415 and 400', async () => {
    const headers = { 'x-request-id': 'refused-1' };
    const refusals = [
      await app.request('GET', '/api/nothing-here', { headers }),
      await app.request('GET', '/api/workflows', { headers }),
      await app.request('POST', '/api/auth/sign-in', { headers: { ...headers, 'content-type': 'text/plain' }, raw: 'hello' }),
      await app.request('POST', '/api/auth/sign-in', { headers: { ...headers, 'content-type': 'application/json' }, raw: '{"email":' }),
    ];
    expect(refusals.map((res) => res.status)).toEqual([404, 401, 415, 400]);
    expect(refusals.map((res) => res.headers.get('x-request-id'))).toEqual(['refused-1', 'refused-1', 'refused-1', 'refused-1']);
  });
});

describe('OpenAPI', () => {
  it('describes every registered route in /openapi.json and serves /docs', async () => {
    const spec = (await app.request('GET', '/openapi.json')).body;
    expect(spec.openapi).toBe('3.1.0');
    expect(Object.keys(spec.paths)).toEqual(expect.arrayContaining(['/health', '/ready', '/openapi.json', '/docs']));
    expect(spec.paths['/health'].get.responses['200'].content['application/json'].schema.properties.status).toBeDefined();
    const docs = await app.request('GET', '/docs');
    expect(docs.status).toBe(200);
    expect(docs.text).toContain('swagger-ui');
    expect((await app.request('GET', '/docs/swagger-ui-bundle.js')).status).toBe(200);
  });
});
