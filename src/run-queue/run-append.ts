import type { RunEvent, RunStarted } from '../domain/run/run.events';
import type { RunState } from '../domain/run/run.state';
import { StreamVersionConflict } from '../event-store/errors';
import type { EventMetadata } from '../event-store/event';
import type { Queryable } from '../event-store/projection';
import { LeaseLost } from './run-append-hint';
import { runStateColumns } from './run-state.projection';

// The hot path of runs, in ONE statement and one commit: append the batch at the expected
// version through the event store's own `append_events` (its version check; see
// migrations/0009), apply the `run_state` projection from the state the writer already folded, optionally fence on
// the worker's lease (the run_state row is locked first, so a concurrent claim either waits for
// this commit or makes this insert insert nothing) and NOTIFY. Used only when `run_state` is the
// sole inline projection of the batch's event types; any other batch goes through
// `EventStore.append` (several statements in a transaction), with the same outcome.

const INSERT_EVENTS = `
fence AS (
  SELECT 1 FROM run_state WHERE run_id = $7 AND lease_owner = $8 AND lease_epoch = $9 FOR UPDATE
), inserted AS (
  SELECT global_position, stream_version, recorded_at
  FROM append_events($1, $2, $3, $4::text[], $5::text[]::jsonb[], $6::jsonb, $8::text IS NULL OR EXISTS (SELECT 1 FROM fence))
), last AS (
  SELECT max(recorded_at) AS at FROM inserted
)`;

const NOTIFY_AND_COUNT = `
, notified AS (
  SELECT pg_notify($10::text, $11::text) FROM (SELECT 1 FROM inserted LIMIT 1) AS any_row WHERE $10::text IS NOT NULL
)
SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM fence)::int AS fenced
FROM (SELECT 1) AS one LEFT JOIN notified ON true`;

// $12.. : the columns. available_at is 'now' ($17: the commit's own time, or the earlier time the
// run has been due since — unchanged, so a step's UPDATE stays HOT), a timestamp, or NULL.
const UPDATE_SQL = `WITH ${INSERT_EVENTS}, updated AS (
  UPDATE run_state SET status = $12, stream_version = $13, error = $14, waiting_for = $15, ended_at = $16,
    available_at = CASE WHEN NOT $17::boolean THEN $18::timestamptz
      WHEN available_at IS NOT NULL AND available_at <= (SELECT at FROM last) THEN available_at
      ELSE (SELECT at FROM last) END,
    updated_at = (SELECT at FROM last),
    lease_owner = CASE WHEN $19::boolean THEN NULL ELSE lease_owner END,
    lease_until = CASE WHEN $19::boolean THEN NULL ELSE lease_until END
  WHERE run_id = $7 AND EXISTS (SELECT 1 FROM inserted)
  RETURNING 1
)${NOTIFY_AND_COUNT}`;

// $19/$23: the worker of this process that takes the new run at once (its lease), or NULLs.
const CREATE_SQL = `WITH ${INSERT_EVENTS}, created AS (
  INSERT INTO run_state (run_id, organization_id, workflow_id, workflow_version, seq, status, stream_version,
    error, waiting_for, started_at, ended_at, available_at, created_at, updated_at, lease_owner, lease_until, lease_epoch)
  SELECT $7, $3, $20, $21, i.global_position, $12, $13, $14, $15, $22, $16,
    CASE WHEN $17::boolean THEN i.recorded_at ELSE $18::timestamptz END, $22::timestamptz, (SELECT at FROM last),
    $19::text, CASE WHEN $19::text IS NULL THEN NULL ELSE now() + $23::int * interval '1 millisecond' END,
    CASE WHEN $19::text IS NULL THEN 0 ELSE 1 END
  FROM inserted i WHERE i.stream_version = 1
  ON CONFLICT (run_id) DO NOTHING
  RETURNING 1
)${NOTIFY_AND_COUNT}`;

export interface FastAppendOptions {
  metadata: EventMetadata;
  /** The NOTIFY channel, or undefined for no notification. */
  channel?: string;
  fence?: { owner: string; epoch: number };
  release?: boolean;
  /** A new run only: lease it to this worker in the same commit (epoch 1). */
  lease?: { owner: string; ms: number };
}

/**
 * Appends a run batch (already folded into `state`) and its `run_state` row in one statement.
 * Throws `StreamVersionConflict` when the stream moved, `LeaseLost` when the fence failed.
 */
export async function fastAppend(db: Queryable, state: RunState, expectedVersion: number, events: readonly RunEvent[], options: FastAppendOptions): Promise<void> {
  const run = state.run!;
  const streamId = `run-${run.runId}`;
  const now = new Date();
  const c = runStateColumns(state, now);
  const dueNow = c.availableAt !== null && c.availableAt.getTime() === now.getTime();
  const ended = state.outcome !== undefined;
  const common = [
    streamId, expectedVersion, run.organizationId,
    events.map((e) => e.type), events.map((e) => JSON.stringify(e.data ?? null)), JSON.stringify(options.metadata),
    run.runId, options.fence?.owner ?? null, options.fence?.epoch ?? null,
    options.channel ?? null, options.channel ? JSON.stringify({ streamId, version: state.version, ended }) : null,
    c.status, c.version, c.error, c.waitingFor, c.endedAt, dueNow, dueNow ? null : c.availableAt,
  ];
  const creates = expectedVersion === 0;
  if (creates && options.fence) throw new Error('a new run has no lease to fence on');
  const started = creates ? (events[0] as RunStarted).data : undefined;
  let row: { inserted: number; fenced: number } | undefined;
  try {
    const lease = ended || options.release ? undefined : options.lease;
    const params = creates
      ? [...common, lease?.owner ?? null, started!.workflowId, started!.workflowVersion, c.startedAt, lease?.ms ?? null]
      : [...common, (options.release ?? false) || ended];
    // Named: each connection parses and plans it once (planning this statement costs more than running it).
    const statement = creates ? { name: 'thodare-run-create', text: CREATE_SQL } : { name: 'thodare-run-append', text: UPDATE_SQL };
    ({ rows: [row] } = await db.query<{ inserted: number; fenced: number }>({ ...statement, values: params }));
  } catch (error) {
    if ((error as { constraint?: string }).constraint === 'events_stream_version_unique') {
      throw new StreamVersionConflict(streamId, expectedVersion, expectedVersion + 1);
    }
    throw error;
  }
  if (row && row.inserted > 0) return;
  if (options.fence && row?.fenced === 0) throw new LeaseLost(run.runId);
  throw new StreamVersionConflict(streamId, expectedVersion, -1);
}
