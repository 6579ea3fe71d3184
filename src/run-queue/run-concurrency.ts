import type { ConcurrencyLine } from '../domain/run/run.events';
import type { RunIdentity } from '../domain/run/run.state';
import type { StreamVersionConflict } from '../event-store/errors';
import type { Queryable } from '../event-store/projection';
import { settleRunBatch, writeRunBatches, type Item } from './run-append';
import { releaseRuns } from './run-claims';
import type { LeaseLost } from './run-append-hint';
import { decodeCursor, toPage } from '../http/keyset';

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

/** The line a started run takes turns in; undefined for a run of a workflow without a limit. */
export function lineMemberOf(run: RunIdentity): LineMember | undefined {
  return run.concurrency ? { runId: run.runId, organizationId: run.organizationId, workflowId: run.workflowId, ...run.concurrency } : undefined;
}

/** `admitted`: it holds a place now (its `RunAdmitted` committed with it). `queued`: it waits, its lease given back. `moved`: its stream moved meanwhile; fold again. */
export type Admission = 'admitted' | 'queued' | 'moved';

const LOCK = `SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':concurrency:' || $1 || ':' || $2 || ':' || $3, 0))`;

/**
 * The runs `$4` leave the line, and its first waiting runs take the places free under `$5`: due
 * now, and announced so that a worker claims them at once.
 */
const LEAVE = `WITH gone AS (
  DELETE FROM run_concurrency WHERE run_id = ANY ($4::text[]) RETURNING run_id
), heads AS (
  SELECT c.run_id FROM run_concurrency c
  WHERE c.organization_id = $1 AND c.workflow_id = $2 AND c.line_key = $3 AND NOT c.admitted AND c.run_id <> ALL ($4::text[])
  ORDER BY c.seq
  LIMIT greatest(0, $5 - (SELECT count(*) FROM run_concurrency a WHERE a.organization_id = $1 AND a.workflow_id = $2 AND a.line_key = $3
    AND a.admitted AND a.run_id <> ALL ($4::text[])))
), woken AS (
  UPDATE run_state r SET available_at = now() FROM heads WHERE r.run_id = heads.run_id AND r.ended_at IS NULL RETURNING r.run_id
)
SELECT (SELECT count(*) FROM gone) AS left, (SELECT count(*) FROM (SELECT pg_notify($6, json_build_object('streamId', 'run-' || run_id)::text) FROM woken) n) AS woken`;

const lineOf = (member: LineMember) => [member.organizationId, member.workflowId, member.key];

/** A line's identity as one string (for grouping a process's requests by line). */
export const lineIdOf = (member: LineMember): string => JSON.stringify(lineOf(member));

/** A run asking for a place, with its `RunAdmitted` batch ready to write (fenced by its lease). */
export interface PlaceRequest {
  member: LineMember;
  lease: { owner: string; epoch: number };
  /** The run's stream version: a run that queues gives its lease back only if nothing was appended since. */
  version: number;
  /** When a queued run is due again without its turn coming: its deadline, or never. */
  waitUntil: Date | null;
  admitted: Item;
}

/** One request's answer: an `Admission`, or what its `RunAdmitted` batch could not be written for. */
export type PlaceOutcome = Admission | LeaseLost | StreamVersionConflict;

/** The line's places taken, its oldest waiting runs that did not ask now (`$4`), and the asking runs' start positions. */
const LINE = `SELECT
  (SELECT count(*) FROM run_concurrency WHERE organization_id = $1 AND workflow_id = $2 AND line_key = $3 AND admitted)::integer AS taken,
  (SELECT coalesce(json_agg(json_build_object('runId', w.run_id, 'seq', w.seq) ORDER BY w.seq), '[]') FROM (
     SELECT run_id, seq FROM run_concurrency WHERE organization_id = $1 AND workflow_id = $2 AND line_key = $3 AND NOT admitted
       AND run_id <> ALL ($4::text[]) ORDER BY seq LIMIT $5) w) AS waiting,
  (SELECT coalesce(json_agg(json_build_object('runId', run_id, 'seq', seq)), '[]') FROM run_state WHERE run_id = ANY ($4::text[])) AS asking`;

