import { Pool } from 'pg';
import { RunClaims } from '../../src/run-queue/run-claims';
import type { TestDatabase } from '../support/database';
import { createRunTestDatabase, testCatalog } from '../support/run-harness';
import { appendRunStart } from '../support/run-start';
import { transformChain } from '../support/run-workflows';
import { waitUntilBlocked } from '../support/locks';

let db: TestDatabase;

beforeAll(async () => {
  db = await createRunTestDatabase('worker_claims'); // no worker runs here: the test claims by hand
});
afterAll(() => db?.drop());

describe('claiming runs', () => {
  it('is fair between organizations: a big backlog does not push a small tenant back', async () => {
    const catalog = testCatalog();
    const big = [];
    for (let i = 0; i < 20; i += 1) big.push(await appendRunStart(db, catalog, transformChain(1), {}, 'org-big'));
    const small = [await appendRunStart(db, catalog, transformChain(1), {}, 'org-small'), await appendRunStart(db, catalog, transformChain(1), {}, 'org-small')];

    const claims = new RunClaims(db.pool, 'tester', 30_000);
    const first = await claims.claimBatch(4);
    expect(first.map((c) => c.runId).sort()).toEqual([big[0], big[1], ...small].sort());
    expect(first.every((c) => c.epoch === 1 && c.streamVersion === 1 && c.events?.length === 1)).toBe(true);
  });

  it('never hands the same run to two claimers, and a second claim after expiry bumps the epoch', async () => {
    const catalog = testCatalog();
    const runId = await appendRunStart(db, catalog, transformChain(1), {}, 'org-solo');
    await db.pool.query(`UPDATE run_state SET lease_owner = 'x', lease_until = now() + interval '1 hour' WHERE run_id <> $1`, [runId]);
    // Leases long enough that no scheduling delay can expire one; expiry is then made explicit
    // (the lease moved into the past) instead of slept for, which a loaded machine could outlast.
    const [a, b] = [new RunClaims(db.pool, 'a', 60_000), new RunClaims(db.pool, 'b', 60_000)];

    const claimed = (await Promise.all([a.claimBatch(5), b.claimBatch(5)])).flat();
    expect(claimed.map((c) => c.runId)).toEqual([runId]);
    expect(await b.claimOne(runId, 'org-solo')).toBeUndefined(); // still leased
    await db.pool.query(`UPDATE run_state SET lease_until = now() - interval '1 second' WHERE run_id = $1`, [runId]);
    expect(await b.claimOne(runId, 'org-other')).toBeUndefined(); // named with another organization: not that run
    expect(await b.claimOne(runId, 'org-solo')).toMatchObject({ runId, epoch: 2 });
    expect(await a.renew([runId])).toEqual([]); // a's lease is gone
  });

  it('stays fair when the backlog spans more organizations than the claim takes runs', async () => {
    // Everything queued so far is held: the queue is the runs below, 12 (over the window of 8).
    await db.pool.query(`UPDATE run_state SET lease_owner = 'x', lease_until = now() + interval '1 hour' WHERE lease_owner IS NULL`);
    const catalog = testCatalog();
    const first = [];
    for (let i = 0; i < 10; i += 1) first.push(await appendRunStart(db, catalog, transformChain(1), {}, 'org-a'));
    const second = await appendRunStart(db, catalog, transformChain(1), {}, 'org-b');
    await appendRunStart(db, catalog, transformChain(1), {}, 'org-c');

    // Three organizations for a claim of two: every organization's oldest comes first, oldest first.
    const claimed = await new RunClaims(db.pool, 'tester-2', 30_000).claimBatch(2);
    expect(claimed.map((c) => c.runId).sort()).toEqual([first[0], second].sort());
  });

  it("keeps to a worker's organizations: its own only, or every one's but the excluded, however many organizations are queued", async () => {
    // Everything queued so far is held: the queue is the runs below, of four organizations.
    await db.pool.query(`UPDATE run_state SET lease_owner = 'x', lease_until = now() + interval '1 hour' WHERE lease_owner IS NULL`);
    const catalog = testCatalog();
    const runsOf = async (organizationId: string, count: number) => {
      const ids = [];
      for (let i = 0; i < count; i += 1) ids.push(await appendRunStart(db, catalog, transformChain(1), {}, organizationId));
      return ids;
    };
    const excluded = await runsOf('org-excluded', 6);
    const [w, x, y] = [await runsOf('org-w', 2), await runsOf('org-x', 1), await runsOf('org-y', 1)];
    const organizationsOf = (claimed: { organizationId: string }[]) => claimed.map((c) => c.organizationId).sort();

    // A tenant's own worker: its organizations' oldest first, turn by turn.
    const own = await new RunClaims(db.pool, 'own', 30_000, { only: ['org-w', 'org-x'] }).claimBatch(2);
    expect(own.map((c) => c.runId).sort()).toEqual([w[0], x[0]].sort());
    // The shared pool, claiming fewer runs than there are organizations besides the excluded one
    // (the due runs ranked whole), then more (each organization walked).
    const pool = new RunClaims(db.pool, 'pool', 30_000, { except: ['org-excluded'] });
    expect(organizationsOf(await pool.claimBatch(2))).toEqual(['org-w', 'org-y']);
    expect(await pool.claimBatch(8)).toEqual([]);
    await db.pool.query(`UPDATE run_state SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IN ('own', 'pool')`);
    expect(organizationsOf(await pool.claimBatch(8))).toEqual(['org-w', 'org-w', 'org-x', 'org-y']);
    expect(await pool.claimOne(excluded[0]!, 'org-excluded')).toBeUndefined();
    const excludedOwn = new RunClaims(db.pool, 'own', 30_000, { only: ['org-excluded'] });
    expect(await excludedOwn.claimOne(y[0]!, 'org-y')).toBeUndefined();
    expect(await excludedOwn.claimOne(excluded[0]!, 'org-excluded')).toMatchObject({ runId: excluded[0] });
  });

  it('renews leases locking rows in run-id order, as run appends lock them, whatever the plan: no deadlock with an append in flight', async () => {
    const catalog = testCatalog();
    const ids = [await appendRunStart(db, catalog, transformChain(1), {}, 'org-renew'), await appendRunStart(db, catalog, transformChain(1), {}, 'org-renew')];
    const [first, second] = [...ids].sort((a, b) => (a < b ? -1 : 1)) as [string, string];
    await db.pool.query(`UPDATE run_state SET lease_owner = 'renewer', lease_until = now() + interval '1 hour' WHERE run_id = ANY($1)`, [ids]);
    // The first run's row moves behind the second's in the heap: a scan meets the second first.
    await db.pool.query(`UPDATE run_state SET updated_at = updated_at WHERE run_id = $1`, [first]);
    // The plan Postgres picked for a worker's renewal under load (a heap scan, not the key index).
    const scanning = new Pool({ connectionString: db.url, max: 1, options: `-c search_path=${db.schema} -c enable_indexscan=off -c enable_bitmapscan=off -c enable_indexonlyscan=off` });
    const renewerPid = (await scanning.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    const append = await db.pool.connect();
    try {
      // An append of both runs locks them as `RunAppendGroups` orders its items: by run id.
      await append.query('BEGIN');
      await append.query('SELECT 1 FROM run_state WHERE run_id = $1 FOR UPDATE', [first]);
      const renewal = new RunClaims(scanning, 'renewer', 60_000).renew([second, first]);
      await waitUntilBlocked(db.pool, renewerPid);
      await append.query('SELECT 1 FROM run_state WHERE run_id = $1 FOR UPDATE', [second]); // a deadlock here before
      await append.query('COMMIT');
      expect((await renewal).map((claim) => claim.runId).sort()).toEqual([first, second]);
    } finally {
      append.release();
      await scanning.end();
    }
  });
});
