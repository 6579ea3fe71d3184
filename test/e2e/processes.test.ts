import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { Client } from 'pg';
import { dropSchema, databaseUrl } from '../support/database';
import { request } from '../support/app';
import { runCli, startServer, startServers } from '../support/cli';

const freshSchema = () => `test_proc_${randomBytes(4).toString('hex')}`;

describe('thodare CLI as real processes', () => {
  it('prints help listing every command', async () => {
    const result = await runCli(['--help'], {});
    expect(result.code).toBe(0);
    for (const command of ['start', 'api', 'worker', 'projector', 'migrate', 'projections']) expect(result.stdout).toContain(command);
  });

  it('refuses a bad configuration with one message listing every problem, exit code 1, no stack trace', async () => {
    const result = await runCli(['start'], { DATABASE_URL: 'not a url', PORT: '99999', THODARE_SCHEMA: 'Drop Table' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DATABASE_URL');
    expect(result.stderr).toContain('PORT');
    expect(result.stderr).toContain('THODARE_SCHEMA');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a port another process holds, naming the setting that chooses it, exit code 1', async () => {
    const schema = freshSchema();
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = String((taken.address() as AddressInfo).port);
    const env = { DATABASE_URL: databaseUrl(), THODARE_SCHEMA: schema, HOST: '127.0.0.1' };
    try {
      // A worker serves its probes on a port too (3001 by default): a second worker on one host met
      // Node's bare "listen EADDRINUSE", which named neither the server nor the setting.
      const worker = await runCli(['worker'], { ...env, THODARE_WORKER_PORT: port });
      expect(worker.code).toBe(1);
      expect(worker.stderr).toContain(`thodare: the probe server (/health, /ready, /metrics) cannot listen on 127.0.0.1:${port}: the port is in use (THODARE_WORKER_PORT chooses it; 0 picks a free one)`);
      const api = await runCli(['api'], { ...env, PORT: port });
      expect(api.code).toBe(1);
      expect(api.stderr).toContain(`thodare: the API cannot listen on 127.0.0.1:${port}: the port is in use (PORT chooses it; 0 picks a free one)`);
    } finally {
      taken.close();
      await dropSchema(databaseUrl(), schema);
    }
  });

  it('brings up two API processes started at once on an empty schema, and re-migrating is a no-op', async () => {
    const schema = freshSchema();
    const env = { DATABASE_URL: databaseUrl(), THODARE_SCHEMA: schema, PORT: '0', HOST: '127.0.0.1' };
    try {
      const [a, b] = await Promise.all([startServer(['api'], env), startServer(['api'], env)]);
      try {
        expect((await request(a.url, 'GET', '/ready')).status).toBe(200);
        expect((await request(b.url, 'GET', '/ready')).status).toBe(200);
      } finally {
        expect(await a.stop('SIGTERM')).toBe(0);
        expect(await b.stop('SIGINT')).toBe(0);
      }
      const again = await runCli(['migrate'], env);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain('up to date');
    } finally {
      await dropSchema(databaseUrl(), schema);
    }
  });

  it('rebuilds a projection from the CLI into a table equal to the live one', async () => {
    const schema = freshSchema();
    const env = { DATABASE_URL: databaseUrl(), THODARE_SCHEMA: schema, PORT: '0', HOST: '127.0.0.1', THODARE_POLL_INTERVAL_MS: '50' };
    const client = new Client({ connectionString: databaseUrl(), options: `-c search_path=${schema}` });
    try {
      const server = await startServer(['start'], env);
      await client.connect();
      for (let i = 0; i < 30; i++) {
        await client.query(
          `INSERT INTO events (stream_id, stream_version, organization_id, type, data) VALUES ($1, 1, $2, $3, '{}')`,
          [`run-${i}`, `org-${i % 3}`, i % 2 ? 'RunStarted' : 'RunCompleted'],
        );
      }
      const live = async () => (await client.query('SELECT * FROM event_counts ORDER BY 1, 2, 3, 4')).rows;
      for (let tries = 0; (await live()).reduce((n, r) => n + Number(r.count), 0) < 30; tries++) {
        if (tries > 200) throw new Error('event_counts never caught up');
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(await server.stop()).toBe(0);
      const before = await live();
      const rebuilt = await runCli(['projections', 'rebuild', 'event_counts'], env);
      expect(rebuilt.code).toBe(0);
      expect(rebuilt.stdout).toContain('rebuilt event_counts from 30 events');
      expect(await live()).toEqual(before);
      const unknown = await runCli(['projections', 'rebuild', 'nope'], env);
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('unknown projection "nope"');
    } finally {
      await client.end();
      await dropSchema(databaseUrl(), schema);
    }
  });

  it('starts on an embedded Postgres without DATABASE_URL, reuses its data, and leaves no postgres behind on Ctrl-C', async () => {
    // 0700, as the generated key files leave a data directory they are written to first: run as
    // root, the cluster's own user must still pass through it (initdb failed here before).
    const dataDir = mkdtempSync(join(tmpdir(), 'thodare-start-'));
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const env = { THODARE_DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', THODARE_EMBEDDED_PG_PORT: '0' };
    const first = await startServer(['start'], env);
    expect(first.output()).toContain(`embedded Postgres in ${join(dataDir, 'pg')}`);
    expect((await request(first.url, 'GET', '/ready')).status).toBe(200);
    // The app talks to its own cluster over the Unix socket in the data directory (cheaper than
    // TCP); the printed psql URL is TCP, for people.
    const tcpUrl = /psql '([^']+)'/.exec(first.output())![1]!;
    const observer = new Client({ connectionString: tcpUrl });
    await observer.connect();
    try {
      const { rows } = await observer.query<{ socket: number; tcp: number }>(
        `SELECT count(*) FILTER (WHERE client_addr IS NULL)::int AS socket, count(*) FILTER (WHERE client_addr IS NOT NULL)::int AS tcp
         FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
      );
      expect(rows[0]).toMatchObject({ socket: expect.any(Number), tcp: 0 });
      expect(rows[0]!.socket).toBeGreaterThan(0);
    } finally {
      await observer.end();
    }
    const postmasterPid = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(await first.stop('SIGINT')).toBe(0);
    expect(existsSync(join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
    expect(() => process.kill(postmasterPid, 0)).toThrow();

    const second = await startServer(['start'], env);
    expect(second.output()).toContain('up to date');
    expect((await request(second.url, 'GET', '/health')).status).toBe(200);
    expect(await second.stop('SIGTERM')).toBe(0);
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe('thodare api + thodare worker as separate processes', () => {
  it('runs a workflow started through an API-only process on a worker-only process', async () => {
    const schema = freshSchema();
    const env = { DATABASE_URL: databaseUrl(), THODARE_SCHEMA: schema, PORT: '0', HOST: '127.0.0.1', THODARE_POLL_INTERVAL_MS: '200' };
    try {
      const [api, worker] = await startServers([['api'], env], [['worker'], env]);
      try {
        const signUp = await request(api.url, 'POST', '/api/auth/sign-up', { body: { email: `split-${schema}@example.test`, password: 'correct horse battery' } });
        const auth = { authorization: `Bearer ${signUp.body.token}` };
        const workflow = await request(api.url, 'POST', '/api/workflows', { body: { name: 'split' }, headers: auth });
        const ops = [
          { operation_type: 'add', block_id: 'start', type: 'trigger_manual' },
          { operation_type: 'add', block_id: 'greet', type: 'transform', params: { template: 'hello {{trigger.name}}' } },
          { operation_type: 'connect', block_id: 'start', target_block_id: 'greet' },
        ];
        expect((await request(api.url, 'POST', `/api/workflows/${workflow.body.id}/operations`, { body: { ops }, headers: auth })).body.ok).toBe(true);
        const run = await request(api.url, 'POST', `/api/workflows/${workflow.body.id}/runs?waitMs=20000`, { body: { input: { name: 'split' } }, headers: auth });
        expect(run.status).toBe(200);
        expect(run.body).toMatchObject({ status: 'completed', outputs: { greet: { value: 'hello split' } } });
        const logs = await request(api.url, 'GET', `/api/runs/${run.body.id}/events`, { headers: auth });
        const workerActors = logs.body.data.filter((e: { metadata: { actor: { id: string } } }) => e.metadata.actor.id.startsWith('worker:'));
        expect(workerActors.length).toBeGreaterThan(0);
      } finally {
        expect(await worker.stop('SIGTERM')).toBe(0);
        expect(await api.stop('SIGTERM')).toBe(0);
      }
    } finally {
      await dropSchema(databaseUrl(), schema);
    }
  });
});
