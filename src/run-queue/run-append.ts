import type { RunEvent, RunStarted } from '../domain/run/run.events';
import type { RunState } from '../domain/run/run.state';
import { StreamVersionConflict } from '../event-store/errors';
import { streamHeadSql, type EventMetadata } from '../event-store/event';
import type { Queryable } from '../event-store/projection';
import { LeaseLost } from './run-append-hint';
import { recordDefinitions, type DefinitionRow } from './run-definitions';
import { runStateColumns } from './run-state.projection';

// The hot path of runs: a run's batch, its `run_state` row, the worker's lease fence and an
// optional NOTIFY, recorded by the `append_run_batches` function (migrations/0013, set-based since
// 0015), which appends through the event store's own `append_streams` (its version check, one
// INSERT for every batch). Many runs' batches share
// ONE statement and one commit (`RunAppendGroups`, run-append-groups.ts): a step costs a share of a round trip and of a
// commit, not one of each. A batch written alone (a serial run's every step) skips the function:
// `APPEND_ONE`, the same write as one plain statement. Used only when `run_state` is the sole inline projection of a batch's
// event types; any other batch goes through `EventStore.append`, with the same outcome.

const APPEND = 'SELECT ord, inserted, fenced FROM append_run_batches($1::jsonb, $2::text)';

/**
 * The same write for ONE run's batch (a step's batch, a run's start: the commonest appends):
 * `append_run_batches`' contract for that item, as one plain statement with typed parameters.
 * The function costs ~0.23 ms of server time for a step's batch, this ~0.06 ms: it is two nested
 * PL/pgSQL functions that parse their JSON items twice, where this is planned once per connection
 * (named) and reads only by key: the run's `run_state` row, its stream head, its workflow's row.
 * A started run's row is locked first (`held`), fenced or not, as every writer of a run takes it
 * before it inserts the run's events: an unfenced append (an API command) that inserted first
 * and took the row after deadlocked with a writer that held the row and inserted the same
 * version (run-append-lock-order.test.ts). The events land only while the fence holds (when
 * there is one), the workflow version is still current (when checked), and the stream is at
 * `expected` (the unique key on the stream and version still rejects a concurrent writer that
 * read the same head); the run's row is then inserted (a new run) or updated. Every read of a
 * table names the run's organization ($3), so Citus would run the whole statement, its `FOR
 * UPDATE` included, on one shard (docs/scaling.md, point 6); the stream's head is the event
 * store's `streamHeadSql`.
 */
const APPEND_ONE = `WITH held AS (
  SELECT r.lease_owner, r.lease_epoch FROM run_state r WHERE $2::integer <> 0 AND r.run_id = $7::text AND r.organization_id = $3::text FOR UPDATE
), fence AS (
  SELECT 1 FROM held h WHERE h.lease_owner = $9::text AND h.lease_epoch = $10::integer
), accepted AS (
  -- Counting \`held\` takes its lock here, before \`inserted\` reads this, fenced or not.
  SELECT 1 WHERE (SELECT count(*) FROM held) >= 0 AND ($9::text IS NULL OR EXISTS (SELECT 1 FROM fence))
    AND (NOT $22::boolean OR (
      SELECT w.version FROM workflows w WHERE w.id = $19::text AND w.organization_id = $3::text AND w.deleted_at IS NULL
    ) IS NOT DISTINCT FROM $20::integer)
    AND ${streamHeadSql('$1::text', '$3::text')} = $2::integer
), defined AS (
  -- A new run's definition not yet known to be recorded (run-definitions.ts) rides along: the
  -- start and the content it names commit together, and a copy already there is left alone.
  INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata)
  SELECT $26::text, 1, $3::text, $27::text, $28::jsonb, $6::jsonb FROM accepted WHERE $26::text IS NOT NULL
  ON CONFLICT ON CONSTRAINT events_stream_version_unique DO NOTHING
), inserted AS (
  INSERT INTO events (stream_id, stream_version, organization_id, type, data, metadata)
  SELECT $1::text, $2::integer + u.k::integer, $3::text, u.t, $5::jsonb -> (u.k::integer - 1), $6::jsonb
  FROM json_array_elements_text($4::json) WITH ORDINALITY AS u(t, k) CROSS JOIN accepted
  ORDER BY u.k
  RETURNING global_position, recorded_at
), landed AS (
  SELECT count(*)::integer AS events, min(i.global_position) AS first_position, min(i.recorded_at) AS first_at, max(i.recorded_at) AS last_at
  FROM inserted i
), created AS (
  INSERT INTO run_state AS r (run_id, organization_id, workflow_id, workflow_version, seq, status, stream_version,
    error, waiting_for, started_at, ended_at, available_at, created_at, updated_at, lease_owner, lease_until, lease_epoch)
  SELECT $7::text, $3::text, $19::text, $20::integer, l.first_position, $12::text, $13::integer, $14::jsonb, $15::jsonb,
    $21::timestamptz, $16::timestamptz, CASE WHEN $17::boolean THEN l.first_at ELSE $18::timestamptz END, $21::timestamptz, l.last_at,
    $23::text, CASE WHEN $23::text IS NULL THEN NULL ELSE now() + $24::integer * interval '1 millisecond' END,
    CASE WHEN $23::text IS NULL THEN 0 ELSE 1 END
  FROM landed l WHERE l.events > 0 AND $2::integer = 0
  ON CONFLICT ON CONSTRAINT run_state_pkey DO NOTHING
  RETURNING 1
), updated AS (
  -- available_at: due now keeps the time the run has been due since (a HOT update).
  UPDATE run_state r SET status = $12::text, stream_version = $13::integer, error = $14::jsonb, waiting_for = $15::jsonb,
    ended_at = $16::timestamptz,
    available_at = CASE WHEN NOT $17::boolean THEN $18::timestamptz
      WHEN r.available_at IS NOT NULL AND r.available_at <= l.last_at THEN r.available_at ELSE l.last_at END,
    updated_at = l.last_at,
    lease_owner = CASE WHEN $11::boolean THEN NULL ELSE r.lease_owner END,
    lease_until = CASE WHEN $11::boolean THEN NULL ELSE r.lease_until END
  FROM landed l WHERE l.events > 0 AND $2::integer <> 0 AND r.run_id = $7::text AND r.organization_id = $3::text
  RETURNING 1
), notified AS (
  SELECT pg_notify($25::text, $8::text) FROM landed l WHERE l.events > 0 AND $25::text IS NOT NULL AND $8::text IS NOT NULL
)
-- writes: read so that the NOTIFY is sent (a CTE nobody reads is not evaluated).
SELECT l.events AS inserted, (SELECT count(*) FROM fence)::integer AS fenced,
  (SELECT count(*) FROM created) + (SELECT count(*) FROM updated) + (SELECT count(*) FROM notified) AS writes
FROM landed l`;

