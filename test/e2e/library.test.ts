import { z } from 'zod';
import { ConfigError, defineConnector, hidden, InvalidConnectors, startThodare } from '../../src';
import { request } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';

// `startThodare` as an embedding program calls it: options over the environment, its own connectors.
const lookup = defineConnector({
  type: 'crm_lookup',
  name: 'CRM lookup',
  description: 'Finds a customer.',
  category: 'crm',
  kind: 'action',
  params: z.object({ email: z.string(), apiKey: hidden(z.string()) }),
  secrets: { apiKey: 'CRM_API_KEY' },
  outputs: z.object({ name: z.string() }),
  run: async ({ email }) => ({ name: email }),
});

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('library');
});
afterAll(() => db.drop());

describe('startThodare', () => {
  it('serves the given connectors next to the builtins and closes cleanly', async () => {
    const thodare = await startThodare({ databaseUrl: db.url, schema: db.schema, port: 0, host: '127.0.0.1', logLevel: 'silent', workerPort: 0, connectors: [lookup] });
    try {
      const signUp = await request(thodare.url, 'POST', '/api/auth/sign-up', { body: { email: 'lib@example.com', password: 'correct horse battery' } });
      const catalog = await request(thodare.url, 'GET', '/api/connectors', { headers: { authorization: `Bearer ${signUp.body.token}` } });
      expect((catalog.body.data as Array<{ type: string }>).map((c) => c.type)).toEqual(expect.arrayContaining(['crm_lookup', 'transform']));
    } finally {
      await thodare.close();
    }
    await expect(fetch(`${thodare.url}/health`)).rejects.toThrow();
  });

  it('runs the worker role alone, its url the probe server', async () => {
    const worker = await startThodare({ databaseUrl: db.url, schema: db.schema, logLevel: 'silent', host: '127.0.0.1', workerPort: 0, roles: ['worker'], connectors: [lookup] });
    try {
      expect((await request(worker.url, 'GET', '/health')).status).toBe(200);
    } finally {
      await worker.close();
    }
  });

  it('runs the projector role alone beside a worker that leaves the read models to it', async () => {
    const worker = await startThodare({ databaseUrl: db.url, schema: db.schema, logLevel: 'silent', host: '127.0.0.1', workerPort: 0, roles: ['worker'], workerProjections: false });
    const projector = await startThodare({ databaseUrl: db.url, schema: db.schema, logLevel: 'silent', host: '127.0.0.1', workerPort: 0, roles: ['projector'] });
    try {
      expect((await request(projector.url, 'GET', '/ready')).status).toBe(200);
      expect((await request(projector.url, 'GET', '/metrics')).text).toMatch(/^thodare_projection_lag_events\{projection="run_logs"\} \d+$/m);
    } finally {
      await projector.close();
      await worker.close();
    }
    await expect(startThodare({ databaseUrl: db.url, roles: ['projections' as 'projector'] })).rejects.toThrow("roles: expected 'api', 'worker' and/or 'projector'");
  });

  it('refuses bad options with one ConfigError naming each option', async () => {
    const failure = startThodare({ databaseUrl: 'not a url', port: 99999 });
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow(/port \(PORT\): must be between 0 and 65535[\s\S]*databaseUrl \(DATABASE_URL\): must be a postgres/);
  });

  it('refuses a connector list with a clashing type before touching the database', async () => {
    const failure = startThodare({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none', connectors: [lookup, lookup] });
    await expect(failure).rejects.toBeInstanceOf(InvalidConnectors);
    await expect(failure).rejects.toThrow("connector #2 ('crm_lookup'): type 'crm_lookup' is already taken by connector #1");
  });
});
