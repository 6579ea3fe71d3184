import type { RunBlock } from './run-graph';
import { executeStep, type RunAction, type RunDecision } from './run.actions';
import { RUN_FAILURE_CODES } from './run.errors';
import type { ActiveWait, RunState } from './run.state';

/**
 * What the run owes at `now`. Pure and read-only; costs O(blocks needing attention + waits), never
 * O(workflow), so deciding after every step keeps a run linear. In order:
 * - ended or not started: nothing; cancel requested: `CancelRun` alone (nothing downstream runs);
 *   a delayed start not due yet: nothing but the time to look again at;
 *   an unhandled block failure, an unrunnable block or the run's deadline passed: `FailRun` alone
 *   (until the deadline, it is a time to look again at);
 *   a run of a concurrency line not admitted yet: `admit` and nothing else;
 * - `SkipStep` for dead blocks (no edge into them taken) and disabled ready ones (pass-through);
 * - `ReuseStep` for a rerun's ready blocks that take their output from the run rerun;
 * - `ExecuteStep` for ready action blocks (attempt 1) and due retries, `StartWait` for ready waits;
 * - `CompleteWait`/`TimeoutWait` for waits that were answered or whose deadline passed;
 * - `CompleteRun` once every block settled.
 * Blocks that are running are not returned: the worker already runs them (see `resume`).
 */
export function decide(state: RunState, now: Date): RunDecision {
  const run = state.run;
  if (!run || state.outcome) return { actions: [] };
  if (state.cancelRequested) return { actions: [{ type: 'CancelRun', ...state.cancelRequested }] };
  if (state.failure) return { actions: [{ type: 'FailRun', error: state.failure }] };
  const nowMs = now.getTime();
  if (run.startAtMs !== undefined && nowMs < run.startAtMs) return { actions: [], wakeAt: new Date(run.startAtMs) };
  if (run.deadlineMs !== undefined && nowMs >= run.deadlineMs) return { actions: [timedOut(run.deadlineMs)] };
  if (run.concurrency && !state.admitted) return { actions: [], admit: true, ...(run.deadlineMs !== undefined ? { wakeAt: new Date(run.deadlineMs) } : {}) };
  const actions: RunAction[] = [];
  let wakeMs = run.deadlineMs ?? Infinity;
  for (const blockId of state.index.dead) {
    actions.push({ type: 'SkipStep', blockId, reason: 'branch_not_taken' });
  }
  for (const blockId of state.index.ready) {
    const block = state.graph.blocks.get(blockId);
    if (!block) continue;
    if (block.enabled && state.reuse.has(blockId)) {
      actions.push({ type: 'ReuseStep', blockId, blockType: block.type });
      continue;
    }
    const action = readyAction(run.runId, block);
    if (action.type === 'FailRun') return { actions: [action] };
    actions.push(action);
  }
  for (const blockId of state.index.backoff) {
    const phase = state.blocks.get(blockId)?.phase;
    const block = state.graph.blocks.get(blockId);
    if (phase?.kind !== 'backoff' || !block) continue;
    if (phase.availableAtMs <= nowMs)
      actions.push(executeStep(run.runId, block, phase.nextAttempt));
    else wakeMs = Math.min(wakeMs, phase.availableAtMs);
  }
  for (const blockId of state.index.waiting) {
    const phase = state.blocks.get(blockId)?.phase;
    if (phase?.kind !== 'waiting') continue;
    const action = waitAction(blockId, phase.wait, nowMs);
    if (typeof action === 'number') wakeMs = Math.min(wakeMs, action);
    else if (action) actions.push(action);
  }
  if (actions.length === 0 && isIdle(state)) {
    actions.push(state.open === 0 ? { type: 'CompleteRun', outputs: outputsOf(state) } : stuck());
  }
  return Number.isFinite(wakeMs) ? { actions, wakeAt: new Date(wakeMs) } : { actions };
}

/**
 * Whether everything that falls due by `at` falls due by the clock alone: sleeps end, retries
 * come due, a delayed start begins. Not when a step is running (its end may come first), a wait
 * for an event or an approval times out by then, or the run's deadline passes (a signal, a
 * decision or a result that arrives just before `at` must still count), nor when a cancel is
 * asked for or the run must first take its place in a concurrency line. What such a moment
 * decides cannot change before it comes, so a worker may decide and record it a little ahead,
 * as of the moment, and start its calls at the moment (`ActiveRun`).
 */