export interface RunAppendOptions {
  metadata: EventMetadata;
  /** NOTIFY on commit (on the channel given to the writer). */
  notify?: boolean;
  /** With `notify`: the writing instance, when it also tells its own listeners in process (as `AppendOptions.notifyOrigin`). */
  notifyOrigin?: string;
  fence?: { owner: string; epoch: number };
  release?: boolean;
  /** A new run only: lease it to this worker in the same commit (epoch 1). */
  lease?: { owner: string; ms: number };
  /**
   * A new run only: its workflow version came from a cached read, so it is written only while
   * that version is still the workflow's current one (migrations/0014); else `WorkflowMoved`.
   */
  checkWorkflow?: boolean;
  /** A new run only: its definition, recorded in the same commit (see `Item.definition`). */
  definition?: DefinitionRow;
}

/** A new run's pinned workflow version is no longer current (patched or deleted since it was read): nothing was written. */
export class WorkflowMoved extends Error {
  readonly code = 'workflow_moved';
  constructor(readonly workflowId: string) {
    super(`workflow ${workflowId} changed since its version was read`);
  }
}

/** One run's batch as the function reads it (see migrations/0013 and 0015). */
export interface Item {
  stream: string;
  expected: number;
  organization: string;
  types: string[];
  data: unknown[];
  metadata: EventMetadata;
  run: string;
  notify: string | null;
  fence_owner: string | null;
  fence_epoch: number | null;
  release: boolean;
  status: string;
  version: number;
  error: unknown;
  waiting_for: unknown;
  ended_at: string | null;
  due_now: boolean;
  available_at: Date | null;
  workflow_id?: string;
  workflow_version?: number;
  started_at?: string | null;
  lease_owner?: string | null;
  lease_ms?: number | null;
  check_workflow?: boolean;
  /** A new run's definition to record with it (never sent to the function: `writeRunBatches` records it apart). */
  definition?: DefinitionRow;
}

/** What the statement did for one batch: events inserted, and whether its lease fence held. */
export interface RunBatchOutcome {
  inserted: number;
  fenced: number;
}

/** A run batch (already folded into `state`) at `expectedVersion`, ready to be written. */
export function runAppendItem(state: RunState, expectedVersion: number, events: readonly RunEvent[], options: RunAppendOptions): Item {
  const run = state.run!;
  const streamId = `run-${run.runId}`;
  const now = new Date();
  const c = runStateColumns(state, now);
  const dueNow = c.availableAt !== null && c.availableAt.getTime() === now.getTime();
  const ended = state.outcome !== undefined;
  if (expectedVersion === 0 && options.fence) throw new Error('a new run has no lease to fence on');
  if (expectedVersion !== 0 && options.checkWorkflow) throw new Error('only a new run pins a workflow version');
  const item: Item = {
    stream: streamId,
    expected: expectedVersion,
    organization: run.organizationId,
    types: events.map((e) => e.type),
    data: events.map((e) => e.data ?? null),
    metadata: options.metadata,
    run: run.runId,
    notify: options.notify ? JSON.stringify({ streamId, version: state.version, ended, ...(options.notifyOrigin ? { origin: options.notifyOrigin } : {}) }) : null,
    fence_owner: options.fence?.owner ?? null,
    fence_epoch: options.fence?.epoch ?? null,
    release: (options.release ?? false) || ended,
    status: c.status,
    version: c.version,
    error: c.error,
    waiting_for: c.waitingFor,
    ended_at: c.endedAt,
    due_now: dueNow,
    available_at: dueNow ? null : c.availableAt,
  };
  if (expectedVersion === 0) {
    const started = (events[0] as RunStarted).data;
    const lease = ended || options.release ? undefined : options.lease;
    Object.assign(item, {
      workflow_id: started.workflowId,
      workflow_version: started.workflowVersion,
      started_at: c.startedAt,
      lease_owner: lease?.owner ?? null,
      lease_ms: lease?.ms ?? null,
      check_workflow: options.checkWorkflow ?? false,
      ...(options.definition ? { definition: options.definition } : {}),
    });
  }
  return item;
}

