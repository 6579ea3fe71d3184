import type { RunGraph } from './run-graph';
import { RunRuleError } from './run.errors';
import type { RunRerun } from './run.events';
import type { RunState } from './run.state';

/** Where a rerun starts: after what the ended run got right (`failure`), or from the beginning (`start`). */
export type RerunFrom = RunRerun['from'];

/** Thrown when the run to rerun has not ended (409 `run_not_ended`). */
export class RunNotEnded extends RunRuleError {
  constructor(status: string) {
    super('run_not_ended', `Only an ended run can be rerun; this one is ${status}`);
  }
}

/** Thrown for a rerun from the failure of a run that completed (409 `run_not_failed`). */
export class RunNotFailed extends RunRuleError {
  constructor() {
    super('run_not_failed', 'The run completed: it has no failure to rerun from; rerun it from "start"');
  }
}

/**
 * What a rerun of the ended run `state` takes from it (see `RunRerun`). From `start`: nothing,
 * a new run of the same version and input. From `failure` (a failed or cancelled run): the
 * output of every block that succeeded and whose every parent settles the same way in the rerun
 * — a trigger, a reused block, or a block skipped because of such parents (it is skipped again).
 * Anything downstream of a block that runs again runs again too, since its output may depend on
 * it: the `error` branch of a handled failure, the steps after a wait that never ended.
 */
export function rerunOf(state: RunState, from: RerunFrom): RunRerun {
  const run = state.run;
  if (!run || !state.outcome) throw new RunNotEnded(state.status);
  if (from === 'start') return { of: run.runId, from, reuse: {} };
  if (state.outcome === 'completed') throw new RunNotFailed();
  const parents = parentsOf(state.graph);
  const settlesAgain = new Set<string>();
  const reuse: Record<string, unknown> = {};
  for (const blockId of topologicalOrder(state.graph)) {
    if (!(parents.get(blockId) ?? []).every((parent) => settlesAgain.has(parent))) continue;
    const phase = state.blocks.get(blockId)?.phase;
    if (state.graph.blocks.get(blockId)?.role === 'trigger') settlesAgain.add(blockId); // settled by the rerun's start
    else if (phase?.kind === 'skipped') settlesAgain.add(blockId);
    else if (phase?.kind === 'succeeded') {
      settlesAgain.add(blockId);
      reuse[blockId] = phase.output;
    }
  }
  return { of: run.runId, from, reuse };
}

function parentsOf(graph: RunGraph): Map<string, string[]> {
  const parents = new Map<string, string[]>();
  for (const block of graph.blocks.values()) {
    for (const edge of block.out) {
      const list = parents.get(edge.target);
      if (list) list.push(block.id);
      else parents.set(edge.target, [block.id]);
    }
  }
  return parents;
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
