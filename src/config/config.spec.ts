import { ConfigError, parseConfig } from './config';

describe('parseConfig', () => {
  it('uses the documented defaults for an empty environment', () => {
    const config = parseConfig({});
    expect(config).toMatchObject({ port: 3000, schema: 'thodare', dataDir: '.thodare', databaseUrl: undefined, signup: 'open', rateLimitPerMin: 600, authRateLimitPerMin: 20 });
  });

  it('treats empty strings as unset', () => {
    expect(parseConfig({ PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 3000, databaseUrl: undefined });
  });

  it('lists every problem at once', () => {
    let error: unknown;
    try {
      parseConfig({ PORT: 'http', DATABASE_URL: 'mysql://x', THODARE_SCHEMA: 'x; drop table', THODARE_SIGNUP: 'maybe' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const key of ['PORT', 'DATABASE_URL', 'THODARE_SCHEMA', 'THODARE_SIGNUP']) expect(problems).toContain(key);
  });

  it('never echoes a database URL or secret key it refused', () => {
    try {
      parseConfig({ DATABASE_URL: 'mysql://user:hunter2@db', THODARE_SECRET_KEY: 'short-secret' });
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
      expect((e as Error).message).not.toContain('short-secret');
    }
  });

  it('parses comma lists and accepts a 64-hex secret key', () => {
    const config = parseConfig({ THODARE_HTTP_ALLOW: 'a.example, 127.0.0.1,', THODARE_SECRET_KEY: 'ab'.repeat(32) });
    expect(config.httpAllowHosts).toEqual(['a.example', '127.0.0.1']);
    expect(config.secretKey).toBe('ab'.repeat(32));
  });

  it("reads whose runs a worker takes: everyone's, only some organizations', or everyone's but some", () => {
    expect(parseConfig({}).workerOrganizations).toBe('all');
    expect(parseConfig({ THODARE_WORKER_ORGANIZATIONS: 'org-a, org-b,org-a' }).workerOrganizations).toEqual({ only: ['org-a', 'org-b'] });
    expect(parseConfig({ THODARE_WORKER_EXCLUDED_ORGANIZATIONS: 'org-a' }).workerOrganizations).toEqual({ except: ['org-a'] });
    expect(() => parseConfig({ THODARE_WORKER_ORGANIZATIONS: 'org-a', THODARE_WORKER_EXCLUDED_ORGANIZATIONS: 'org-b' })).toThrow(/set one or the other/);
  });

  it('refuses a wait longer than a timer keeps, which Node would fire at once', () => {
    // Before: THODARE_POLL_INTERVAL_MS=3000000000 was taken, and an idle worker polled ~700 times a second.
    const waits = ['THODARE_POLL_INTERVAL_MS', 'THODARE_LEASE_MS', 'THODARE_SHUTDOWN_GRACE_MS', 'THODARE_DB_CONNECT_TIMEOUT_MS', 'THODARE_STATEMENT_TIMEOUT_MS', 'THODARE_QUERY_TIMEOUT_MS',
      'THODARE_IDLE_IN_TRANSACTION_TIMEOUT_MS', 'THODARE_HTTP_HEADERS_TIMEOUT_MS', 'THODARE_HTTP_REQUEST_TIMEOUT_MS', 'THODARE_HTTP_KEEP_ALIVE_TIMEOUT_MS', 'THODARE_AUDIT_CHECKPOINT_INTERVAL_MS'];
    for (const variable of waits) {
      expect(() => parseConfig({ [variable]: String(2 ** 31) })).toThrow(new RegExp(`${variable}: must be at most 2147483647`));
      expect(() => parseConfig({ [variable]: String(2 ** 31 - 1) })).not.toThrow();
    }
    expect(() => parseConfig({ THODARE_SESSION_TTL_HOURS: '1000000000000' })).toThrow(/THODARE_SESSION_TTL_HOURS: must be at most 876000/);
  });

  it('refuses a list of organizations that names none, rather than read it as no limit', () => {
    // Before: `,,,` for a tenant's own worker meant 'all', every organization's runs.
    for (const variable of ['THODARE_WORKER_ORGANIZATIONS', 'THODARE_WORKER_EXCLUDED_ORGANIZATIONS']) {
      expect(() => parseConfig({ [variable]: ' , ,,' })).toThrow(new RegExp(`${variable}: names no organization`));
    }
    expect(parseConfig({ THODARE_WORKER_ORGANIZATIONS: '' }).workerOrganizations).toBe('all'); // empty is unset, as for every variable
  });

  it('reads whether a worker keeps the read models: yes unless told false, and nothing but true or false', () => {
    expect(parseConfig({}).workerProjections).toBe(true);
    expect(parseConfig({ THODARE_WORKER_PROJECTIONS: 'false' }).workerProjections).toBe(false);
    expect(() => parseConfig({ THODARE_WORKER_PROJECTIONS: 'no' })).toThrow(/THODARE_WORKER_PROJECTIONS/);
  });
});
