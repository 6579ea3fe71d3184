import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { request } from '../support/app';
import { runCli, startServer } from '../support/cli';
import { databaseUrl, dropSchema } from '../support/database';

// Connector modules as a deployment writes them: plain CommonJS requiring the built library.
const LIBRARY = resolve(__dirname, '..', '..', 'dist', 'src', 'index.js');
const ZOD = require.resolve('zod');
const header = `const { defineConnector, hidden } = require(${JSON.stringify(LIBRARY)});\nconst { z } = require(${JSON.stringify(ZOD)});\n`;
const shout = (type: string) => `defineConnector({
  type: '${type}', name: 'Shout', description: 'Upper-cases a text.', category: 'text', kind: 'action',
  params: z.object({ text: z.string(), token: hidden(z.string()) }), secrets: { token: 'SHOUT_TOKEN' },
  outputs: z.object({ text: z.string() }),
  run: async ({ text }) => ({ text: text.toUpperCase() }),
})`;

let dir: string;
const schema = `test_cli_connectors_${randomBytes(4).toString('hex')}`;
const env = () => ({ DATABASE_URL: databaseUrl(), THODARE_SCHEMA: schema, PORT: '0', HOST: '127.0.0.1' });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'thodare-connectors-'));
  writeFileSync(join(dir, 'good.js'), `${header}module.exports = { connectors: [${shout('shout')}] };\n`);
  writeFileSync(join(dir, 'duplicate.js'), `${header}module.exports = [${shout('shout')}, ${shout('transform')}];\n`);
  writeFileSync(join(dir, 'invalid.js'), `${header}exports.default = [{ type: 'half_made', kind: 'action', params: z.object({}) }];\n`);
});

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await dropSchema(databaseUrl(), schema);
});

describe('thodare --connectors', () => {
  it('serves a custom connector next to the builtins, its hidden param left out of the catalog', async () => {
    const server = await startServer(['start', '--connectors', './good.js'], env(), 60_000, dir);
    try {
      const signUp = await request(server.url, 'POST', '/api/auth/sign-up', { body: { email: 'cli@example.com', password: 'correct horse battery' } });
      const auth = { authorization: `Bearer ${signUp.body.token}` };
      const catalog = await request(server.url, 'GET', '/api/connectors?detail=full', { headers: auth });
      expect(catalog.status).toBe(200);
      const types = (catalog.body.data as Array<{ type: string }>).map((c) => c.type);
      expect(types).toEqual(expect.arrayContaining(['shout', 'transform', 'http_request']));
      const shoutEntry = (catalog.body.data as Array<{ type: string }>).find((c) => c.type === 'shout');
      expect(JSON.stringify(shoutEntry)).toContain('text');
      expect(JSON.stringify(shoutEntry)).not.toContain('token');
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
  });

  it('reads THODARE_CONNECTORS like the flag, for every role', async () => {
    const worker = await startServer(['worker'], { ...env(), THODARE_CONNECTORS: join(dir, 'good.js') }, 60_000, dir);
    expect(await worker.stop('SIGTERM')).toBe(0);
    const rebuilt = await runCli(['projections', 'rebuild', 'run_state', '--connectors', './duplicate.js'], env(), 60_000, dir);
    expect(rebuilt.code).toBe(1);
    expect(rebuilt.stderr).toContain("type 'transform' is already taken by a builtin connector");
  });

  it('stops start-up on a type used twice, with one message and no stack trace', async () => {
    const result = await runCli(['start', '--connectors', './duplicate.js'], env(), 60_000, dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("Invalid connectors in ./duplicate.js:\n  - connector #2 ('transform'): type 'transform' is already taken by a builtin connector\n");
    expect(result.stdout).toBe('');
  });

  it('stops start-up on a definition not made by defineConnector, listing every problem', async () => {
    const result = await runCli(['api', '--connectors', './invalid.js'], env(), 60_000, dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "Invalid connectors in ./invalid.js:\n" +
        "  - connector #1 ('half_made'): was not made by defineConnector (wrap the definition in defineConnector({...}))\n" +
        "  - connector #1 ('half_made'): outputs must be a zod object (z.object({...}))\n" +
        "  - connector #1 ('half_made'): an action needs a run function\n",
    );
  });

  it('names a module that cannot be loaded or exports no array', async () => {
    const missing = await runCli(['start', '--connectors', './nowhere.js'], env(), 60_000, dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^Invalid connectors in \.\/nowhere\.js:\n {2}- cannot load the module: Cannot find module/);
    writeFileSync(join(dir, 'object.js'), 'module.exports = { shout: {} };\n');
    const notArray = await runCli(['start', '--connectors', './object.js'], env(), 60_000, dir);
    expect(notArray.stderr).toBe('Invalid connectors in ./object.js:\n  - the module must export an array of connectors, as its default export or as `connectors`\n');
  });
});
