import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsService } from '../../src/secrets/secrets.service';
import { startTestApp, type TestApp } from '../support/app';
import { addMember, createApiKey, signUp, type SignedUp } from '../support/auth';

const dataDir = mkdtempSync(join(tmpdir(), 'thodare-secrets-'));
let app: TestApp;
let owner: SignedUp;

beforeAll(async () => {
  app = await startTestApp('secrets', { THODARE_DATA_DIR: dataDir });
  owner = await signUp(app);
});
afterAll(() => app.close());

const store = (name: string, value: string, headers = owner.headers) => app.request('POST', '/api/secrets', { headers, body: { name, value } });

describe('secrets routes', () => {
  it('stores a value, lists names only, and never returns, logs or records the value', async () => {
    const value = 'xoxb-plaintext-4242-never-shown';
    const created = await store('SLACK_BOT_TOKEN', value);
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ name: 'SLACK_BOT_TOKEN', createdAt: expect.any(String), updatedAt: expect.any(String), replaced: false });
    const list = await app.request('GET', '/api/secrets', { headers: owner.headers });
    expect(list.body).toEqual({ data: [{ name: 'SLACK_BOT_TOKEN', createdAt: expect.any(String), updatedAt: expect.any(String) }], next: null });
    for (const text of [created.text, list.text, app.logs.join('\n')]) expect(text).not.toContain(value);
    const events = await app.db.pool.query(`SELECT type, data FROM events WHERE stream_id = $1 AND type LIKE 'Secret%'`, [`org-${owner.organizationId}`]);
    expect(events.rows).toEqual([{ type: 'SecretStored', data: { name: 'SLACK_BOT_TOKEN', replaced: false } }]);
    const leaks = await app.db.pool.query('SELECT count(*)::int AS n FROM events WHERE data::text LIKE $1 OR metadata::text LIKE $1', [`%${value}%`]);
    expect(leaks.rows[0].n).toBe(0);
    const row = (await app.db.pool.query('SELECT ciphertext, iv, auth_tag FROM secrets WHERE organization_id = $1', [owner.organizationId])).rows[0];
    expect(row.ciphertext.toString('utf8')).not.toContain(value);
    expect(row.ciphertext.equals(Buffer.from(value))).toBe(false);
    expect(row.iv).toHaveLength(12);
    expect(row.auth_tag).toHaveLength(16);
  });

  it('replaces the value when a name is posted again, keeping createdAt', async () => {
    const first = await store('API_TOKEN', 'one');
    const second = await store('API_TOKEN', 'two');
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ name: 'API_TOKEN', replaced: true, createdAt: first.body.createdAt });
    const service = app.running.app.get(SecretsService);
    expect(await service.resolveSecrets(owner.organizationId, ['API_TOKEN'])).toEqual({ API_TOKEN: 'two' });
  });

  it('deletes a secret (204), then 404 when absent', async () => {
    await store('TEMP', 'x');
    expect((await app.request('DELETE', '/api/secrets/TEMP', { headers: owner.headers })).status).toBe(204);
    const again = await app.request('DELETE', '/api/secrets/TEMP', { headers: owner.headers });
    expect(again.status).toBe(404);
    expect(again.body.error).toBe('not_found');
    const events = await app.db.pool.query(`SELECT data FROM events WHERE stream_id = $1 AND type = 'SecretDeleted'`, [`org-${owner.organizationId}`]);
    expect(events.rows).toEqual([{ data: { name: 'TEMP' } }]);
  });

  it('refuses bad names and empty values', async () => {
    for (const name of ['has space', '1LEADING_DIGIT', '__proto__', 'x'.repeat(129)]) {
      const res = await store(name, 'v');
      expect([name, res.status, res.body.error]).toEqual([name, 400, 'invalid_body']);
    }
    expect((await store('OK_NAME', '')).status).toBe(400);
  });

  it('lets members list names but only admins store or delete', async () => {
    const member = await addMember(app, owner, 'member');
    const denied = await store('MEMBER_TRY', 'v', member.headers);
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('forbidden');
    expect((await app.request('DELETE', '/api/secrets/SLACK_BOT_TOKEN', { headers: member.headers })).status).toBe(403);
    expect((await app.request('GET', '/api/secrets', { headers: member.headers })).status).toBe(200);
    const adminKey = await createApiKey(app, owner.headers, { role: 'admin' });
    expect((await store('FROM_ADMIN_KEY', 'v', adminKey.headers)).status).toBe(201);
  });

  it('keeps organizations apart: names, deletes and resolution', async () => {
    const stranger = await signUp(app);
    expect((await app.request('GET', '/api/secrets', { headers: stranger.headers })).body.data).toEqual([]);
    expect((await app.request('DELETE', '/api/secrets/SLACK_BOT_TOKEN', { headers: stranger.headers })).status).toBe(404);
    const service = app.running.app.get(SecretsService);
    await expect(service.resolveSecrets(stranger.organizationId, ['SLACK_BOT_TOKEN'])).rejects.toMatchObject({ code: 'secret_missing', missing: ['SLACK_BOT_TOKEN'] });
  });

  it('refuses to open a ciphertext copied to another organization', async () => {
    const stranger = await signUp(app);
    await app.db.pool.query(
      `INSERT INTO secrets (organization_id, name, ciphertext, iv, auth_tag, key_id)
       SELECT $2, name, ciphertext, iv, auth_tag, key_id FROM secrets WHERE organization_id = $1 AND name = 'SLACK_BOT_TOKEN'`,
      [owner.organizationId, stranger.organizationId],
    );
    const service = app.running.app.get(SecretsService);
    await expect(service.resolveSecrets(stranger.organizationId, ['SLACK_BOT_TOKEN'])).rejects.toMatchObject({ code: 'secret_corrupted' });
  });
});

