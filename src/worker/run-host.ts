import type { RunDecider } from '../domain/run/run.decider';
import type { RunEvent, RunWaitingForEvent } from '../domain/run/run.events';
import type { RunState } from '../domain/run/run.state';
import type { RunPorts } from '../domain/run/run.translate';
import type { StepOutcome } from '../domain/run/step-result';
import type { ExecuteStep } from '../domain/run/run.actions';
import type { RunAppendOptions } from '../runs/run-store';
import type { ClaimedRun } from '../run-queue/run-claims';
import type { Admission } from '../run-queue/run-concurrency';
import type { EventMetadata } from '../event-store/event';
import type { RunHooks } from '../tracing/hook-runner';
import type { AttemptStop } from './attempt-stop';
import type { SignalRequest } from './stored-event-signals';

/** How a held run left its worker. */
export type Settled = 'parked' | 'ended' | 'dropped';

/** A run's stream and queue row, as a held run reads and writes them. */
export interface RunJournal {
  /** The run (of `organizationId`) folded from its whole stream; undefined when it does not exist. */
  load(runId: string, organizationId: string): Promise<RunState | undefined>;
  /** `state` (consumed) with the events recorded after its version folded in. */
  catchUp(state: RunState, runId: string, organizationId: string): Promise<RunState>;
  /** Whether these events are recorded in one statement (the only way a run can be leased at its start). */
  appendsInOneStatement(events: readonly RunEvent[]): boolean;
  /** Appends `events` (already folded into `state`) at `expectedVersion`. */
  append(state: RunState, expectedVersion: number, events: RunEvent[], options: RunAppendOptions): Promise<void>;
  /** Gives the lease back with nothing to record; false when the stream or the lease moved. */
  release(claim: ClaimedRun, version: number, availableAt: Date | null): Promise<boolean>;
  /**
   * A place in the run's concurrency line (`RunAdmitted` recorded and folded into `state`), or
   * the run queued in it with its lease given back, due again at `waitUntil` or when its turn
   * comes; `moved` when the stream moved meanwhile. Throws `LeaseLost` or what the store threw
   * (then `state` may be ahead of the store).
   */
  admit(state: RunState, lease: { owner: string; epoch: number }, metadata: EventMetadata, waitUntil: Date | null): Promise<Admission>;
  /** Organization events published before these waits began, as signals to record next. */
  storedSignals(state: RunState, waits: RunWaitingForEvent[]): Promise<SignalRequest[]>;
}

/** What a held run uses of the worker that holds it. */
export interface RunHost {
  readonly owner: string;
  readonly leaseMs: number;
  readonly decider: RunDecider;
  readonly journal: RunJournal;
  /** The lifecycle hooks (tracing, the embedder's): told of every committed batch. */
  readonly hooks: RunHooks;
  /** Whether the step's connector is pure (`ConnectorConfig.pure`): its batch runs it before it is written. */
  runsInline(step: ExecuteStep): boolean;
  /** Resolves a step's params (when the batch did not) and runs it; never throws. No `stop`: nothing cancels it but its timeout. */
  execute(run: { runId: string; organizationId: string }, step: ExecuteStep, state: RunState, params: Record<string, unknown> | undefined, stop: AttemptStop | undefined): Promise<StepOutcome>;
  /** The ports of one batch, at `now`; resolved params land in `resolved` for the calls. */
  ports(now: Date, resolved: Map<string, Record<string, unknown>>): RunPorts & { jitter01: number };
  /** Reports a failure to reach the database; resolves when it answers again. */
  databaseAway(error: unknown): Promise<void>;
  readonly log: { log(data: object, message: string): void; warn(data: object, message: string): void; error(data: object, message: string): void };
  /**
   * Whether an idle run whose next timer falls at `wakeAt` stays held until then instead of
   * parking: a short sleep or retry back-off then costs no release, claim or re-read.
   */
  holdsIdleUntil(wakeAt: Date): boolean;
  /** A run's timer (held or parked) is due in a few milliseconds (`WakeTimer`): ready the database connection its batch will take. */
  readyForWake(): void;
  /** The run left this worker: parked (with its state, organization and next timer), ended, or dropped. */
  settled(runId: string, how: Settled, parked?: { state: RunState; organizationId: string; wakeAt: Date | undefined }): void;
}
