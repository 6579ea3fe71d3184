/**
 * Lifecycle hooks of the run worker, for embedders (`startThodare({hooks})`) and for tracing,
 * which is one such hook set (`tracingHooks`). A hook is called synchronously from the worker and
 * never awaited; whatever it throws or rejects with is logged (rate-limited, per hook) and
 * ignored: a hook can neither fail, delay nor alter a run.
 *
 * A run may span processes and days (waits, retry back-offs, crashes, restarts). The worker sees
 * it in **segments**: from the moment it first does something for the run (records a batch or
 * starts an attempt) until it lets the run go (`ended`, `parked` or `dropped`). Every segment
 * gets its own `onRunSegmentStarted` / `onRunSegmentEnded` pair, with the same `RunHookInfo`
 * object; `onStepAttemptStarted` / `onStepAttemptFinished` get the same `StepAttemptHookInfo`
 * object too, so a hook may key its own state on them (a `WeakMap`).
 */
export interface WorkerHooks {
  /** This worker begins a segment of the run (its first one, or a resumption). */
  onRunSegmentStarted?(run: RunHookInfo): unknown;
  /** A connector call begins (before the call; its result is not recorded yet). */
  onStepAttemptStarted?(step: StepAttemptHookInfo): unknown;
  /** The connector call came back, succeeded or failed (an abort or timeout is a failure). */
  onStepAttemptFinished?(step: StepAttemptHookInfo, result: StepAttemptHookResult): unknown;
  /** A failed attempt's retry is recorded: attempt `nextAttempt` may start at `availableAt`. */
  onStepRetryScheduled?(retry: StepRetryHookInfo): unknown;
  /** The run's end (completed, failed or cancelled) is recorded by this worker. */
  onRunFinished?(run: RunHookInfo, end: RunEndHookInfo): unknown;
  /** This worker lets the run go: `ended`, `parked` (it waits for time or a signal), `dropped` (lease lost, shutdown). */
  onRunSegmentEnded?(run: RunHookInfo, segment: { how: 'ended' | 'parked' | 'dropped' }): unknown;
}

/** What every hook knows of the run: the ids `RunStarted` pinned. */
export interface RunHookInfo {
  readonly runId: string;
  readonly organizationId: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
}

/** One attempt of an action block. `connector` is the block's type. */
export interface StepAttemptHookInfo {
  readonly run: RunHookInfo;
  readonly blockId: string;
  readonly connector: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly idempotencyKey: string;
}

/** How an attempt came back; `durationMs` is measured around the connector call. */
export type StepAttemptHookResult =
  | { readonly ok: true; readonly durationMs: number }
  | { readonly ok: false; readonly durationMs: number; readonly error: { readonly code: string; readonly message: string; readonly retryable: boolean } };

export interface StepRetryHookInfo {
  readonly run: RunHookInfo;
  readonly blockId: string;
  readonly nextAttempt: number;
  /** ISO-8601. */
  readonly availableAt: string;
}

export interface RunEndHookInfo {
  readonly status: 'completed' | 'failed' | 'cancelled';
  /** A failed run's error (`code` is stable snake_case). */
  readonly error?: { readonly code: string; readonly message: string; readonly blockId?: string };
}

/** Nest token of the embedder's hooks (`WorkerHooks[]`); absent: none. Tracing is always added. */
export const WORKER_HOOKS = Symbol('WorkerHooks');