describe('SecretsService.resolveSecrets', () => {
  it('returns every requested value by name and lists all missing names at once', async () => {
    await store('A_ONE', 'alpha');
    await store('B_TWO', 'beta');
    const service = app.running.app.get(SecretsService);
    expect(await service.resolveSecrets(owner.organizationId, ['A_ONE', 'B_TWO', 'A_ONE'])).toEqual({ A_ONE: 'alpha', B_TWO: 'beta' });
    expect(await service.resolveSecrets(owner.organizationId, [])).toEqual({});
    await expect(service.resolveSecrets(owner.organizationId, ['A_ONE', 'NOPE', 'NADA'])).rejects.toMatchObject({ code: 'secret_missing', missing: ['NOPE', 'NADA'] });
  });
});

describe('the secret key', () => {
  it('generates a development key once in the data directory (mode 0600) and warns about it', () => {
    const file = join(dataDir, 'secret.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(app.logs.join('\n')).toMatch(/THODARE_SECRET_KEY is not set: generated a development key/);
  });

  it('uses THODARE_SECRET_KEY when set, and reports values sealed under another key as secret_key_mismatch', async () => {
    const keyed = await startTestApp('secrets_keyed', { THODARE_SECRET_KEY: 'ab'.repeat(32), THODARE_DATA_DIR: mkdtempSync(join(tmpdir(), 'thodare-keyed-')) });
    try {
      const user = await signUp(keyed);
      expect((await keyed.request('POST', '/api/secrets', { headers: user.headers, body: { name: 'K', value: 'v1' } })).status).toBe(201);
      const service = keyed.running.app.get(SecretsService);
      expect(await service.resolveSecrets(user.organizationId, ['K'])).toEqual({ K: 'v1' });
      expect(keyed.logs.join('\n')).not.toContain('development key');
      await keyed.db.pool.query(`UPDATE secrets SET key_id = 'someotherkey0000'`);
      await expect(service.resolveSecrets(user.organizationId, ['K'])).rejects.toMatchObject({ code: 'secret_key_mismatch' });
    } finally {
      await keyed.close();
    }
  });
});
