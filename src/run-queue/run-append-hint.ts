import { AsyncLocalStorage } from 'node:async_hooks';
import type { RunState } from '../domain/run/run.state';

/**
 * What the writer of a run batch tells the `run_state` projection, through the async context of
 * its `append` call: the folded state after the batch (so the projection never re-folds the
 * stream on the hot path), and for the worker its lease — the projection's UPDATE only matches
 * while the lease epoch is still the worker's, so a zombie worker's append rolls back.
 */
export interface RunAppendHint {
  streamId: string;
  /** The run state after the batch; its `version` is the stream version after the append. */
  state: RunState;
  /** The worker's lease: the append fails with {@link LeaseLost} once another claim happened. */
  fence?: { owner: string; epoch: number };
  /** The worker parks the run (or it ended): clear the lease in the same transaction. */
  release?: boolean;
}

const context = new AsyncLocalStorage<RunAppendHint>();

/** Runs `append` with `hint` visible to the run projections. */
export function withRunAppendHint<T>(hint: RunAppendHint, append: () => Promise<T>): Promise<T> {
  return context.run(hint, append);
}

/** The hint of the append in progress, if it concerns `streamId`. */
export function runAppendHint(streamId: string): RunAppendHint | undefined {
  const hint = context.getStore();
  return hint?.streamId === streamId ? hint : undefined;
}

/**
 * Thrown inside a worker's append when its lease epoch is no longer the run's: another worker
 * claimed the run. The append rolls back; the worker drops the run.
 */
export class LeaseLost extends Error {
  readonly code = 'lease_lost';
  constructor(readonly runId: string) {
    super(`the lease on run ${runId} was taken over by another worker`);
  }
}
