import type { RunLimits } from '../domain/run/run.bounds';
import type { RunEvent, RunWaitingForEvent } from '../domain/run/run.events';
import { StreamVersionConflict } from '../event-store/errors';
import type { Pool } from 'pg';
import { admitRun } from '../domain/run/run.commands';
import type { EventMetadata } from '../event-store/event';
import { admitToLine, lineIdOf, lineMemberOf, type Admission, type PlaceOutcome, type PlaceRequest } from '../run-queue/run-concurrency';
import { runAppendItem } from '../run-queue/run-append';
import { cloneRunState, type RunState } from '../domain/run/run.state';
import { LineGroups } from '../run-queue/line-groups';
import type { RunAppendOptions, RunStore } from '../runs/run-store';
import type { ClaimedRun, RunClaims } from '../run-queue/run-claims';
import type { RunJournal } from './run-host';
import { signalsFromStoredEvents, type SignalRequest } from './stored-event-signals';
import type { WorkerMetrics } from './worker-metrics';

/** The `RunJournal` of a worker: run streams through the `RunStore`, the queue row through `RunClaims`. */
export class StoreJournal implements RunJournal {
  constructor(
    private readonly store: RunStore,
    private readonly claims: RunClaims,
    private readonly pool: Pool,
    private readonly limits: RunLimits,
    /** Told when an append lost the race for its stream version (the run folds again), and of each admission's outcome. */
    private readonly metrics?: Pick<WorkerMetrics, 'appendConflict' | 'admission'>,
  ) {
    this.admissions = new LineGroups(pool, (client, requests) => admitToLine(client, requests, store.channel));
  }

  /** This worker's requests for places in concurrency lines, one transaction per line at a time. */
  private readonly admissions: LineGroups<PlaceRequest, PlaceOutcome>;

  async load(runId: string, organizationId: string): Promise<RunState | undefined> {
    return this.store.load(runId, organizationId);
  }

  catchUp(state: RunState, runId: string, organizationId: string): Promise<RunState> {
    return this.store.catchUp(state, runId, organizationId);
  }

  appendsInOneStatement(events: readonly RunEvent[]): boolean {
    return this.store.appendsInOneStatement(events);
  }

  append(state: RunState, expectedVersion: number, events: RunEvent[], options: RunAppendOptions): Promise<void> {
    return this.store.append(state, expectedVersion, events, options).catch((error: unknown) => {
      if (error instanceof StreamVersionConflict) this.metrics?.appendConflict();
      throw error;
    });
  }

  release(claim: ClaimedRun, version: number, availableAt: Date | null): Promise<boolean> {
    return this.claims.release(claim, version, availableAt);
  }

  async admit(state: RunState, lease: { owner: string; epoch: number }, metadata: EventMetadata, waitUntil: Date | null): Promise<Admission> {
    const member = state.run && lineMemberOf(state.run);
    if (!member) throw new Error('only a run of a concurrency line is admitted');
    // The batch is made on a copy: the state takes `RunAdmitted` only once it is recorded.
    const events = admitRun(state, new Date());
    const after = cloneRunState(state);
    for (const event of events) this.store.decider.evolve(after, event);
    const admitted = runAppendItem(after, state.version, events, { metadata, fence: lease });
    const outcome = await this.admissions.submit(lineIdOf(member), { member, lease, version: state.version, waitUntil, admitted });
    if (outcome instanceof StreamVersionConflict) this.metrics?.appendConflict();
    if (typeof outcome !== 'string') throw outcome;
    this.metrics?.admission(outcome);
    if (outcome === 'admitted') for (const event of events) this.store.decider.evolve(state, event);
    return outcome;
  }

  storedSignals(state: RunState, waits: RunWaitingForEvent[]): Promise<SignalRequest[]> {
    return signalsFromStoredEvents({ pool: this.pool, limits: this.limits }, state, waits);
  }
}
