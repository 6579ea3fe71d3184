import { GroupCommit } from '../database/group-commit';
import { classifyDatabaseError } from '../database/pg-errors';
import type { RunEvent, RunStarted } from '../domain/run/run.events';
import type { RunState } from '../domain/run/run.state';
import { StreamVersionConflict } from '../event-store/errors';
import type { EventMetadata } from '../event-store/event';
import type { Queryable } from '../event-store/projection';
import { LeaseLost } from './run-append-hint';
import { runStateColumns } from './run-state.projection';

// The hot path of runs: a run's batch, its `run_state` row, the worker's lease fence and an
// optional NOTIFY, recorded by the `append_run_batches` function (migrations/0013, set-based since
// 0015), which appends through the event store's own `append_streams` (its version check, one
// INSERT for every batch). Many runs' batches share
// ONE statement and one commit (`RunAppendGroups`): a step costs a share of a round trip and of a
// commit, not one of each. Used only when `run_state` is the sole inline projection of a batch's
// event types; any other batch goes through `EventStore.append`, with the same outcome.

const APPEND = 'SELECT ord, inserted, fenced FROM append_run_batches($1::jsonb, $2::text)';

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
}

interface Outcome {
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
    });
  }
  return item;
}

/** Writes `items` in one statement (one commit unless `db` is in a transaction); an outcome per item. */
async function writeItems(db: Queryable, items: readonly Item[], channel: string | undefined): Promise<Outcome[]> {
  const notifies = items.some((item) => item.notify !== null);
  // Named: each connection parses and plans it once.
  const { rows } = await db.query<{ ord: number } & Outcome>({ name: 'thodare-run-append', text: APPEND, values: [JSON.stringify(items), notifies ? (channel ?? null) : null] });
  const outcomes: Outcome[] = [];
  for (const row of rows) outcomes[row.ord - 1] = { inserted: row.inserted, fenced: row.fenced };
  return outcomes;
}

/** Throws what an outcome means for its writer: `WorkflowMoved`, `LeaseLost` or `StreamVersionConflict`. */
function settle(item: Item, outcome: Outcome | undefined): void {
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
  let outcomes: Outcome[];
  try {
    outcomes = await writeItems(db, items, channel);
  } catch (error) {
    throw items.length === 1 ? conflictOf(items[0]!, error) : error;
  }
  items.forEach((item, i) => settle(item, outcomes[i]));
}

interface Pending {
  item: Item;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** How many groups may be in flight at once, and how many batches one group holds at most. */
const MAX_GROUPS_IN_FLIGHT = 3;
const MAX_GROUP_SIZE = 200;

/**
 * Group commit of run batches (see `GroupCommit`): under load the batches of many runs share one
 * statement and one commit, at most one batch per run in a group. Items are sorted by run, so
 * concurrent groups lock `run_state` rows in one order and cannot deadlock each other. When a
 * group fails (a concurrent writer on one of its streams, a batch the database refuses), its
 * items are written one by one, so each gets its own outcome.
 */
export class RunAppendGroups {
  private readonly groups = new GroupCommit<Pending>((group) => this.write(group), {
    maxInFlight: MAX_GROUPS_IN_FLIGHT,
    maxSize: MAX_GROUP_SIZE,
    keyOf: (pending) => pending.item.run,
  });

  constructor(
    private readonly pool: Queryable,
    private readonly channel: string,
  ) {}

  append(item: Item): Promise<void> {
    return new Promise((resolve, reject) => this.groups.submit({ item, resolve, reject }));
  }

  private async write(group: Pending[]): Promise<void> {
    if (group.length === 1) return this.writeOne(group[0]!);
    group.sort((a, b) => (a.item.run < b.item.run ? -1 : a.item.run > b.item.run ? 1 : 0));
    let outcomes: Outcome[];
    try {
      outcomes = await writeItems(this.pool, group.map((p) => p.item), this.channel);
    } catch (error) {
      // The database is away: every batch's outcome is the same unknown; no point trying each.
      if (classifyDatabaseError(error) === 'unavailable') return group.forEach((p) => p.reject(error));
      await Promise.all(group.map((p) => this.writeOne(p)));
      return;
    }
    group.forEach((p, i) => {
      try {
        settle(p.item, outcomes[i]);
        p.resolve();
      } catch (error) {
        p.reject(error);
      }
    });
  }

  private writeOne(pending: Pending): Promise<void> {
    return appendRunBatch(this.pool, pending.item, this.channel).then(pending.resolve, pending.reject);
  }
}
