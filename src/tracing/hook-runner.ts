import type { ExecuteStep } from '../domain/run/run.actions';
import type { RunEvent } from '../domain/run/run.events';
import type { RunState } from '../domain/run/run.state';
import type { StepOutcome } from '../domain/run/step-result';
import type { RunHookInfo, StepAttemptHookInfo, StepAttemptHookResult, WorkerHooks } from './hooks';
import type { ModuleLoader } from './tracer';
import { tracingHooks } from './tracing-hooks';

/** Where hook failures are reported. */
export interface HookLog {
  warn(data: object, message: string): void;
}

/** A hook that keeps failing is logged at most once per this window, with how many were not. */
export const HOOK_FAILURE_LOG_INTERVAL_MS = 60_000;

/**
 * Calls the worker's hooks (see `WorkerHooks`) at the worker's few call sites, and keeps each
 * call from reaching the run: a hook is never awaited, and a throw or a rejection is logged,
 * rate-limited per hook, and otherwise ignored. Tracks the run segments this process has open.
 */
export class RunHooks {
  private readonly segments = new Map<string, RunHookInfo>();
  private readonly failures = new Map<string, { loggedAt: number; suppressed: number }>();

  constructor(
    private readonly hooks: readonly WorkerHooks[],
    private readonly log: HookLog,
    private readonly now: () => number = Date.now,
  ) {}

  /** Calls `execute` at once (synchronously: it reads the state) between the attempt hooks. */
  stepAttempt(runId: string, step: ExecuteStep, state: RunState, execute: () => Promise<StepOutcome>): Promise<StepOutcome> {
    const run = this.hooks.length > 0 ? this.segment(runId, state) : undefined;
    if (!run) return execute();
    const info: StepAttemptHookInfo = { run, blockId: step.blockId, connector: step.blockType, attempt: step.attempt, idempotencyKey: step.idempotencyKey };
    this.emit('onStepAttemptStarted', (h) => h.onStepAttemptStarted?.(info));
    const began = performance.now();
    return execute().then((outcome) => {
      const durationMs = performance.now() - began;
      const result: StepAttemptHookResult = outcome.ok ? { ok: true, durationMs } : { ok: false, durationMs, error: { ...outcome.error } };
      this.emit('onStepAttemptFinished', (h) => h.onStepAttemptFinished?.(info, result));
      return outcome;
    });
  }

  /** A batch of the run was committed; `state` has its events folded in. */
  recorded(runId: string, state: RunState, events: readonly RunEvent[]): void {
    if (this.hooks.length === 0 || events.length === 0) return;
    const run = this.segment(runId, state);
    if (!run) return;
    for (const event of events) {
      if (event.type === 'StepRetryScheduled') {
        const retry = { run, blockId: event.data.blockId, nextAttempt: event.data.nextAttempt, availableAt: event.data.availableAt };
        this.emit('onStepRetryScheduled', (h) => h.onStepRetryScheduled?.(retry));
      } else if (event.type === 'RunCompleted' || event.type === 'RunCancelled') {
        const end = { status: event.type === 'RunCompleted' ? ('completed' as const) : ('cancelled' as const) };
        this.emit('onRunFinished', (h) => h.onRunFinished?.(run, end));
      } else if (event.type === 'RunFailed') {
        const end = { status: 'failed' as const, error: { ...event.data.error } };
        this.emit('onRunFinished', (h) => h.onRunFinished?.(run, end));
      }
    }
  }

  /** The worker let the run go: ends its open segment, if any. */
  released(runId: string, how: 'ended' | 'parked' | 'dropped'): void {
    const run = this.segments.get(runId);
    if (!run) return;
    this.segments.delete(runId);
    this.emit('onRunSegmentEnded', (h) => h.onRunSegmentEnded?.(run, { how }));
  }

  /** The run's open segment, opened now when there is none. */
  private segment(runId: string, state: RunState): RunHookInfo | undefined {
    const open = this.segments.get(runId);
    if (open) return open;
    if (!state.run) return undefined;
    const { organizationId, workflowId, workflowVersion } = state.run;
    const run: RunHookInfo = { runId, organizationId, workflowId, workflowVersion };
    this.segments.set(runId, run);
    this.emit('onRunSegmentStarted', (h) => h.onRunSegmentStarted?.(run));
    return run;
  }

  private emit(hook: keyof WorkerHooks, call: (hooks: WorkerHooks) => unknown): void {
    this.hooks.forEach((hooks, index) => {
      try {
        const result = call(hooks);
        if (isThenable(result)) Promise.resolve(result).catch((error: unknown) => this.failed(hook, index, error));
      } catch (error) {
        this.failed(hook, index, error);
      }
    });
  }

  private failed(hook: string, index: number, error: unknown): void {
    const key = `${index}:${hook}`;
    const now = this.now();
    const last = this.failures.get(key);
    if (last && now - last.loggedAt < HOOK_FAILURE_LOG_INTERVAL_MS) {
      last.suppressed += 1;
      return;
    }
    this.failures.set(key, { loggedAt: now, suppressed: 0 });
    const data = { err: error, hook, hookSet: index, suppressedSinceLastLog: last?.suppressed ?? 0 };
    this.log.warn(data, `worker hook ${hook} failed; ignored (the run goes on)`);
  }
}

/** The worker's hooks: tracing (when `@opentelemetry/api` is installed) first, then the embedder's. */
export function createRunHooks(embedder: readonly WorkerHooks[] | undefined, log: HookLog, load?: ModuleLoader): RunHooks {
  const tracing = tracingHooks(load);
  return new RunHooks([...(tracing ? [tracing] : []), ...(embedder ?? [])], log);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
