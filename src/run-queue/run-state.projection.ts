import { decide } from '../domain/run/run.decide';
import { RUN_EVENT_TYPES, runIdOf, type RunStarted } from '../domain/run/run.events';
import type { RunState } from '../domain/run/run.state';
import { waitingFor } from '../domain/run/run.view';
import type { RecordedEvent } from '../event-store/event';
import { LeaseLost, runAppendHint } from './run-append-hint';
import { foldRunThrough } from './run-fold';
import { lockRunRows } from './run-state.queries';
import type { Projection, Queryable } from '../event-store/projection';


/** The `run_state` columns a run's folded state decides. */
export interface RunStateColumns {
  status: string;
  version: number;
  /** The jsonb columns, as values. */
  error: unknown;
  waitingFor: unknown;
  startedAt: string | null;
  endedAt: string | null;
  availableAt: Date | null;
}

/**
 * When the run next owes work, judged at `at`: now while attempts run (so another worker takes
 * over once the lease expires), something is due or it asks for a place in its concurrency line
 * (one that finds none is given back by `admitToLine`); else its earliest timer; else never (only a
 * signal, an approval decision or a cancel — all appends that recompute it — can move it).
 */
export function availableAt(state: RunState, at: Date): Date | null {
  if (state.outcome) return null;
  if (state.index.running.size > 0) return at;
  const decision = decide(state, at);
  return decision.actions.length > 0 || decision.admit ? at : (decision.wakeAt ?? null);
}

/** The `run_state` columns of `state`, judged at `at` (the time of its last event). */
export function runStateColumns(state: RunState, at: Date): RunStateColumns {
  const waiting = waitingFor(state);
  return {
    status: state.status,
    version: state.version,
    error: state.error ?? null,
    waitingFor: waiting ?? null,
    startedAt: state.run?.startedAt ?? null,
    endedAt: state.endedAt ?? null,
    availableAt: availableAt(state, at),
  };
}

// Times of the event itself come from its row (`e.recorded_at`), not from `recordedAt`: a JS Date
// keeps milliseconds, the one-statement hot path (`run-append.ts`) writes the stored microseconds,
// and a rebuild must write exactly what the hot path wrote.
const INSERT_SQL = `
INSERT INTO run_state (run_id, organization_id, workflow_id, workflow_version, seq, status,
  stream_version, error, waiting_for, started_at, ended_at, available_at, created_at, updated_at)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
  CASE WHEN $13::boolean THEN e.recorded_at ELSE $12::timestamptz END, $10, e.recorded_at
FROM events e WHERE e.global_position = $5 AND e.organization_id = $2
ON CONFLICT ON CONSTRAINT run_state_pkey DO NOTHING`;

// $8 = the event's position; $9 = release the lease; $10/$11 = the fence (owner, epoch) or NULLs
// for writers without a lease. $12: the run is due now (at the event's time); it keeps the time
// it has been due since (a HOT update). $13: the run's organization, named in every read (Citus
// routes the statement to its shard: docs/scaling.md, point 6).
const UPDATE_SQL = `
UPDATE run_state SET status = $2, stream_version = $3, error = $4, waiting_for = $5, ended_at = $6,
  available_at = CASE WHEN NOT $12::boolean THEN $7::timestamptz
    WHEN available_at IS NOT NULL AND available_at <= e.recorded_at THEN available_at ELSE e.recorded_at END,
  updated_at = e.recorded_at,
  lease_owner = CASE WHEN $9::boolean THEN NULL ELSE lease_owner END,
  lease_until = CASE WHEN $9::boolean THEN NULL ELSE lease_until END
FROM (SELECT recorded_at FROM events WHERE global_position = $8 AND organization_id = $13) AS e
WHERE run_id = $1 AND organization_id = $13 AND ($10::text IS NULL OR (lease_owner = $10 AND lease_epoch = $11))`;

const json = (value: unknown) => (value === null ? null : JSON.stringify(value));

async function write(db: Queryable, event: RecordedEvent, state: RunState, release: boolean, fence?: { owner: string; epoch: number }): Promise<void> {
  const c = runStateColumns(state, event.recordedAt);
  const runId = runIdOf(event.streamId);
  const dueNow = c.availableAt !== null && c.availableAt.getTime() === event.recordedAt.getTime();
  if (event.type === 'RunStarted') {
    const data = (event as unknown as RunStarted).data;
    await db.query(INSERT_SQL, [
      runId, event.organizationId, data.workflowId, data.workflowVersion, event.globalPosition,
      c.status, c.version, json(c.error), json(c.waitingFor), c.startedAt, c.endedAt, c.availableAt, dueNow,
    ]);
    return;
  }
  const result = await db.query(UPDATE_SQL, [
    runId, c.status, c.version, json(c.error), json(c.waitingFor), c.endedAt, c.availableAt, event.globalPosition,
    release || state.outcome !== undefined, fence?.owner ?? null, fence?.epoch ?? null, dueNow, event.organizationId,
  ]);
  if (fence && result.rowCount === 0) throw new LeaseLost(runId);
}

/**
 * `run_state`: one row per run — its folded status, stream version, error, `waitingFor`, and the
 * worker queue (`available_at`, lease). Inline, so a claim always sees the latest append. Writers
 * hand over the state they already folded (see `RunAppendHint`), so a batch costs one UPDATE and
 * no re-fold; a rebuild folds the streams itself.
 */
export const runStateProjection: Projection = {
  name: 'run_state',
  mode: 'inline',
  handles: RUN_EVENT_TYPES,
  tables: ['run_state'],
  // The queue's columns: claims, renewals and releases write them without an event (a release
  // re-states available_at at the worker's clock), so a rebuild keeps the live values.
  operationalColumns: { run_state: ['available_at', 'lease_owner', 'lease_until', 'lease_epoch'] },
  async apply(db, event, appendHint) {
    const hint = runAppendHint(appendHint, event.streamId);
    if (hint) {
      // Only the batch's last event writes: the row reflects the state after the whole batch.
      if (event.streamVersion < hint.state.version) return;
      await write(db, event, hint.state, hint.release ?? false, hint.fence);
      return;
    }
    await write(db, event, await foldRunThrough(db, event), false);
  },
  async lockFirst(db, streamId, expectedVersion, appendHint) {
    const run = expectedVersion > 0 ? runAppendHint(appendHint, streamId)?.state.run : undefined;
    if (run) await lockRunRows(db, run.organizationId, [run.runId]);
  },
};
