import type { Admission } from '../run-queue/run-concurrency';

/**
 * What the run worker reports to metrics, if the app wires a sink (`WORKER_METRICS`). A port of
 * the worker's own: the metrics module implements it, the worker never imports that module.
 */
export interface WorkerMetrics {
  /** One step attempt ran: its connector type, whether it succeeded, and how long it took. */
  stepAttempt(connector: string, ok: boolean, seconds: number): void;
  /** The leases freed because their worker was gone (`RunClaims.reapDead`). */
  leaseTakeovers(runs: number): void;
  /** A batch lost the race for its stream version and is folded again. */
  appendConflict(): void;
  /** A run of a concurrency line asked for a place: admitted, queued, or moved (its batch raced and it folds again). */
  admission(outcome: Admission): void;
  /** How many runs this worker holds, read at scrape time. */
  observeHeldRuns(count: () => number): void;
}

export const WORKER_METRICS = Symbol('WorkerMetrics');
