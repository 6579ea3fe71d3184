import type { SerializedWorkflow } from '../workflow/workflow';
import type { BlockPins } from './block-pins';
import type { StepError } from './step-result';

/**
 * The facts of a run's stream `run-<id>`, past tense and permanent. `data` is plain JSON (times
 * are ISO-8601 strings) and maps onto the store's `type`/`data` columns; provenance (actor,
 * request, agent label) travels in the store's metadata, never here.
 */
interface Fact<T extends string, D> {
  type: T;
  data: D;
}

/** Why a run failed: a block's unhandled terminal failure, or a runtime rule (`run_too_long`…). */
export interface RunError {
  code: string;
  message: string;
  blockId?: string;
}

/**
 * The run began. The workflow JSON and version are pinned here (later patches never apply), and
 * so is what the run needs of each block's connector (`blocks`, see `pinBlocks`): replay reads
 * nothing else, so a deploy never changes how a recorded run replays. When `definition` is set,
 * the store holds workflow and blocks once per distinct content instead, in the
 * `RunDefinitionRecorded` event that digest names (see `run-definition.ts`), and readers resolve
 * them before folding: to the domain the event is the same either way.
 */
export type RunStarted = Fact<
  'RunStarted',
  {
    runId: string;
    organizationId: string;
    workflowId: string;
    workflowVersion: number;
    workflow: SerializedWorkflow;
    /** Absent only in streams recorded before pinning: their blocks replay as unregistered. */
    blocks?: BlockPins;
    /** The digest of the run's `RunDefinitionRecorded` (absent in streams that store workflow and blocks inline). */
    definition?: string;
    input: unknown;
    startedAt: string;
    /**
     * A delayed start: nothing of the run happens before this instant (it stays `queued`); a
     * workflow timeout counts from it. Absent: the run begins at once.
     */
    startAt?: string;
    /** A rerun of an ended run (`POST /api/runs/:id/rerun`): see {@link RunRerun}. */
    rerun?: RunRerun;
    /**
     * The concurrency line the run queues in (the workflow's `metadata.concurrency`, pinned at
     * the start): it does nothing before a {@link RunAdmitted}. Absent: it begins at once.
     */
    concurrency?: ConcurrencyLine;
  }
>;

/**
 * A workflow's runs that share `key` (the value at the workflow's `concurrency.keyPath` in the
 * run input, `""` without one) take turns: at most `limit` of them admitted and not ended at once.
 */
export interface ConcurrencyLine {
  key: string;
  limit: number;
}

/** The run took a place in its concurrency line (recorded by the worker that found one free). */
export type RunAdmitted = Fact<'RunAdmitted', { at: string }>;

/**
 * Where a rerun starts: after what the ended run got right (`failure`), from the beginning
 * (`start`), or from one block (`block`: it and everything downstream of it run again).
 */
export type RerunPoint = { from: 'failure' } | { from: 'start' } | { from: 'block'; blockId: string };

/**
 * What a rerun takes from the run it reruns (`of`, same input): the outputs of the blocks it
 * does not run again, by block id (see `rerunOf`). Each is recorded as a {@link StepReused} when
 * the block's turn comes; every other block runs as in a new run.
 */
export type RunRerun = RerunPoint & {
  of: string;
  reuse: Record<string, unknown>;
};

/** An attempt began; `input` is the resolved params with hidden values already redacted. */
export type StepAttemptStarted = Fact<
  'StepAttemptStarted',
  {
    blockId: string;
    blockType: string;
    attempt: number;
    at: string;
    input?: unknown;
  }
>;

/** An attempt returned `output`: the block's result, never executed again. */
export type StepAttemptSucceeded = Fact<
  'StepAttemptSucceeded',
  {
    blockId: string;
    attempt: number;
    output: unknown;
    at: string;
    durationMs: number;
  }
>;

/**
 * An attempt failed. `terminal: false` is always followed by {@link StepRetryScheduled} in the same
 * batch; `terminal: true` ends the block (its `error` edge, or the run's failure).
 */
export type StepAttemptFailed = Fact<
  'StepAttemptFailed',
  {
    blockId: string;
    attempt: number;
    error: StepError;
    terminal: boolean;
    at: string;
    durationMs?: number;
  }
>;

/** The next attempt may start at `availableAt` (back-off). */
export type StepRetryScheduled = Fact<
  'StepRetryScheduled',
  {
    blockId: string;
    nextAttempt: number;
    availableAt: string;
  }
>;

/** Why a block did not run: its branch was not taken, or it is disabled (pass-through). */
export type SkipReason = 'branch_not_taken' | 'disabled';

