import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { analyticsSchemaName } from '../../src/analytics/analytics-schema';
import { startTestApp, type TestApp } from '../support/app';
import { signUp, type SignedUp } from '../support/auth';
import { runCli } from '../support/cli';
import { add, connect, createWorkflow } from '../support/run-api';

// `thodare analytics grant|revoke` (the compiled CLI) against a live app: real sign-ups, runs and
// the worker's analytics projection. Roles are cluster-wide, so each gets a unique name and is
// dropped at the end whatever happens.

let app: TestApp;
let alice: SignedUp;
let bob: SignedUp;
const runs: Record<string, string> = {};
const suffix = randomBytes(4).toString('hex');
const roles = { org: `an_org_${suffix}`, all: `an_all_${suffix}`, team: `an_team_${suffix}`, member: `an_member_${suffix}`, refused: `an_x_${suffix}` };
const sessions: Client[] = [];
let analytics: string;

const cli = (args: string[]) => runCli(['analytics', ...args], { DATABASE_URL: app.db.url, THODARE_SCHEMA: app.db.schema });

async function connectAs(role: string, password: string): Promise<Client> {
  const url = new URL(app.db.url);
  url.username = role;
  url.password = password;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  sessions.push(client);
  return client;
}

async function grant(role: string, org?: string): Promise<Client> {
  const result = await cli(['grant', role, ...(org ? ['--org', org] : [])]);
  expect([result.code, result.stderr]).toEqual([0, '']);
  const password = /password \(shown once\): (\S+)/.exec(result.stdout)?.[1];
  expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
  return connectAs(role, password!);
}

const visibleRuns = async (client: Client) => (await client.query(`SELECT run_id FROM "${analytics}".runs ORDER BY run_id`)).rows.map((r) => r.run_id);
const denied = (client: Client, sql: string) => client.query(sql).then(() => 'allowed', (error: { code?: string }) => error.code);

beforeAll(async () => {
  app = await startTestApp('analytics_access');
  analytics = analyticsSchemaName(app.db.schema);
  alice = await signUp(app);
  bob = await signUp(app);
  for (const user of [alice, bob]) {
    const headers = { ...user.headers, 'x-thodare-agent': 'claude-test' };
    const id = await createWorkflow(app, headers, [add('start', 'trigger_manual'), add('echo', 'transform', { template: 'hi' }), connect('start', 'echo')]);
    const started = await app.request('POST', `/api/workflows/${id}/runs?waitMs=10000`, { headers, body: {} });
    expect(started.body.status).toBe('completed');
    runs[user.organizationId] = started.body.id;
  }
  // The analytics projection is async: wait for the worker to record both runs as ended.
  for (let tries = 0; ; tries++) {
    const { rows } = await app.db.pool.query(`SELECT count(*)::int AS n FROM analytics_runs WHERE status = 'completed'`);
    if (rows[0].n === 2) break;
    if (tries > 200) throw new Error('the analytics projection did not catch up');
    await new Promise((r) => setTimeout(r, 50));
  }
});

afterAll(async () => {
  for (const session of sessions) await session.end().catch(() => undefined);
  for (const role of Object.values(roles)) {
    await app.db.pool.query(`DROP OWNED BY ${role}`).catch(() => undefined);
    await app.db.pool.query(`DROP ROLE IF EXISTS ${role}`);
  }
  await app.close();
});

it('lets an analyst limited to one organization read only its rows, and never the event store or tables', async () => {
  const analyst = await grant(roles.org, alice.organizationId);
  expect(await visibleRuns(analyst)).toEqual([runs[alice.organizationId]]);
  const { rows } = await analyst.query(`SELECT trigger_kind, actor_type, agent, status FROM "${analytics}".runs`);
  expect(rows).toEqual([{ trigger_kind: 'api', actor_type: 'user', agent: 'claude-test', status: 'completed' }]);
  const attempts = await analyst.query(`SELECT connector_type, status, is_final FROM "${analytics}".step_attempts ORDER BY attempt_id`);
  expect(attempts.rows).toEqual([{ connector_type: 'transform', status: 'succeeded', is_final: true }]);
  expect((await analyst.query(`SELECT organization_id FROM "${analytics}".organizations`)).rows).toEqual([{ organization_id: alice.organizationId }]);
  // 42501: insufficient privilege — the deployment schema is closed to it, whatever the table.
  for (const table of ['events', 'run_state', 'analytics_runs', 'analytics_grants', 'analytics_scope', 'secrets']) {
    expect([table, await denied(analyst, `SELECT * FROM "${app.db.schema}".${table} LIMIT 1`)]).toEqual([table, '42501']);
  }
  expect(await denied(analyst, `CREATE VIEW "${analytics}".mine AS SELECT 1`)).toBe('42501');
  expect(await denied(analyst, `SET ROLE postgres`)).toBe('42501');
});

it('lets an unrestricted analyst read every organization', async () => {
  const analyst = await grant(roles.all);
  expect(await visibleRuns(analyst)).toEqual(Object.values(runs).sort());
});

it('limits a login role that inherits a limited group role like the group itself', async () => {
  await grant(roles.team, bob.organizationId);
  const password = `pw-${randomBytes(12).toString('hex')}`;
  await app.db.pool.query(`CREATE ROLE ${roles.member} LOGIN PASSWORD '${password}' IN ROLE ${roles.team}`);
  expect(await visibleRuns(await connectAs(roles.member, password))).toEqual([runs[bob.organizationId]]);
});

it('refuses unsafe role names, unknown organizations and roles that could read more', async () => {
  const cases: [string[], RegExp][] = [
    [['grant', 'bad"; DROP TABLE events; --'], /use a lowercase SQL identifier/],
    [['grant', 'pg_monitor'], /use a lowercase SQL identifier/],
    [['grant', roles.refused, '--org', 'no-such-org'], /--org: no organization "no-such-org"/],
    [['grant', 'postgres'], /is the role running this command|is privileged/],
  ];
  const results = await Promise.all(cases.map(([args]) => cli(args))); // each is refused on its own
  for (const [i, [args, reason]] of cases.entries()) {
    expect([args, results[i]!.code, results[i]!.stderr]).toEqual([args, 1, expect.stringMatching(reason)]);
  }
  expect((await app.db.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [roles.refused])).rowCount).toBe(0);
});

it('revokes: the role loses access at once and, created by the grant, is dropped', async () => {
  const before = await connectAs(roles.all, await resetPassword(roles.all));
  const result = await cli(['revoke', roles.all]);
  expect(result.stdout).toContain(`revoked ${roles.all} on ${analytics}; role dropped`);
  expect(await denied(before, `SELECT 1 FROM "${analytics}".runs`)).toBe('42501');
  expect((await app.db.pool.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [roles.all])).rowCount).toBe(0);
});

async function resetPassword(role: string): Promise<string> {
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const result = await cli(['grant', role, '--password', password]);
  expect(result.stdout).toContain(`updated login role ${role}`);
  return password;
}
