import { jsonSizeAtLeast } from '../domain/json-size';
import type { RunState } from '../domain/run/run.state';

/**
 * What the folded states kept for readers may weigh together on one instance (see `FoldedRuns`).
 * A run holds at most 32 MiB of outputs (`maxRunOutputBytes`), so a handful of the largest fit,
 * or tens of thousands of ordinary ones.
 */
export const FOLDED_RUNS_BUDGET_BYTES = 64 * 1024 * 1024;

/** A state heavier than this share of the budget is not kept: it would push out many others. */
const LARGEST_SHARE = 8;

/**
 * What a block adds to a state's weight besides its output: its place in the graph (id, type,
 * params, edges) and its phase. A rough allowance, not a measure: weights only bound the memory
 * the states may take.
 */
const BLOCK_WEIGHT_BYTES = 1024;

/** A state's weight in bytes, roughly (see `BLOCK_WEIGHT_BYTES`): its outputs, its input and its blocks. */
export function weightOf(state: RunState): number {
  return state.outputBytes + (state.run ? jsonSizeAtLeast(state.run.input) : 0) + state.graph.blocks.size * BLOCK_WEIGHT_BYTES;
}

interface Kept {
  organizationId: string;
  state: RunState;
  weight: number;
}

/**
 * The folded states of the runs read lately on this instance, least recently read first, within
 * `budgetBytes`. A reader of a kept run folds only the events appended since (`RunStore.read`)
 * instead of its whole stream: a run holds up to 10,000 events, and reading one back cost its
 * whole fold on every poll. A state is kept for the organization that read it: asked for by any
 * other, it is not there.
 */
export class FoldedRuns {
  private readonly kept = new Map<string, Kept>();
  private weight = 0;

  constructor(private readonly budgetBytes = FOLDED_RUNS_BUDGET_BYTES) {}

  /** The state kept for `runId` in `organizationId`, now the most recently read; undefined when none is. */
  get(runId: string, organizationId: string): RunState | undefined {
    const entry = this.kept.get(runId);
    if (!entry || entry.organizationId !== organizationId) return undefined;
    this.kept.delete(runId);
    this.kept.set(runId, entry);
    return entry.state;
  }

  /** Keeps (or weighs again) `state`, then lets the least recently read go until the rest fits the budget. */
  keep(runId: string, organizationId: string, state: RunState): void {
    this.forget(runId);
    const weight = weightOf(state);
    if (weight > this.budgetBytes / LARGEST_SHARE) return;
    this.kept.set(runId, { organizationId, state, weight });
    this.weight += weight;
    for (const [oldest] of this.kept) {
      if (this.weight <= this.budgetBytes) break;
      this.forget(oldest);
    }
  }

  forget(runId: string): void {
    const entry = this.kept.get(runId);
    if (!entry) return;
    this.kept.delete(runId);
    this.weight -= entry.weight;
  }

  /** How many states are kept, and what they weigh together. */
  get size(): { runs: number; bytes: number } {
    return { runs: this.kept.size, bytes: this.weight };
  }
}