const jsonOrNull = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

/**
 * `APPEND_ONE`'s parameters for one run's batch: text, numbers, booleans and NULLs only. pg turns
 * an array or a Date into text in JavaScript, through one serializer every statement of the
 * process shares: the first Date (a run's first timer) or an array of another kind after V8 had
 * optimised it deoptimised it, and it was compiled again (4–18 ms of CPU, in a fresh process).
 */
function oneValues(item: Item, channel: string | null): unknown[] {
  return [
    item.stream, item.expected, item.organization, JSON.stringify(item.types), JSON.stringify(item.data), JSON.stringify(item.metadata), item.run, item.notify,
    item.fence_owner, item.fence_epoch, item.release, item.status, item.version, jsonOrNull(item.error), jsonOrNull(item.waiting_for),
    item.ended_at, item.due_now, item.available_at?.toISOString() ?? null, item.workflow_id ?? null, item.workflow_version ?? null, item.started_at ?? null,
    item.check_workflow ?? false, item.lease_owner ?? null, item.lease_ms ?? null, channel,
    item.definition?.stream ?? null, item.definition?.type ?? null, item.definition ? JSON.stringify(item.definition.data) : null,
  ];
}

/** Writes `items` in one statement (one commit unless `db` is in a transaction); an outcome per item. */
export async function writeRunBatches(db: Queryable, items: readonly Item[], channel: string | undefined): Promise<RunBatchOutcome[]> {
  const notifyOn = items.some((item) => item.notify !== null) ? (channel ?? null) : null;
  // Named: each connection parses and plans each statement once.
  if (items.length === 1) {
    const { rows } = await db.query<RunBatchOutcome>({ name: 'thodare-run-append-one', text: APPEND_ONE, values: oneValues(items[0]!, notifyOn) });
    return [rows[0]!];
  }
  // The function takes no definitions: they go first, in their own statement (a group's first run
  // of a new definition is rare: once recorded, a definition is no longer sent).
  const definitions = items.flatMap((item) => (item.definition ? [{ ...item.definition, organization: item.organization, metadata: item.metadata }] : []));
  if (definitions.length > 0) await recordDefinitions(db, definitions);
  const sent = definitions.length > 0 ? items.map(({ definition: _definition, ...item }) => item) : items;
  const { rows } = await db.query<{ ord: number } & RunBatchOutcome>({ name: 'thodare-run-append', text: APPEND, values: [JSON.stringify(sent), notifyOn] });
  const outcomes: RunBatchOutcome[] = [];
  for (const row of rows) outcomes[row.ord - 1] = { inserted: row.inserted, fenced: row.fenced };
  return outcomes;
}

/** Throws what an outcome means for its writer: `WorkflowMoved`, `LeaseLost` or `StreamVersionConflict`. */
export function settleRunBatch(item: Item, outcome: RunBatchOutcome | undefined): void {
  if (outcome && outcome.inserted > 0) return;
  if (item.check_workflow && outcome) throw new WorkflowMoved(item.workflow_id!);
  if (item.fence_owner !== null && outcome?.fenced === 0) throw new LeaseLost(item.run);
  throw new StreamVersionConflict(item.stream, item.expected, -1);
}

function conflictOf(item: Item, error: unknown): unknown {
  return (error as { constraint?: string }).constraint === 'events_stream_version_unique' ? new StreamVersionConflict(item.stream, item.expected, item.expected + 1) : error;
}

/**
 * Appends one run batch on `db` (a caller's transaction). Throws `StreamVersionConflict` when the
 * stream moved, `LeaseLost` when the fence failed.
 */
export function appendRunBatch(db: Queryable, item: Item, channel: string | undefined): Promise<void> {
  return appendRunBatches(db, [item], channel);
}

/**
 * Appends many runs' batches (of different runs) on `db` (a caller's transaction) in one
 * statement; throws what the first item that was not written means (see `appendRunBatch`), for
 * the caller to roll back.
 */
export async function appendRunBatches(db: Queryable, items: readonly Item[], channel: string | undefined): Promise<void> {
  let outcomes: RunBatchOutcome[];
  try {
    outcomes = await writeRunBatches(db, items, channel);
  } catch (error) {
    throw items.length === 1 ? conflictOf(items[0]!, error) : error;
  }
  items.forEach((item, i) => settleRunBatch(item, outcomes[i]));
}
