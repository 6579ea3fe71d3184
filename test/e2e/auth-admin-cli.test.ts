import { main } from '../../src/cli/thodare';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { request } from '../support/app';
import { startApplication } from '../../src/main';
import { parseConfig } from '../../src/config/config';
import { uniqueEmail } from '../support/auth';

/** `thodare admin create` through the real command line parser, against DATABASE_URL. */
let db: TestDatabase;
const saved = { ...process.env };
beforeAll(async () => {
  db = await createTestDatabase('admin_cli');
});
afterAll(async () => {
  process.env = saved;
  await db.drop();
});

async function runCli(args: string[]): Promise<string> {
  process.env = { ...saved, DATABASE_URL: db.url, THODARE_SCHEMA: db.schema };
  const out: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out.push(String(chunk));
    return true;
  });
  try {
    await main(['node', 'thodare', ...args]);
  } finally {
    write.mockRestore();
  }
  return out.join('');
}

it('creates an owner and an organization, and prints an admin API key once that works', async () => {
  const email = uniqueEmail('cli');
  const output = await runCli(['admin', 'create', '--email', email, '--org', 'Server Org']);
  expect(output).toContain(`user:         ${email}`);
  expect(output).toMatch(/password: +[A-Za-z0-9_-]{24} +\(generated; shown once\)/);
  const key = /^(thd_[A-Za-z0-9_-]{43})$/m.exec(output)?.[1];
  expect(key).toBeDefined();

  const config = parseConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: db.url, THODARE_SCHEMA: db.schema, THODARE_LOG_LEVEL: 'silent' });
  const running = await startApplication({ config, databaseUrl: db.url, roles: { api: true, worker: false } });
  try {
    const session = await request(running.url!, 'GET', '/api/auth/session', { headers: { authorization: `Bearer ${key}` } });
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ role: 'admin', authMode: 'api_key' });
    const members = await request(running.url!, 'GET', '/api/members', { headers: { authorization: `Bearer ${key}` } });
    expect(members.body.data).toEqual([expect.objectContaining({ email, role: 'owner' })]);
    const password = /password: +(\S+)/.exec(output)![1];
    const signIn = await request(running.url!, 'POST', '/api/auth/sign-in', { body: { email, password } });
    expect(signIn.status).toBe(200);
  } finally {
    await running.close();
  }
});

it('accepts --password and refuses a weak one', async () => {
  const email = uniqueEmail('cli');
  const output = await runCli(['admin', 'create', '--email', email, '--org', 'Second', '--password', 'an operator chosen password']);
  expect(output).not.toContain('generated');
  const exit = jest.spyOn(process, 'exit').mockImplementation(((code: number) => {
    throw new Error(`exit ${code}`);
  }) as never);
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await expect(runCli(['admin', 'create', '--email', uniqueEmail(), '--org', 'Weak', '--password', 'short'])).rejects.toThrow('exit 1');
    expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain('at least 12 characters');
  } finally {
    exit.mockRestore();
    stderr.mockRestore();
  }
});
