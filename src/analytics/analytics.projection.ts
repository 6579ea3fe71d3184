import type { RecordedEvent } from '../event-store/event';
import type { Projection, Queryable } from '../event-store/projection';
import { recordsOf } from '../database/json-records';
import { resolveRunDefinitions } from '../run-queue/run-definitions';
import { analyticsChanges, RUN_TYPES, WORKFLOW_TYPES, type AnalyticsChange, type ChangeOf } from './analytics-changes';
import * as sql from './analytics-statements';

/**
 * `analytics`: the tables behind the analysts' views (runs, step attempts, waits and approvals,
 * workflow edits, and the daily per-workflow rollup). Async — nobody reads it in a request — and
 * one projection, so every view shows the same checkpoint: a run's attempts and its counters
 * always agree. A batch costs at most one statement per kind of change (see
 * `analytics-statements.ts`); `apply` is the batch of one, so both give the same rows.
 */
export const analyticsProjection: Projection = {
  name: 'analytics',
  mode: 'async',
  handles: [...RUN_TYPES, ...WORKFLOW_TYPES],
  tables: ['analytics_runs', 'analytics_step_attempts', 'analytics_waits', 'analytics_workflow_edits', 'analytics_daily_workflow_runs'],
  apply: (db, event) => writeAnalytics(db, [event]),
  applyBatch: writeAnalytics,
};

type Grouped = { [K in AnalyticsChange['kind']]: ChangeOf<K>[] };

/** Per run, what this batch adds to its day in the rollup. */
interface RollupDelta {
  started: number;
  completed: number;
  failed: number;
  cancelled: number;
  attempts: number;
  retries: number;
  durationMs: number;
}

async function writeAnalytics(db: Queryable, events: readonly RecordedEvent[]): Promise<void> {
  // A run's block types come from its pinned workflow, which the store may hold apart (`run-definition.ts`).
  const g = group((await resolveRunDefinitions(db, events)).flatMap(analyticsChanges));
  const deltas = new Map<string, RollupDelta>();
  const add = (runId: string, key: keyof RollupDelta, amount = 1) => {
    const delta = deltas.get(runId) ?? { started: 0, completed: 0, failed: 0, cancelled: 0, attempts: 0, retries: 0, durationMs: 0 };
    delta[key] += amount;
    deltas.set(runId, delta);
  };
  const run = async (text: string, rows: object[], columns: string[]) => (rows.length === 0 ? [] : (await db.query(text, [recordsOf(rows, columns)])).rows);

  for (const row of await run(sql.INSERT_RUNS, g.runStart, ['runId', 'organizationId', 'workflowId', 'workflowVersion', 'triggerKind', 'actorType', 'actorId', 'agent', 'recordedAt', 'startedAt', 'blockTypes', 'rerunOf', 'concurrencyKey'])) add(row.run_id, 'started');
  await run(sql.SET_ADMITTED, firstOf(g.admitted, (c) => c.runId), ['runId', 'at']);
  // An attempt that starts and ends in this batch is written ended; an end whose start met an
  // existing row (or came in an earlier batch) still applies to that row, as one by one.
  const ends = firstBy(g.attemptEnd, attemptId);
  const starts = [...firstBy(g.attemptStart, attemptId)].map(([id, start]) => attemptRow(start, ends.get(id)));
  for (const row of await run(sql.INSERT_ATTEMPTS, starts, ['id', 'runId', 'organizationId', 'blockId', 'connectorType', 'attempt', 'at', 'status', 'final', 'errorCode', 'finishedAt', 'durationMs'])) {
    add(row.run_id, 'attempts');
    ends.delete(attemptId({ runId: row.run_id, blockId: row.block_id, attempt: row.attempt }));
  }
  await run(sql.END_ATTEMPTS, [...ends.values()], ['runId', 'blockId', 'attempt', 'status', 'final', 'errorCode', 'at', 'durationMs']);
  for (const row of await run(sql.SET_BACKOFFS, firstOf(g.backoff, attemptId), ['runId', 'blockId', 'attempt', 'availableAt'])) add(row.run_id, 'retries');
  await run(sql.INSERT_WAITS, firstOf(g.waitStart, blockKey), ['runId', 'organizationId', 'blockId', 'waitKind', 'eventName', 'at', 'until']);
  await run(sql.SET_DECISIONS, firstOf(g.decision, blockKey), ['runId', 'blockId', 'decision', 'by', 'at']);
  await run(sql.END_WAITS, firstOf(g.waitEnd, blockKey), ['runId', 'blockId', 'reason', 'at']);
  const runEnds = firstOf(g.runEnd, (c) => c.runId);
  await run(sql.CLOSE_OPEN_ATTEMPTS, runEnds, ['runId', 'status', 'at']);
  await run(sql.CLOSE_OPEN_WAITS, runEnds, ['runId', 'at']);
  const touched = new Set([...g.runStart, ...g.attemptStart, ...g.attemptEnd, ...g.backoff, ...g.waitStart, ...g.waitEnd, ...g.runEnd].map((c) => c.runId));
  if (touched.size > 0) {
    const ends = recordsOf(runEnds, ['runId', 'status', 'at', 'errorCode', 'errorBlockId']);
    for (const row of (await db.query(sql.END_AND_RECOUNT_RUNS, [JSON.stringify([...touched]), ends])).rows) {
      if (!row.ended) continue;
      add(row.run_id, row.status as 'completed' | 'failed' | 'cancelled');
      add(row.run_id, 'durationMs', Number(row.duration_ms));
    }
  }
  const rollup = [...deltas].map(([runId, d]) => ({ runId, ...d }));
  await run(sql.ADD_TO_ROLLUP, rollup, ['runId', 'started', 'completed', 'failed', 'cancelled', 'attempts', 'retries', 'durationMs']);
  await run(sql.UPSERT_EDITS, mergeEdits(g.edit), ['workflowId', 'transactionId', 'organizationId', 'position', 'editKind', 'version', 'actorType', 'actorId', 'agent', 'applied', 'skipCodes', 'recordedAt']);
}

