import { startTestApp, type TestApp } from '../support/app';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp('root', { THODARE_RATE_LIMIT_PER_MIN: '2' });
});
afterAll(async () => {
  await app?.close();
});

it('GET / links to the docs, the API and the probes, without auth or rate limit', async () => {
  for (let i = 0; i < 5; i++) {
    const res = await app.request('GET', '/');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: 'thodare',
      version: expect.any(String),
      links: { docs: '/docs', openapi: '/openapi.json', api: '/api', health: '/health', ready: '/ready', metrics: '/metrics' },
    });
  }
  for (const path of ['/docs', '/openapi.json', '/health', '/ready']) expect((await app.request('GET', path)).status).toBe(200);
});
