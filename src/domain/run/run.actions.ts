import type { WaitType } from './block-spec';
import type { RunBlock } from './run-graph';
import type { RunError, SkipReason } from './run.events';

/**
 * Run an attempt of an action block: call its connector once with the block's params resolved
 * against the run, an `AbortSignal`, and `idempotencyKey` (stable across re-executions of the same
 * attempt after a crash), aborting it after `timeoutMs` when set.
 */
export interface ExecuteStep {
  type: 'ExecuteStep';
  blockId: string;
  blockType: string;
  attempt: number;
  idempotencyKey: string;
  timeoutMs?: number;
}

/** Record that a block does not run. */
export interface SkipStep {
  type: 'SkipStep';
  blockId: string;
  reason: SkipReason;
}

/** Record that a rerun's block takes its output from the run rerun instead of running. */
export interface ReuseStep {
  type: 'ReuseStep';
  blockId: string;
  blockType: string;
}

/**
 * Begin a wait block: resolve its params, then record `RunSleeping`, `RunWaitingForEvent` or
 * `ApprovalRequested` (with a fresh token).
 */
export interface StartWait {
  type: 'StartWait';
  blockId: string;
  waitType: WaitType;
}

/** End a wait with `output`: its sleep elapsed, its signal was claimed, its approval decided. */
export interface CompleteWait {
  type: 'CompleteWait';
  blockId: string;
  reason: 'elapsed' | 'signal' | 'approval';
  output: unknown;
  signalId?: string;
}

/** End a wait whose deadline passed unanswered, with the timed-out `output`. */
export interface TimeoutWait {
  type: 'TimeoutWait';
  blockId: string;
  output: unknown;
}

/** Record the run's completion. */
export interface CompleteRun {
  type: 'CompleteRun';
  outputs: Record<string, unknown>;
}

/** Record the run's failure. */
export interface FailRun {
  type: 'FailRun';
  error: RunError;
}

/** Record the cancellation (the shell aborts running connector calls). */
export interface CancelRun {
  type: 'CancelRun';
  reason?: string;
  by?: string;
}

/** Something the run owes now. */
export type RunAction =
  | ExecuteStep
  | SkipStep
  | ReuseStep
  | StartWait
  | CompleteWait
  | TimeoutWait
  | CompleteRun
  | FailRun
  | CancelRun;

/**
 * What `decide` answers: the actions owed now, and when to look again if nothing else happens
 * (the earliest sleep end, wait deadline or retry; absent when only results or signals can move
 * the run on).
 */
export interface RunDecision {
  actions: RunAction[];
  wakeAt?: Date;
  /**
   * The run may begin but must first take a place in its concurrency line: the worker asks the
   * store for one (and records `RunAdmitted`), or queues the run until a place frees.
   */
  admit?: true;
}

/** The stable idempotency key of an attempt: `runId:blockId:attempt`. */
export function idempotencyKeyOf(runId: string, blockId: string, attempt: number): string {
  return `${runId}:${blockId}:${attempt}`;
}

/** The `ExecuteStep` for attempt `attempt` of `block`. */
export function executeStep(runId: string, block: RunBlock, attempt: number): ExecuteStep {
  return {
    type: 'ExecuteStep',
    blockId: block.id,
    blockType: block.type,
    attempt,
    idempotencyKey: idempotencyKeyOf(runId, block.id, attempt),
    ...(block.timeoutMs !== undefined ? { timeoutMs: block.timeoutMs } : {}),
  };
}
