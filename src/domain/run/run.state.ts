import type { ConcurrencyLine, RunError, SkipReason } from './run.events';
import { EMPTY_GRAPH, type RunGraph } from './run-graph';
import type { StepError } from './step-result';

/** The run status of the API contract. */
export type RunStatus =
  'queued' | 'running' | 'sleeping' | 'waiting' | 'completed' | 'failed' | 'cancelled';

/** The statuses a run never leaves. */
export const RUN_TERMINAL_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled'];

/** A stored signal; kept in the run's pending list until a wait consumes it. */
export interface ReceivedSignal {
  signalId: string;
  name: string;
  payload: unknown;
  correlationKey?: string;
  scope: 'run' | 'organization';
  receivedAtMs: number;
}

/** A recorded approval decision, not yet turned into the block's output. */
export interface ApprovalVerdict {
  approved: boolean;
  by: string | null;
  note: string | null;
}

/** A wait in progress. `untilMs` is the deadline (end of sleep, or timeout). */
export type ActiveWait =
  | { type: 'wait_duration'; until: string; untilMs: number }
  | {
      type: 'wait_for_event';
      eventName: string;
      correlationKey?: string;
      until?: string;
      untilMs?: number;
      /** The signal this wait has claimed; the worker records the completion next. */
      signal?: ReceivedSignal;
    }
  | {
      type: 'human_approval';
      token: string;
      prompt: string;
      until?: string;
      untilMs?: number;
      verdict?: ApprovalVerdict;
    };

/**
 * Where a block is. `pending` waits for edges into it; `ready` (some edge in was taken) and
 * `dead` (every edge in was not) are owed a decision; `backoff` waits for its retry.
 */
export type BlockPhase =
  | { kind: 'pending' }
  | { kind: 'ready' }
  | { kind: 'dead' }
  | { kind: 'running'; attempt: number; startedAtMs: number }
  | { kind: 'backoff'; nextAttempt: number; availableAt: string; availableAtMs: number }
  | { kind: 'waiting'; wait: ActiveWait }
  | { kind: 'succeeded'; output: unknown }
  | { kind: 'failed'; error: StepError; handled: boolean }
  | { kind: 'skipped'; reason: SkipReason };

/** The phases that end a block. */
export const SETTLED_PHASES: ReadonlySet<BlockPhase['kind']> = new Set([
  'succeeded',
  'failed',
  'skipped',
]);

/** The phases {@link RunState.index} keeps a set of block ids for. */
export type IndexedPhase = 'ready' | 'dead' | 'running' | 'backoff' | 'waiting';

/** A block's place in the run: its phase, and how many edges into it are still unresolved. */
export interface BlockRun {
  phase: BlockPhase;
  unresolved: number;
  /** Some resolved edge into the block was taken. */
  taken: boolean;
}

/** What {@link RunStarted} fixed about the run. */
export interface RunIdentity {
  runId: string;
  organizationId: string;
  workflowId: string;
  workflowVersion: number;
  input: unknown;
  /** The pinned workflow's variables (`{{vars.…}}`). */
  variables: Record<string, unknown>;
  startedAt: string;
  /** The run this one reruns (`RunStarted.rerun.of`). */
  rerunOf?: string;
  /** A delayed start (`RunStarted.startAt`), as ISO and ms: nothing happens before it. */
  startAt?: string;
  startAtMs?: number;
  /** When the run times out (its start, or its delayed start, + the pinned workflow's `metadata.timeoutMs`), in ms (see `runDeadline`). */
  deadlineMs?: number;
  /** The concurrency line it queues in before it begins (`RunStarted.concurrency`). */
  concurrency?: ConcurrencyLine;
}

/**
 * A run's execution state, folded from its events. Ownership rule that keeps folding O(1) per
 * event: `evolve` updates the collections in place and returns the same object, so a state passed
 * to `evolve` (or `react`/`onStepResult`) is consumed — keep only the returned one, and take
 * {@link cloneRunState} first to branch. `decide`, `resume` and the views only read.
 */
export interface RunState {
  status: RunStatus;
  /** Events folded so far: the stream version to append after. */
  version: number;
  run?: RunIdentity;
  graph: RunGraph;
  blocks: Map<string, BlockRun>;
  /** Block ids per phase that needs attention, in the order they got there. */
  index: Record<IndexedPhase, Set<string>>;
  /** Blocks not settled yet. */
  open: number;
  /**
   * Block id → output, for succeeded blocks and for failures caught by an `error` edge. A
   * null-prototype record, so the shell's template resolver can read it as is, in O(1).
   */
  outputs: Record<string, unknown>;
  /** The size of `outputs` as JSON, a lower bound (`jsonSizeAtLeast`): what `maxRunOutputBytes` holds a new output against. */
  outputBytes: number;
  /** A rerun's outputs taken from the run it reruns, by block id (`RunStarted.rerun.reuse`; never changed). */
  reuse: ReadonlyMap<string, unknown>;
  /** Signals no wait has consumed yet, oldest first, by signal id. */
  signals: Map<string, ReceivedSignal>;
  seenSignalIds: Set<string>;
  /** Approval token → its block and whether it is still open. */
  approvals: Map<string, { blockId: string; status: 'pending' | 'decided' | 'timed_out' }>;
  /** The worker has recorded something since the start (else the run is still `queued`). */
  begun: boolean;
  /** A `RunAdmitted` was recorded: the run holds a place in its concurrency line (`run.concurrency`). */
  admitted: boolean;
  cancelRequested?: { reason?: string; by?: string };
  /** An unhandled block failure: the run owes a `RunFailed`. */
  failure?: RunError;
  outcome?: 'completed' | 'failed' | 'cancelled';
  error?: RunError;
  endedAt?: string;
}

const NO_REUSE: ReadonlyMap<string, unknown> = new Map();

/** The state before `RunStarted`. */
export function initialRunState(): RunState {
  return {
    status: 'queued',
    version: 0,
    graph: EMPTY_GRAPH,
    blocks: new Map(),
    index: emptyIndex(),
    open: 0,
    outputs: Object.create(null) as Record<string, unknown>,
    outputBytes: 0,
    reuse: NO_REUSE,
    signals: new Map(),
    seenSignalIds: new Set(),
    approvals: new Map(),
    begun: false,
    admitted: false,
  };
}

/** An independent copy (O(blocks)), for a caller that must keep a state and evolve another. */
export function cloneRunState(state: RunState): RunState {
  const index = emptyIndex();
  for (const key of Object.keys(index) as IndexedPhase[]) index[key] = new Set(state.index[key]);
  const blocks = new Map<string, BlockRun>();
  for (const [id, block] of state.blocks) blocks.set(id, { ...block });
  const approvals = new Map([...state.approvals].map(([token, entry]) => [token, { ...entry }]));
  return {
    ...state,
    blocks,
    index,
    outputs: Object.assign(Object.create(null) as Record<string, unknown>, state.outputs),
    signals: new Map(state.signals),
    seenSignalIds: new Set(state.seenSignalIds),
    approvals,
  };
}

function emptyIndex(): Record<IndexedPhase, Set<string>> {
  return {
    ready: new Set(),
    dead: new Set(),
    running: new Set(),
    backoff: new Set(),
    waiting: new Set(),
  };
}