function group(changes: AnalyticsChange[]): Grouped {
  const g: Grouped = { runStart: [], admitted: [], attemptStart: [], attemptEnd: [], backoff: [], waitStart: [], decision: [], waitEnd: [], runEnd: [], edit: [] };
  for (const change of changes) (g[change.kind] as AnalyticsChange[]).push(change);
  return g;
}

/** The first change per key: one statement may not touch a row twice, and one by one the first one wins. */
function firstOf<T>(changes: T[], key: (change: T) => string): T[] {
  return [...firstBy(changes, key).values()];
}

/** `firstOf`'s changes by their key, for the writer that looks them up. */
function firstBy<T>(changes: T[], key: (change: T) => string): Map<string, T> {
  const seen = new Map<string, T>();
  for (const change of changes) {
    const id = key(change);
    if (!seen.has(id)) seen.set(id, change);
  }
  return seen;
}

// Keys join their parts with NUL, which no Postgres text value holds, so two keys are equal only
// when every part is (a burst's catch-up keys thousands of attempts: no array and JSON per key).
type AttemptRef = { runId: string; blockId: string; attempt: number };
const attemptId = (change: AttemptRef): string => `${change.runId}\u0000${change.blockId}\u0000${change.attempt}`;
const blockKey = (change: { runId: string; blockId: string }): string => `${change.runId}\u0000${change.blockId}`;

/**
 * An attempt's row for `INSERT_ATTEMPTS`, ended when its end is in the same batch. Every row has
 * the same properties in the same order: rows spread from their start with the end's fields added
 * came in two shapes, and the spread and the reads of the statement's columns from both were the
 * costliest lines of a burst's catch-up.
 */
function attemptRow(start: ChangeOf<'attemptStart'>, end: ChangeOf<'attemptEnd'> | undefined) {
  return {
    id: start.id,
    runId: start.runId,
    organizationId: start.organizationId,
    blockId: start.blockId,
    connectorType: start.connectorType,
    attempt: start.attempt,
    at: start.at,
    status: end?.status ?? null,
    final: end?.final ?? null,
    errorCode: end?.errorCode ?? null,
    finishedAt: end?.at ?? null,
    durationMs: end?.durationMs ?? null,
  };
}

/** A patch batch's events (one transaction) fold into one row: its kind, ops applied, skip codes in order. */
function mergeEdits(edits: ChangeOf<'edit'>[]): object[] {
  const rows = new Map<string, ChangeOf<'edit'> & { skipCodes: string[] }>();
  for (const edit of edits) {
    const id = `${edit.workflowId}\u0000${edit.transactionId}`;
    const row = rows.get(id);
    if (!row) {
      rows.set(id, { ...edit, skipCodes: [...edit.skipCodes] });
      continue;
    }
    if (edit.editKind !== 'unchanged') row.editKind = edit.editKind;
    row.applied += edit.applied;
    row.skipCodes.push(...edit.skipCodes);
  }
  return [...rows.values()].map((row) => ({ ...row, skipCodes: JSON.stringify(row.skipCodes) }));
}