export function dueByClockAlone(state: RunState, at: Date): boolean {
  const run = state.run;
  if (!run || state.outcome || state.cancelRequested || state.failure) return false;
  if (run.concurrency && !state.admitted) return false;
  const atMs = at.getTime();
  if (run.deadlineMs !== undefined && run.deadlineMs <= atMs) return false;
  if (state.index.running.size > 0) return false;
  for (const blockId of state.index.waiting) {
    const phase = state.blocks.get(blockId)?.phase;
    if (phase?.kind !== 'waiting' || phase.wait.type === 'wait_duration') continue;
    if (phase.wait.untilMs !== undefined && phase.wait.untilMs <= atMs) return false;
  }
  return true;
}

/**
 * The outputs map of a run (block id → output) as a plain object. `Object.assign`, not a spread:
 * for a map of 1,000 outputs (a dictionary-mode object) V8 copies it ~4× faster (0.46 against
 * 1.7 ms), once per completed run and per run view.
 */
export function outputsOf(state: RunState): Record<string, unknown> {
  return Object.assign({}, state.outputs);
}

function readyAction(runId: string, block: RunBlock): RunAction {
  if (!block.enabled) return { type: 'SkipStep', blockId: block.id, reason: 'disabled' };
  switch (block.role) {
    case 'action':
    case 'trigger':
      return executeStep(runId, block, 1);
    case 'wait':
      return block.waitType
        ? { type: 'StartWait', blockId: block.id, waitType: block.waitType }
        : fail(
            RUN_FAILURE_CODES.unsupportedWait,
            `Block type "${block.type}" is not a known wait`,
            block.id,
          );
    case 'unregistered':
      return fail(
        RUN_FAILURE_CODES.typeNotRegistered,
        `Block type "${block.type}" is not registered`,
        block.id,
      );
  }
}

function waitAction(
  blockId: string,
  wait: ActiveWait,
  nowMs: number,
): RunAction | number | undefined {
  if (wait.type === 'wait_duration') {
    if (wait.untilMs > nowMs) return wait.untilMs;
    const output = { sleptUntil: wait.until, resumedAt: new Date(nowMs).toISOString() };
    return { type: 'CompleteWait', blockId, reason: 'elapsed', output };
  }
  if (wait.type === 'wait_for_event' && wait.signal) {
    const output = { data: wait.signal.payload ?? null, timedOut: false };
    return {
      type: 'CompleteWait',
      blockId,
      reason: 'signal',
      output,
      signalId: wait.signal.signalId,
    };
  }
  if (wait.type === 'human_approval' && wait.verdict) {
    const output = { ...wait.verdict, timedOut: false };
    return { type: 'CompleteWait', blockId, reason: 'approval', output };
  }
  if (wait.untilMs === undefined) return undefined;
  if (wait.untilMs > nowMs) return wait.untilMs;
  const output =
    wait.type === 'wait_for_event'
      ? { data: null, timedOut: true }
      : { approved: false, by: null, note: null, timedOut: true };
  return { type: 'TimeoutWait', blockId, output };
}

function isIdle(state: RunState): boolean {
  const { index } = state;
  return index.running.size + index.backoff.size + index.waiting.size === 0;
}

function fail(code: string, message: string, blockId?: string): RunAction {
  return { type: 'FailRun', error: { code, message, ...(blockId ? { blockId } : {}) } };
}

function timedOut(deadlineMs: number): RunAction {
  return fail(RUN_FAILURE_CODES.timedOut, `The run did not end by its deadline (${runDeadline({ deadlineMs })}): the workflow's timeout`);
}

/** The run's deadline as an instant (ISO), when its workflow has a timeout. */
export function runDeadline(run: { deadlineMs?: number }): string | undefined {
  return run.deadlineMs === undefined ? undefined : new Date(run.deadlineMs).toISOString();
}

function stuck(): RunAction {
  return fail(
    RUN_FAILURE_CODES.stuck,
    'Blocks remain that can never become ready (a cycle in the workflow?)',
  );
}
