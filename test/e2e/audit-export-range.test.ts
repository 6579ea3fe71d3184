import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportBundle, type ExportRange } from '../../src/audit/audit-export';
import { verifyBundle } from '../../src/audit/bundle/verify-bundle';
import { auditKeyId } from '../../src/audit/proof/checkpoint';
import type { Queryable } from '../../src/event-store/projection';
import { startTestApp, type TestApp } from '../support/app';
import { writeFillerHistory } from '../support/database';
import { signUp, type SignedUp } from '../support/auth';
import { add, createWorkflow } from '../support/run-api';

// An export of a time range out of a long history. Before, its bounds were found by joining every
// seal of the organization with its event, and its start state was rebuilt by replaying every
// earlier leaf: exporting the last minute of a year cost as much as exporting the year. Now the
// seals keep their events' times on an index and checkpoints keep their Merkle frontiers, so the
// export reads what the range holds and a checkpoint interval before it.
//
// What a statement reads is counted, not timed: every statement the export sends is also run
// under EXPLAIN ANALYZE, and the rows its scans visited are added up.

const HISTORY = 100_000;

let app: TestApp;
let owner: SignedUp;
let dir: string;
let publicKey: string;
/** The database's time after the history was sealed and signed, before the recent events. */
let recentFrom: Date;
/** The organization's sealed events before `recentFrom`. */
let historyEnd: number;

const orgEvents = async () => Number((await app.db.pool.query('SELECT count(*) AS n FROM events WHERE organization_id = $1', [owner.organizationId])).rows[0].n);

/** Until every event of the organization is sealed and covered by a checkpoint; their count. */
async function sealedAndSigned(): Promise<number> {
  const until = Date.now() + 60_000;
  for (;;) {
    const { rows } = await app.db.pool.query(
      `SELECT (SELECT sequence FROM audit_heads WHERE organization_id = $1) AS sealed,
              (SELECT max(sequence) FROM audit_checkpoints WHERE organization_id = $1) AS signed`,
      [owner.organizationId],
    );
    const total = await orgEvents();
    if (Number(rows[0].sealed) === total && Number(rows[0].signed) === total) return total;
    if (Date.now() > until) throw new Error(`not sealed and signed in time: ${JSON.stringify(rows[0])} (events: ${total})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  app = await startTestApp('audit_export_range', { THODARE_AUDIT_SIGNING_KEY: randomBytes(32).toString('hex'), THODARE_AUDIT_CHECKPOINT_INTERVAL_MS: '100' });
  dir = mkdtempSync(join(tmpdir(), 'thodare-audit-range-'));
  owner = await signUp(app);
  // The organization's long history.
  await writeFillerHistory(app.db.pool, owner.organizationId, HISTORY);
  historyEnd = await sealedAndSigned();
  // Statistics for the 100,000 rows, as autovacuum would have gathered them on a database that
  // grew a history this long: without them the planner guesses from an empty table, and once in
  // a full run it chose a plan that read more than the span (the claim is about the export's
  // statements, not about plans made blind).
  await app.db.pool.query('ANALYZE events, audit_seals, audit_checkpoints');
  recentFrom = (await app.db.pool.query('SELECT now() AS t')).rows[0].t as Date;
  await createWorkflow(app, owner.headers, [add('a', 'transform', { value: 'recent' })]);
  await sealedAndSigned();
  const keys = await app.request('GET', '/api/audit/keys', { headers: owner.headers });
  publicKey = keys.body.data.find((k: { current: boolean }) => k.current).publicKey;
}, 180_000);
afterAll(async () => {
  await app?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/**
 * Rows the plan's scans of tables visited (returned or filtered out), over all their loops. A
 * scan of a query's own intermediate result (a CTE's rows held in memory) reads no table.
 */
function rowsVisited(node: PlanNode): number {
  const own = node['Node Type'].endsWith('Scan') && node['Relation Name'] !== undefined ? ((node['Actual Rows'] ?? 0) + (node['Rows Removed by Filter'] ?? 0)) * (node['Actual Loops'] ?? 1) : 0;
  return own + (node.Plans ?? []).reduce((sum, child) => sum + rowsVisited(child), 0);
}

/** The test's pool, counting the rows every statement sent through it visits. */
function countingReads(): { db: Queryable; visited: () => number } {
  let visited = 0;
  const db = {
    query: async (text: string, values?: unknown[]) => {
      const explained = await app.db.pool.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${text}`, values);
      visited += rowsVisited((explained.rows[0]['QUERY PLAN'] as { Plan: PlanNode }[])[0]!.Plan);
      return app.db.pool.query(text, values);
    },
  } as unknown as Queryable;
  return { db, visited: () => visited };
}

async function exported(db: Queryable, range: ExportRange, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of exportBundle(db, owner.organizationId, range)) chunks.push(chunk);
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat(chunks));
  return path;
}

/**
 * The export's reads against its span: the seals from the checkpoint its start state is rebuilt
 * from through the checkpoint that signs its last event (each read with its event: twice). The
 * span is a small part of the history; before, the export read every seal of it and every event.
 */
