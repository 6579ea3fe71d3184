import { deepEqual } from '../connectors/builtins/compare-values';
import type { RunBlock, RunGraph } from './run-graph';
import { RunRuleError } from './run.errors';
import type { RerunPoint, RunRerun } from './run.events';
import type { RunState } from './run.state';

/** Thrown when the run to rerun has not ended (409 `run_not_ended`). */
export class RunNotEnded extends RunRuleError {
  constructor(status: string) {
    super('run_not_ended', `Only an ended run can be rerun; this one is ${status}`);
  }
}

/** Thrown for a rerun from the failure of a run that completed (409 `run_not_failed`). */
export class RunNotFailed extends RunRuleError {
  constructor() {
    super('run_not_failed', 'The run completed: it has no failure to rerun from; rerun it from "start" or from a block');
  }
}

/** Thrown for a rerun from a block the rerun's version does not have (422 `block_not_found`). */
export class RerunBlockNotFound extends RunRuleError {
  constructor(blockId: string) {
    super('block_not_found', `No block "${blockId.slice(0, 80)}" in the version the rerun runs: rerun from one of its blocks`);
  }
}

/**
 * What a rerun of the ended run `state` from `point` takes from it (see `RunRerun`), for a rerun
 * of `next`: the run's own graph, or that of the workflow's current version when the rerun runs
 * the version the workflow has now. From `start`: nothing. From `failure` (a failed or cancelled
 * run) or from a block (any ended run): the output of every block that succeeded, is the same
 * block in `next` (type, params, policies) fed by the same connections, and whose every parent
 * settles the same way in the rerun — a trigger, a reused block, or a block skipped because of
 * such parents (it is skipped again). Anything downstream of a block that runs again runs again
 * too, since its output may depend on it: the `error` branch of a handled failure, the steps
 * after a wait that never ended, in a newer version the steps after a block that changed, and,
 * from a block, that block and everything after it.
 */
export function rerunOf(state: RunState, point: RerunPoint, next: RunGraph = state.graph): RunRerun {
  const runId = assertRerunnable(state, point);
  if (point.from === 'start') return { of: runId, ...point, reuse: {} };
  const runsAgain = point.from === 'block' ? downstreamOf(next, point.blockId) : new Set<string>();
  const inputsBefore = inputsOf(state.graph);
  const inputsNext = inputsOf(next);
  const settlesAgain = new Set<string>();
  const reuse: Record<string, unknown> = {};
  for (const blockId of topologicalOrder(next)) {
    const block = next.blocks.get(blockId)!;
    const before = state.graph.blocks.get(blockId);
    const inputs = inputsNext.get(blockId) ?? [];
    if (runsAgain.has(blockId)) continue;
    if (!before || !sameBlock(before, block) || !sameInputs(inputsBefore.get(blockId) ?? [], inputs)) continue;
    if (!inputs.every((input) => settlesAgain.has(input.source))) continue;
    const phase = state.blocks.get(blockId)?.phase;
    if (block.role === 'trigger') settlesAgain.add(blockId); // settled by the rerun's start
    else if (phase?.kind === 'skipped') settlesAgain.add(blockId);
    else if (phase?.kind === 'succeeded') {
      settlesAgain.add(blockId);
      reuse[blockId] = phase.output;
    }
  }
  return { of: runId, ...point, reuse };
}

/** Refuses a rerun whatever the version it runs: of a run that has not ended, or from the failure of one that completed. Answers the run's id. */
export function assertRerunnable(state: RunState, point: RerunPoint): string {
  if (!state.run || !state.outcome) throw new RunNotEnded(state.status);
  if (point.from === 'failure' && state.outcome === 'completed') throw new RunNotFailed();
  return state.run.runId;
}

/** `blockId` and every block reachable from it in `graph`. */
function downstreamOf(graph: RunGraph, blockId: string): Set<string> {
  if (!graph.blocks.has(blockId)) throw new RerunBlockNotFound(blockId);
  const reached = new Set([blockId]);
  for (const id of reached) {
    for (const edge of graph.blocks.get(id)?.out ?? []) reached.add(edge.target);
  }
  return reached;
}

type Input = { source: string; handle: string };

/** The connections into each block: source and handle. */
function inputsOf(graph: RunGraph): Map<string, Input[]> {
  const inputs = new Map<string, Input[]>();
  for (const block of graph.blocks.values()) {
    for (const edge of block.out) {
      const input = { source: block.id, handle: edge.handle };
      const list = inputs.get(edge.target);
      if (list) list.push(input);
      else inputs.set(edge.target, [input]);
    }
  }
  return inputs;
}

function sameInputs(a: readonly Input[], b: readonly Input[]): boolean {
  const key = (inputs: readonly Input[]) => inputs.map((i) => `${i.source}\u0000${i.handle}`).sort().join('\u0001');
  return key(a) === key(b);
}

/** Whether a block would do the same in the rerun: same connector, params and policies (a trigger's output is the input whatever its params). */
function sameBlock(before: RunBlock, after: RunBlock): boolean {
  if (before.role === 'trigger' || after.role === 'trigger') return before.role === after.role;
  return (
    before.type === after.type &&
    before.role === after.role &&
    before.enabled === after.enabled &&
    before.timeoutMs === after.timeoutMs &&
    deepEqual(before.params, after.params) &&
    deepEqual(before.retry, after.retry)
  );
}

/** Every block after all its parents (Kahn); blocks on a cycle, which validation refuses, are left out. */
function topologicalOrder(graph: RunGraph): string[] {
  const waiting = new Map<string, number>();
  const order: string[] = [];
  for (const block of graph.blocks.values()) {
    waiting.set(block.id, block.inCount);
    if (block.inCount === 0) order.push(block.id);
  }
  for (let i = 0; i < order.length; i += 1) {
    for (const edge of graph.blocks.get(order[i]!)?.out ?? []) {
      const left = waiting.get(edge.target)! - 1;
      waiting.set(edge.target, left);
      if (left === 0) order.push(edge.target);
    }
  }
  return order;
}
