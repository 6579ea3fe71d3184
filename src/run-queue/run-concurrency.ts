import type { ConcurrencyLine } from '../domain/run/run.events';
import type { Queryable } from '../event-store/projection';
import { releaseRun } from './run-claims';

// `run_concurrency` (migrations/0029): who holds a place in each concurrency line, and who waits
// for one, in start order. This file is its one writer. Every change takes the line's advisory
// lock first, so two admissions never both see the last free place, and a run's end never misses
// a run that queued while it was ending.

/** A run of a concurrency line: its line is (organization, workflow, key). */
export interface LineMember extends ConcurrencyLine {
  runId: string;
  organizationId: string;
  workflowId: string;
}

/** `admitted`: it holds a place now (its `RunAdmitted` committed with it). `queued`: it waits, its lease given back. `moved`: its stream moved meanwhile; fold again. */
export type Admission = 'admitted' | 'queued' | 'moved';

const LOCK = `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':concurrency:' || $1 || ':' || $2 || ':' || $3, 0))`;

/** The places taken in the line, and whether a run started before this one waits (first started, first admitted). */
const LINE = `SELECT
  (SELECT count(*) FROM run_concurrency WHERE organization_id = $1 AND workflow_id = $2 AND line_key = $3 AND admitted)::integer AS taken,
  EXISTS (SELECT 1 FROM run_concurrency c WHERE c.organization_id = $1 AND c.workflow_id = $2 AND c.line_key = $3 AND NOT c.admitted
    AND c.seq < (SELECT seq FROM run_state WHERE run_id = $4)) AS behind`;

const JOIN = `INSERT INTO run_concurrency (run_id, organization_id, workflow_id, line_key, seq, admitted)
  SELECT $1, $2, $3, $4, seq, $5 FROM run_state WHERE run_id = $1
  ON CONFLICT (run_id) DO UPDATE SET admitted = EXCLUDED.admitted, since = CASE WHEN EXCLUDED.admitted THEN now() ELSE run_concurrency.since END`;

/**
 * The line's first waiting run, made due now (and announced, so a worker claims it at once) when
 * the line has a free place under `$4`. Whoever frees or skips a place calls it.
 */
const WAKE_HEAD = `WITH head AS (
  SELECT c.run_id FROM run_concurrency c
  WHERE c.organization_id = $1 AND c.workflow_id = $2 AND c.line_key = $3 AND NOT c.admitted
    AND (SELECT count(*) FROM run_concurrency a WHERE a.organization_id = $1 AND a.workflow_id = $2 AND a.line_key = $3 AND a.admitted) < $4
  ORDER BY c.seq LIMIT 1
), woken AS (
  UPDATE run_state r SET available_at = now() FROM head WHERE r.run_id = head.run_id AND r.ended_at IS NULL RETURNING r.run_id
)
SELECT pg_notify($5, json_build_object('streamId', 'run-' || run_id)::text) FROM woken`;

const lineOf = (member: LineMember) => [member.organizationId, member.workflowId, member.key];

/**
 * In the caller's transaction: a place for `member` when one is free and no run started before it
 * waits — `record` then writes its `RunAdmitted` (fenced by the lease) in the same transaction —
 * else it joins the queue and gives its lease back, due again only at `waitUntil` (its deadline)
 * or when a place frees for it.
 */
export async function admitToLine(
  db: Queryable,
  member: LineMember,
  lease: { owner: string; epoch: number; version: number; waitUntil: Date | null },
  record: () => Promise<void>,
  channel: string,
): Promise<Admission> {
  await db.query(LOCK, lineOf(member));
  const { rows } = await db.query<{ taken: number; behind: boolean }>(LINE, [...lineOf(member), member.runId]);
  const free = (rows[0]?.taken ?? 0) < member.limit && !rows[0]?.behind;
  await db.query(JOIN, [member.runId, ...lineOf(member), free]);
  if (free) await record();
  // A place still free goes to the first run waiting (when this one took it, the next one's turn may have come too).
  await db.query(WAKE_HEAD, [...lineOf(member), member.limit, channel]);
  if (free) return 'admitted';
  return (await releaseRun(db, member.runId, lease.owner, lease.epoch, lease.version, lease.waitUntil)) ? 'queued' : 'moved';
}

/**
 * In the caller's transaction, `record` writes `member`'s end; it then leaves its line, and its
 * place goes to the first run waiting. The line's lock comes first, before the end's write locks
 * the run's row, as in `admitToLine`: a run of the line cancelled while it waits could otherwise
 * hold its row waiting for the lock while an admission held the lock waiting for that row.
 */
export async function leaveLine(db: Queryable, member: LineMember, record: () => Promise<void>, channel: string): Promise<void> {
  await db.query(LOCK, lineOf(member));
  await record();
  await db.query('DELETE FROM run_concurrency WHERE run_id = $1', [member.runId]);
  await db.query(WAKE_HEAD, [...lineOf(member), member.limit, channel]);
}
