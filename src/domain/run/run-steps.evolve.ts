import type {
  StepAttemptFailed,
  StepAttemptStarted,
  StepAttemptSucceeded,
  StepRetryScheduled,
  StepReused,
  StepSkipped,
} from './run.events';
import { holdOutput, setPhase, settle, succeed } from './run-flow';
import type { RunState } from './run.state';
import { errorOutput } from './step-result';

// How step facts move a block: started → running; succeeded → settled, edges resolved; failed →
// back-off, caught by the `error` edge, or the run's owed failure; skipped or reused → settled.

/** `StepAttemptStarted`: a ready block, or one whose back-off ended, is running that attempt. */
export function onAttemptStarted(state: RunState, data: StepAttemptStarted['data']): void {
  const phase = state.blocks.get(data.blockId)?.phase;
  if (phase?.kind !== 'ready' && phase?.kind !== 'backoff') return;
  setPhase(state, data.blockId, {
    kind: 'running',
    attempt: data.attempt,
    startedAtMs: Date.parse(data.at),
  });
}

/** `StepAttemptSucceeded`: the running attempt's output becomes the block's; its edges resolve. */
export function onAttemptSucceeded(state: RunState, data: StepAttemptSucceeded['data']): void {
  const phase = state.blocks.get(data.blockId)?.phase;
  if (phase?.kind !== 'running' || phase.attempt !== data.attempt) return;
  succeed(state, data.blockId, data.output);
}

/**
 * `StepAttemptFailed`: a retry puts the block in back-off (timed by `StepRetryScheduled`); a
 * terminal failure takes the `error` edge with the error as output, or leaves the run a failure to
 * record. A wait whose params were rejected fails from `ready`.
 */
export function onAttemptFailed(state: RunState, data: StepAttemptFailed['data']): void {
  const phase = state.blocks.get(data.blockId)?.phase;
  const running = phase?.kind === 'running' && phase.attempt === data.attempt;
  // A wait whose params do not fit fails before it begins, from `ready`.
  const waitRejected = phase?.kind === 'ready' && state.graph.blocks.get(data.blockId)?.waitType;
  if (!running && !waitRejected) return;
  if (!data.terminal) {
    const next = { nextAttempt: data.attempt + 1, availableAt: data.at };
    setPhase(state, data.blockId, { kind: 'backoff', ...next, availableAtMs: Date.parse(data.at) });
    return;
  }
  if (state.graph.blocks.get(data.blockId)?.hasErrorEdge) {
    holdOutput(state, data.blockId, errorOutput(data.error));
    settle(
      state,
      data.blockId,
      { kind: 'failed', error: data.error, handled: true },
      { kind: 'failed' },
    );
    return;
  }
  setPhase(state, data.blockId, { kind: 'failed', error: data.error, handled: false });
  state.failure ??= { code: data.error.code, message: data.error.message, blockId: data.blockId };
}

/** `StepRetryScheduled`: when the next attempt may start. */
export function onRetryScheduled(state: RunState, data: StepRetryScheduled['data']): void {
  const phase = state.blocks.get(data.blockId)?.phase;
  if (phase?.kind !== 'backoff') return;
  const availableAtMs = Date.parse(data.availableAt);
  setPhase(state, data.blockId, {
    kind: 'backoff',
    nextAttempt: data.nextAttempt,
    availableAt: data.availableAt,
    availableAtMs,
  });
}

/** `StepSkipped`: the block settles; a disabled block that was reached passes default edges on. */
export function onSkipped(state: RunState, data: StepSkipped['data']): void {
  const phase = state.blocks.get(data.blockId)?.phase;
  if (phase?.kind !== 'ready' && phase?.kind !== 'dead') return;
  const passThrough = phase.kind === 'ready' && data.reason === 'disabled';
  settle(
    state,
    data.blockId,
    { kind: 'skipped', reason: data.reason },
    { kind: 'skipped', passThrough },
  );
}

/** `StepReused`: a rerun's ready block takes the output it had in the run rerun; its edges resolve. */
export function onReused(state: RunState, data: StepReused['data']): void {
  if (state.blocks.get(data.blockId)?.phase.kind !== 'ready') return;
  succeed(state, data.blockId, data.output);
}
