import { Inject, Injectable } from '@nestjs/common';
import { jsonSizeAtLeast } from '../domain/json-size';
import { cloneRunState, type RunState } from '../domain/run/run.state';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { RunStore } from './run-store';

/** A state heavier than this share of the budget is not kept: it would push out many others. */
const LARGEST_SHARE = 8;

/**
 * What a block adds to a state's weight besides its output: its place in the graph (id, type,
 * params, edges) and its phase. A rough allowance, not a measure: weights only bound the memory
 * the states may take.
 */
const BLOCK_WEIGHT_BYTES = 1024;

/**
 * A state's weight in bytes, roughly (see `BLOCK_WEIGHT_BYTES`): its outputs and its input as
 * JSON, and its blocks. In memory a state takes more: outputs made of many small objects take two
 * to six times their JSON's size on the heap (measured with `--expose-gc`, 2026-12-06).
 */
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
 * `budgetBytes` (`THODARE_RUN_READ_CACHE_MB`; see `RunReads`). A state is kept for the
 * organization that read it: asked for by any other, it is not there.
 */
export class FoldedRuns {
  private readonly kept = new Map<string, Kept>();
  private weight = 0;

  constructor(private readonly budgetBytes: number) {}

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
    if (this.budgetBytes === 0 || weight > this.budgetBytes / LARGEST_SHARE) return;
    this.kept.set(runId, { organizationId, state, weight });
    this.weight += weight;
    for (const [oldest] of this.kept) {
      if (this.weight <= this.budgetBytes) break;
      this.forget(oldest);
    }
  }

  /** Lets the state of `runId` go (one whose fold threw may be half-changed). */
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

/**
 * Runs as readers see them (`GET /api/runs/:id`, a wait's answer, the approvals inbox) and as API
 * commands find them (`RunCommands`). A run read lately on this instance is caught up from its
 * kept state (`FoldedRuns`) with the events appended since: one indexed read that usually finds
 * none, where a fold of its whole stream (up to 10,000 events) was paid on every poll and every
 * signal. The first read of a run on an instance folds it whole.
 */
@Injectable()
export class RunReads {
  private readonly folded: FoldedRuns;

  constructor(
    @Inject(RunStore) private readonly runs: RunStore,
    @Inject(CONFIG) config: Pick<Config, 'runReadCacheMb'>,
  ) {
    this.folded = new FoldedRuns(config.runReadCacheMb * 1024 * 1024);
  }

  /**
   * The run of this organization, undefined when it does not exist there. The state is shared with
   * the next reads of the run: read it, never change it.
   */
  async read(runId: string, organizationId: string): Promise<RunState | undefined> {
    const kept = this.folded.get(runId, organizationId);
    if (!kept) {
      const state = await this.runs.load(runId, organizationId);
      if (state) this.folded.keep(runId, organizationId, state);
      return state;
    }
    const version = kept.version;
    try {
      const state = await this.runs.catchUp(kept, runId, organizationId);
      if (state.version > version) this.folded.keep(runId, organizationId, state); // weighed again
      return state;
    } catch (error) {
      this.folded.forget(runId);
      throw error;
    }
  }

  /** The run as `read` finds it, as a copy of its own: for a command to decide on and evolve. */
  async copy(runId: string, organizationId: string): Promise<RunState | undefined> {
    const state = await this.read(runId, organizationId);
    return state && cloneRunState(state);
  }

  /**
   * `state` was just committed (a command's copy, evolved with the events it appended): kept in
   * place of an older state, so the next read or command starts from it. A newer one kept
   * meanwhile (a read that caught up past it) stays.
   */
  recorded(runId: string, organizationId: string, state: RunState): void {
    const kept = this.folded.get(runId, organizationId);
    if (!kept || kept.version < state.version) this.folded.keep(runId, organizationId, state);
  }
}