async function expectReadsWithinSpan(visited: number, afterSequence: number, throughSequence: number): Promise<void> {
  const { rows } = await app.db.pool.query('SELECT max(sequence) AS start FROM audit_checkpoints WHERE organization_id = $1 AND sequence <= $2', [owner.organizationId, afterSequence]);
  const span = throughSequence - Number(rows[0].start ?? 0);
  expect(span).toBeLessThan(HISTORY / 4);
  expect(visited).toBeLessThan(3 * span + 1000);
}

const trusted = () => [{ keyId: auditKeyId(Buffer.from(publicKey, 'base64')), algorithm: 'Ed25519' as const, publicKey }];

it('exports the recent events of a long history reading what the range holds, not the history', async () => {
  const reads = countingReads();
  const path = await exported(reads.db, { from: recentFrom }, 'recent.tar');
  const verdict = verifyBundle(path, trusted());
  expect(verdict).toMatchObject({ ok: true, afterSequence: historyEnd, events: (await orgEvents()) - historyEnd });
  if (!verdict.ok) return;
  // Before: the bounds' join and the start state's replay each read all 100,000 seals.
  await expectReadsWithinSpan(reads.visited(), verdict.afterSequence, verdict.throughSequence);
});

it('bounds a range on both sides by the times the seals kept', async () => {
  // From filler 49,000's millisecond through filler 51,000's, as a client would name them: a
  // range of a couple of thousand seals, which the planner once bounded by walking the sequence
  // key in from both ends (src/audit/audit-export.ts, sequenceRange).
  const recordedAt = async (i: number) =>
    (await app.db.pool.query(`SELECT recorded_at FROM events WHERE organization_id = $1 AND type = 'Filler' AND data->>'i' = $2`, [owner.organizationId, String(i)])).rows[0].recorded_at as Date;
  const [from, to] = [await recordedAt(49_000), new Date((await recordedAt(51_000)).getTime() + 1)];
  const reads = countingReads();
  const path = await exported(reads.db, { from, to }, 'middle.tar');
  const verdict = verifyBundle(path, trusted());
  expect(verdict).toMatchObject({ ok: true });
  if (!verdict.ok) return;
  // The same bounds the old way: every seal joined with its event.
  const { rows } = await app.db.pool.query(
    `SELECT min(s.sequence) AS first, max(s.sequence) AS last FROM audit_seals s JOIN events e USING (global_position)
     WHERE s.organization_id = $1 AND e.recorded_at >= $2 AND e.recorded_at <= $3`,
    [owner.organizationId, from, to],
  );
  expect(Number(rows[0].first)).toBeGreaterThan(0);
  expect(verdict.afterSequence).toBe(Number(rows[0].first) - 1);
  // On to the checkpoint that signs the range's last event.
  expect(verdict.throughSequence).toBeGreaterThanOrEqual(Number(rows[0].last));
  expect(verdict.throughSequence).toBeLessThan(historyEnd);
  await expectReadsWithinSpan(reads.visited(), verdict.afterSequence, verdict.throughSequence);
});

it('still exports a verifiable range when the checkpoints before it kept no frontier (signed before they did)', async () => {
  await app.db.pool.query('UPDATE audit_checkpoints SET merkle_frontier = NULL WHERE organization_id = $1', [owner.organizationId]);
  const path = await exported(app.db.pool, { from: recentFrom }, 'rebuilt.tar');
  expect(verifyBundle(path, trusted())).toMatchObject({ ok: true, afterSequence: historyEnd });
});

it('serves the range over HTTP as the same verifiable bundle', async () => {
  const response = await fetch(`${app.url}/api/audit/export?from=${encodeURIComponent(recentFrom.toISOString())}`, { headers: owner.headers });
  expect(response.status).toBe(200);
  const path = join(dir, 'http.tar');
  writeFileSync(path, Buffer.from(await response.arrayBuffer()));
  expect(verifyBundle(path, trusted())).toMatchObject({ ok: true, afterSequence: historyEnd });
});

it("fills in the time of a seal written without one, as the previous release's sealer writes them during a rolling deploy", async () => {
  const client = await app.db.pool.connect();
  try {
    await client.query('BEGIN'); // rolled back: the worker's sealer must never meet these rows
    const { rows: events } = await client.query(
      `INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata)
       VALUES ('old-release', 1, 'org-old-release', 'Filler', '{}', '{"actor":{"type":"system","id":"filler"}}') RETURNING global_position, recorded_at`,
    );
    const { rows: seals } = await client.query(
      `INSERT INTO audit_seals (organization_id, sequence, global_position, leaf, chain)
       VALUES ('org-old-release', 1, $1, $2, $2) RETURNING recorded_at`,
      [events[0].global_position, Buffer.alloc(32)],
    );
    // Before the trigger: null, and an export of a range around it would have missed it.
    expect(seals[0].recorded_at).toEqual(events[0].recorded_at);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
});