const JOIN = `INSERT INTO run_concurrency (run_id, organization_id, workflow_id, line_key, seq, admitted)
  SELECT u.run_id, $1, $2, $3, u.seq, u.admitted FROM unnest($4::text[], $5::bigint[], $6::boolean[]) AS u(run_id, seq, admitted)
  ON CONFLICT ON CONSTRAINT run_concurrency_pkey DO UPDATE SET admitted = EXCLUDED.admitted, since = CASE WHEN EXCLUDED.admitted THEN now() ELSE run_concurrency.since END`;

/** Waiting runs given a place: due now, and announced so that a worker claims them at once. */
const WAKE = `WITH woken AS (
  UPDATE run_state SET available_at = now() WHERE run_id = ANY ($1::text[]) AND ended_at IS NULL RETURNING run_id
)
SELECT pg_notify($2, json_build_object('streamId', 'run-' || run_id)::text) FROM woken`;

/**
 * In the caller's transaction, for runs of ONE line asking at once (a burst of starts asks
 * together): places go in start order to the runs waiting and the runs asking, up to each
 * asking run's limit. An asking run given one has its `RunAdmitted` written (one statement for
 * all); a waiting run given one is woken to ask; every other asking run joins the queue and gives
 * its lease back. An answer per request, in order.
 */
export async function admitToLine(db: Queryable, requests: readonly PlaceRequest[], channel: string): Promise<PlaceOutcome[]> {
  const line = lineOf(requests[0]!.member);
  const limit = Math.max(...requests.map((request) => request.member.limit));
  const ids = requests.map((request) => request.member.runId);
  await db.query(LOCK, line);
  const { rows } = await db.query<{ taken: number; waiting: Seat[]; asking: Seat[] }>(LINE, [...line, ids, limit]);
  const { waiting, asking } = rows[0]!;
  const seqOf = new Map(asking.map((seat) => [seat.runId, Number(seat.seq)]));
  const byRun = new Map(requests.map((request) => [request.member.runId, request]));
  // First started, first served: the runs already waiting and those asking now, in start order.
  const turns = [...waiting.map((seat) => ({ runId: seat.runId, seq: Number(seat.seq), asking: false })), ...requests.map((r) => ({ runId: r.member.runId, seq: seqOf.get(r.member.runId) ?? Infinity, asking: true }))];
  turns.sort((a, b) => a.seq - b.seq);
  let taken = rows[0]!.taken;
  const placed = new Set<string>();
  const woken: string[] = [];
  for (const turn of turns) {
    const request = byRun.get(turn.runId);
    if (taken >= (turn.asking ? request!.member.limit : limit)) continue;
    taken += 1;
    if (turn.asking) placed.add(turn.runId);
    else woken.push(turn.runId);
  }
  const admitting = requests.filter((request) => placed.has(request.member.runId));
  const written = admitting.length > 0 ? await writeRunBatches(db, admitting.map((request) => request.admitted), undefined) : [];
  const outcomes = new Map<string, PlaceOutcome>();
  admitting.forEach((request, i) => {
    try {
      settleRunBatch(request.admitted, written[i]);
      outcomes.set(request.member.runId, 'admitted');
    } catch (error) {
      outcomes.set(request.member.runId, error as LeaseLost | StreamVersionConflict);
    }
  });
  const queuing = requests.filter((request) => !placed.has(request.member.runId));
  const joining = [...admitting.filter((request) => outcomes.get(request.member.runId) === 'admitted'), ...queuing];
  if (joining.length > 0) {
    const runIds = joining.map((request) => request.member.runId);
    await db.query(JOIN, [...line, runIds, runIds.map((id) => seqOf.get(id) ?? 0), joining.map((request) => placed.has(request.member.runId))]);
  }
  if (queuing.length > 0) {
    const gone = await releaseRuns(
      db,
      queuing.map((request) => ({ runId: request.member.runId, lease: request.lease, version: request.version, availableAt: request.waitUntil })),
    );
    for (const request of queuing) outcomes.set(request.member.runId, gone.has(request.member.runId) ? 'queued' : 'moved');
  }
  if (woken.length > 0) await db.query(WAKE, [woken, channel]);
  return requests.map((request) => outcomes.get(request.member.runId)!);
}