/** The block will not run. */
export type StepSkipped = Fact<'StepSkipped', { blockId: string; reason: SkipReason; at: string }>;

/** The block's turn came in a rerun, and it took `output`, its output in the run rerun (`fromRunId`), instead of running. */
export type StepReused = Fact<'StepReused', { blockId: string; blockType: string; fromRunId: string; output: unknown; at: string }>;

/** A `wait_duration` block sleeps until `until`. */
export type RunSleeping = Fact<'RunSleeping', { blockId: string; until: string; at: string }>;

/** A `wait_for_event` block waits for a signal named `eventName` (until `until` when set). */
export type RunWaitingForEvent = Fact<
  'RunWaitingForEvent',
  {
    blockId: string;
    eventName: string;
    correlationKey?: string;
    until?: string;
    at: string;
  }
>;

/** A `human_approval` block waits for a decision through the single-use `token`. */
export type ApprovalRequested = Fact<
  'ApprovalRequested',
  {
    blockId: string;
    token: string;
    prompt: string;
    until?: string;
    at: string;
  }
>;

/**
 * A signal reached the run, stored whether or not anything waits yet. `scope: 'run'` was sent
 * to this run (its correlation key is ignored); `'organization'` is a published event delivered
 * here, which only matches a wait whose correlation key is absent or equal.
 */
export type SignalReceived = Fact<
  'SignalReceived',
  {
    signalId: string;
    name: string;
    payload: unknown;
    correlationKey?: string;
    scope: 'run' | 'organization';
    receivedAt: string;
  }
>;

/** How a wait ended. */
export type WaitEnd = 'elapsed' | 'signal' | 'approval' | 'timeout';

/** A wait block finished with `output` (its result); `signalId` names the signal it consumed. */
export type WaitCompleted = Fact<
  'WaitCompleted',
  {
    blockId: string;
    reason: WaitEnd;
    output: unknown;
    signalId?: string;
    at: string;
  }
>;

/** Someone decided an approval (the token is spent). */
export type ApprovalDecided = Fact<
  'ApprovalDecided',
  {
    blockId: string;
    token: string;
    approved: boolean;
    by: string | null;
    note: string | null;
    at: string;
  }
>;

/** Cancellation was asked for; the worker answers with {@link RunCancelled}. */
export type RunCancelRequested = Fact<
  'RunCancelRequested',
  { reason?: string; by?: string; at: string }
>;

/** The run stopped for good on request; nothing downstream ran. */
export type RunCancelled = Fact<'RunCancelled', { reason?: string; by?: string; at: string }>;

/** Every block settled; `outputs` maps block id → output. */
export type RunCompleted = Fact<'RunCompleted', { outputs: Record<string, unknown>; at: string }>;

/** The run failed for good. */
export type RunFailed = Fact<'RunFailed', { error: RunError; at: string }>;

/** Every fact of a run stream. */
export type RunEvent =
  | RunStarted
  | RunAdmitted
  | StepAttemptStarted
  | StepAttemptSucceeded
  | StepAttemptFailed
  | StepRetryScheduled
  | StepSkipped
  | StepReused
  | RunSleeping
  | RunWaitingForEvent
  | ApprovalRequested
  | SignalReceived
  | WaitCompleted
  | ApprovalDecided
  | RunCancelRequested
  | RunCancelled
  | RunCompleted
  | RunFailed;

/** The `type` of a run event. */
export type RunEventType = RunEvent['type'];

/** Whether `event` ends its run. */
export function endsRun(event: RunEvent): boolean {
  return event.type === 'RunCompleted' || event.type === 'RunFailed' || event.type === 'RunCancelled';
}

/** The stream a run's events live in. */
export function runStreamId(runId: string): string {
  return `run-${runId}`;
}

/** The run whose events a stream of `runStreamId` holds. */
export function runIdOf(streamId: string): string {
  return streamId.slice('run-'.length);
}

/** Every event type of a run stream (the console listens for each by name, so it lives here, free of imports). */
export const RUN_EVENT_TYPES: readonly RunEventType[] = [
  'RunStarted',
  'RunAdmitted',
  'StepAttemptStarted',
  'StepAttemptSucceeded',
  'StepAttemptFailed',
  'StepRetryScheduled',
  'StepSkipped',
  'StepReused',
  'RunSleeping',
  'RunWaitingForEvent',
  'ApprovalRequested',
  'SignalReceived',
  'WaitCompleted',
  'ApprovalDecided',
  'RunCancelRequested',
  'RunCancelled',
  'RunCompleted',
  'RunFailed',
];
