import { Injectable } from '@nestjs/common';
import type { RunEvent, RunStarted } from '../domain/run/run.events';
import type { RunState, RunStatus } from '../domain/run/run.state';
import type { EventMetadata } from '../event-store/event';

/** A worker in this process that can take a run at its start. */
export interface LocalRunner {
  /**
   * Records `RunStarted` with everything the run owes at once (its first attempts' starts), leased
   * to this worker, in one commit, then runs it; answers the run's status after that commit.
   * Undefined (nothing written) when it has no free slot or the batch needs more than the
   * one-statement append; the caller then appends `RunStarted` alone and a worker claims the run.
   * `checkWorkflow`: see `RunAppendOptions.checkWorkflow` (it may throw `WorkflowMoved`).
   */
  tryStart(started: RunStarted, metadata: EventMetadata, checkWorkflow: boolean): Promise<RunStatus | undefined>;
  /**
   * Takes a run whose `RunStarted` a caller writes in its own transaction, when a slot is free
   * now: the caller writes the answer's `events` instead, with its `lease` (or `release`), then
   * calls `launch` once the transaction committed or `abandon` if it did not. Undefined when
   * there is no free slot or the batch needs more than the one-statement append.
   */
  reserve(started: RunStarted): Promise<ReservedStart | undefined>;
  /** Whether this worker holds run `runId` now: its end is then told in process (`RunChanges`). */
  holds(runId: string): boolean;
}

/** A run reserved by this process's worker at its start (`LocalRunner.reserve`). */
export interface ReservedStart {
  /** `RunStarted`, then what the run owes at once (its first attempts' starts). */
  events: RunEvent[];
  /** The run's state after `events`. */
  state: RunState;
  /** The first batch already lets the run go (it parks or ends): written without the lease. */
  release: boolean;
  lease: { owner: string; ms: number };
  launch(): void;
  abandon(): void;
}

/**
 * The in-process hand-off between the start command and this process's worker (`thodare start`,
 * embedded use): a run started where a worker has a free slot skips the NOTIFY round trip, the
 * claim and the re-read. The worker registers itself; without one, runs go through the queue.
 */
@Injectable()
export class RunHandoff {
  private runner: LocalRunner | undefined;

  register(runner: LocalRunner | undefined): void {
    this.runner = runner;
  }

  async tryStart(started: RunStarted, metadata: EventMetadata, checkWorkflow: boolean): Promise<RunStatus | undefined> {
    return this.runner?.tryStart(started, metadata, checkWorkflow);
  }

  async reserve(started: RunStarted): Promise<ReservedStart | undefined> {
    return this.runner?.reserve(started);
  }

  holds(runId: string): boolean {
    return this.runner?.holds(runId) ?? false;
  }
}