interface Seat {
  runId: string;
  seq: number | string;
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
  await db.query(LEAVE, [...lineOf(member), [member.runId], member.limit, channel]);
}

/** A run of a concurrency line ending: its last batch, ready to write in one statement. */
export interface LineExit {
  member: LineMember;
  end: Item;
}

/**
 * `leaveLine` for runs of ONE line ending at once (their batches written in one statement): an
 * answer per run, in order — `true`, or what its batch could not be written for (that run stays
 * in the line, its end not recorded).
 */
export async function leaveLineTogether(db: Queryable, exits: readonly LineExit[], channel: string): Promise<(true | LeaseLost | StreamVersionConflict)[]> {
  const line = lineOf(exits[0]!.member);
  await db.query(LOCK, line);
  const written = await writeRunBatches(db, exits.map((exit) => exit.end), channel);
  const outcomes = exits.map((exit, i): true | LeaseLost | StreamVersionConflict => {
    try {
      settleRunBatch(exit.end, written[i]);
      return true;
    } catch (error) {
      return error as LeaseLost | StreamVersionConflict;
    }
  });
  const ended = exits.filter((_, i) => outcomes[i] === true).map((exit) => exit.member.runId);
  const limit = Math.max(...exits.map((exit) => exit.member.limit));
  if (ended.length > 0) await db.query(LEAVE, [...line, ended, limit, channel]);
  return outcomes;
}

/** One line of a workflow as `GET /api/workflows/:id/concurrency` shows it. */
export interface LineView {
  key: string;
  /** Runs holding a place (admitted, not ended). */
  running: number;
  /** Runs waiting for one. */
  queued: number;
  /** Since when the line's oldest waiting run has waited; null when none waits. */
  queuedSince: string | null;
}

/** The workflow's lines that hold or queue a run now, by key; `after` is the previous page's `next`. */
export async function linesOf(db: Queryable, organizationId: string, workflowId: string, page: { after?: string; limit: number }): Promise<{ data: LineView[]; next: string | null }> {
  const [after] = page.after ? decodeCursor(page.after, ['string']) : [null];
  const { rows } = await db.query<{ line_key: string; running: number; queued: number; queued_since: Date | null }>(
    `SELECT line_key, count(*) FILTER (WHERE admitted)::integer AS running, count(*) FILTER (WHERE NOT admitted)::integer AS queued,
       min(since) FILTER (WHERE NOT admitted) AS queued_since
     FROM run_concurrency WHERE organization_id = $1 AND workflow_id = $2 AND ($3::text IS NULL OR line_key > $3)
     GROUP BY line_key ORDER BY line_key LIMIT $4`,
    [organizationId, workflowId, after, page.limit + 1],
  );
  const { items, next } = toPage(
    rows,
    page.limit,
    (row): LineView => ({ key: row.line_key, running: row.running, queued: row.queued, queuedSince: row.queued_since?.toISOString() ?? null }),
    (row) => [row.line_key],
  );
  return { data: items, next };
}

/**
 * Runs waiting for a place in any line (counted up to `bound`) and how long the oldest has
 * waited, in seconds (0 when none waits): the metrics' view of every organization's lines.
 */
export async function queuedInLines(db: Queryable, bound: number): Promise<{ queued: number; oldestSeconds: number }> {
  const { rows } = await db.query<{ queued: number; oldest: number }>(
    `SELECT (SELECT count(*)::int FROM (SELECT 1 FROM run_concurrency WHERE NOT admitted LIMIT $1) waiting) AS queued,
       coalesce(extract(epoch FROM clock_timestamp() - (SELECT min(since) FROM run_concurrency WHERE NOT admitted)), 0)::float8 AS oldest`,
    [bound],
  );
  return { queued: rows[0]?.queued ?? 0, oldestSeconds: Math.max(0, rows[0]?.oldest ?? 0) };
}
