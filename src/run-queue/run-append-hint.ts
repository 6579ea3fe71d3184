import type { RunState } from '../domain/run/run.state';
import type { AppendHint } from '../event-store/projection';

/**
 * What the writer of a run batch tells the `run_state` projection with its append: the folded
 * state after the batch (so the projection never re-folds the stream on the hot path), and for
 * the worker its lease — the projection's UPDATE only matches while the lease epoch is still the
 * worker's, so a zombie worker's append rolls back.
 */
export interface RunAppendHint extends AppendHint {
  readonly kind: 'run';
  /** The run state after the batch; its `version` is the stream version after the append. */
  readonly state: RunState;
  /** The worker's lease: the append fails with {@link LeaseLost} once another claim happened. */
  readonly fence?: { owner: string; epoch: number };
  /** The worker parks the run (or it ended): clear the lease in the same transaction. */
  readonly release?: boolean;
}

/** `hint` when it is a run batch's and concerns `streamId`. */
export function runAppendHint(hint: AppendHint | undefined, streamId: string): RunAppendHint | undefined {
  return hint?.kind === 'run' && hint.streamId === streamId ? (hint as RunAppendHint) : undefined;
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
