import type { Pool, PoolClient } from 'pg';
import type { RecordedEvent } from '../event-store/event';

/** Anything that runs SQL: the pool (autocommit) or a client inside a transaction. */
export type Queryable = Pick<Pool | PoolClient, 'query'>;

/**
 * What the writer of an append may tell the inline projections of its stream, which they would
 * otherwise have to work out from the store (`RunAppendHint`: the state the writer already
 * folded). Passed with each event of the append, never through an async context: an enabled
 * `AsyncLocalStorage` hooks every promise of the process.
 */
export interface AppendHint {
  readonly kind: string;
  readonly streamId: string;
}

/**
 * A read model: a plain function from an event to SQL on tables it alone owns. Inline
 * projections run inside the append transaction (read-your-writes); async ones run in a
 * catch-up loop with a checkpoint. Either kind can be rebuilt from position zero, so `apply`
 * must be deterministic given the events (use `event.recordedAt`, never `now()`).
 */
export interface Projection {
  readonly name: string;
  readonly mode: 'inline' | 'async';
  /** Event types this projection reads (`'all'` for every one); it never sees the others. */
  readonly handles: readonly string[] | 'all';
  /**
   * Optional: events of a handled type that provably leave its tables unchanged, which it then
   * never sees either. For an inline projection this keeps such events off its transaction
   * (e.g. a run batch then still goes out in one statement: `RunStore.append`).
   */
  ignores?(event: { readonly type: string; readonly data?: unknown }): boolean;
  /** Tables it owns; a rebuild gives them exactly the rows the events produce. */
  readonly tables: readonly string[];
  /**
   * Inline only, per table: columns other writers own (the worker's queue in `run_state`). A
   * rebuild keeps their live values on every row that exists live (see `live-rebuild.ts`).
   */
  readonly operationalColumns?: Readonly<Record<string, readonly string[]>>;
  /**
   * Async only: readers wait for it to catch up (`CheckpointWaiter`), so the runner NOTIFYs each
   * checkpoint it commits. Off by default: every notifying commit takes a global lock.
   */
  readonly awaited?: boolean;
  /** Async only: events read per catch-up batch, when this projection amortises more per transaction than the runner's default. */
  readonly batchSize?: number;
  /** Async only: poll at least this often (the deployment's poll interval otherwise), for a read model with a freshness target. */
  readonly pollIntervalMs?: number;
  /**
   * Async only: the longest its passes give way to a busy worker's runs, from the oldest change
   * waiting (two poll intervals otherwise: see `MAX_YIELD_POLLS` in `giving-way.ts`).
   */
  readonly maxYieldMs?: number;
  /** `hint`: inline only, what the append's writer told (see `AppendHint`); a rebuild gives none. */
  apply(db: Queryable, event: RecordedEvent, hint?: AppendHint): Promise<void>;
  /**
   * Inline only, optional: locks, in the append's transaction and before its events are inserted,
   * the rows `apply` will update for an existing stream (`expectedVersion` > 0). A writer that
   * inserted first and locked the row after deadlocked with one that did the opposite (the run's
   * one-statement appends lock `run_state` first): every writer of such a row takes it first.
   */
  lockFirst?(db: Queryable, streamId: string, expectedVersion: number, hint: AppendHint | undefined): Promise<void>;
  /**
   * Optional: the same effect as `apply` over each event in order, in fewer statements. Async
   * runners and rebuilds call it with every handled event of a batch when it is defined.
   */
  applyBatch?(db: Queryable, events: readonly RecordedEvent[]): Promise<void>;
}

export function handlesEvent(projection: Projection, event: { readonly type: string; readonly data?: unknown }): boolean {
  return (projection.handles === 'all' || projection.handles.includes(event.type)) && !projection.ignores?.(event);
}

/** Applies `events` (already filtered to the ones it handles) through the batch form when there is one. */
export async function applyAll(projection: Projection, db: Queryable, events: readonly RecordedEvent[]): Promise<void> {
  if (events.length === 0) return;
  if (projection.applyBatch) return projection.applyBatch(db, events);
  for (const event of events) await projection.apply(db, event);
}

/**
 * For a batch form that is set-based for some events only: applies each run of consecutive
 * events that `grouped` accepts in one `applyGroup` call, and every other event alone through
 * `applyOne`, in order.
 */
export async function applyInGroups(
  events: readonly RecordedEvent[],
  grouped: (event: RecordedEvent) => boolean,
  applyGroup: (events: readonly RecordedEvent[]) => Promise<void>,
  applyOne: (event: RecordedEvent) => Promise<void>,
): Promise<void> {
  let group: RecordedEvent[] = [];
  for (const event of events) {
    if (grouped(event)) {
      group.push(event);
      continue;
    }
    if (group.length > 0) await applyGroup(group);
    group = [];
    await applyOne(event);
  }
  if (group.length > 0) await applyGroup(group);
}
