import type { ExecuteStep } from '../domain/run/run.actions';
import type { RunEvent, RunWaitingForEvent } from '../domain/run/run.events';
import type { RunState, RunStatus } from '../domain/run/run.state';
import type { EventMetadata } from '../event-store/event';
import { fastAppendApplies } from '../runs/run-append';
import type { StepReport } from '../domain/run/step-result';
import { StreamVersionConflict } from '../event-store/errors';
import { LeaseLost } from '../projections/run-append-hint';
import { availableAt } from '../projections/run-state.projection';
import type { RunHost } from './run-host';
import type { ClaimedRun } from './run-claims';
import { resolveBlockParams, runPorts } from './run-ports';
import { signalsFromStoredEvents, type SignalRequest } from './stored-event-signals';

interface Batch {
  events: RunEvent[];
  execute: ExecuteStep[];
  terminal: boolean;
  waits: RunWaitingForEvent[];
  release: boolean;
}

/** How a held run left this worker. */
export type Settled = 'parked' | 'ended' | 'dropped';

const RETRY_DELAYS_MS = [50, 200, 1000, 5000];

/**
 * A run this worker holds the lease of. It keeps the folded state in memory (folded once per
 * claim, then advanced in O(1) per event), executes ready blocks concurrently, and records each
 * step transition — results, retries, skips, the next attempts' starts, the end — as one append
 * at the expected version, fenced by the lease epoch. One pump at a time per run: results that
 * arrive while an append is in flight are recorded together in the next one.
 */
export class ActiveRun {
  readonly runId: string;
  private state: RunState | undefined;
  private readonly calls = new Map<string, { attempt: number; controller: AbortController }>();
  private reports: StepReport[] = [];
  private signals: SignalRequest[] = [];
  private readonly resolved = new Map<string, Record<string, unknown>>();
  private readonly ports;
  private dirty = false;
  private needsReact = false;
  private refold = false;
  private busy = false;
  private closed = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private wakeAt: Date | undefined;

  constructor(
    private readonly host: RunHost,
    private readonly claim: ClaimedRun,
    private readonly cached: RunState | undefined,
  ) {
    this.runId = claim.runId;
    this.ports = runPorts(host.catalog, host.templateEnv, this.resolved);
  }

  /** Folds (or catches the cached state up), re-executes attempts owed since a crash, plays on. */
  async start(): Promise<void> {
    this.busy = true;
    try {
      const cached = this.cached;
      const inline = this.claim.events;
      if (cached && cached.version <= this.claim.streamVersion) {
        this.state = cached.version === this.claim.streamVersion ? cached : await this.host.store.catchUp(cached, this.runId);
      } else if (inline && inline.length > 0) {
        // The claim's snapshot may predate the row's newest version: catch up the difference.
        const folded = this.host.decider.fold(inline);
        this.state = folded.version < this.claim.streamVersion ? await this.host.store.catchUp(folded, this.runId) : folded;
      } else {
        this.state = (await this.host.store.load(this.runId))?.state;
      }
      if (!this.state) return this.close('dropped');
      for (const step of this.host.decider.resume(this.state)) this.launch(step);
      this.needsReact = true;
    } catch (error) {
      this.host.log.warn({ err: error, runId: this.runId }, 'could not load a claimed run');
      this.refold = true;
    } finally {
      this.busy = false;
    }
    await this.pump();
  }

  /**
   * A run handed over at its start (see `RunHandoff`): `RunStarted` and what the run owes at once
   * are recorded in one commit that also takes the lease. Undefined (nothing written) when that
   * batch cannot be one statement.
   */
  async startFresh(state: RunState, startEvents: RunEvent[], metadata: EventMetadata): Promise<RunStatus | undefined> {
    this.busy = true;
    try {
      this.state = state;
      const batch = this.decide(state, [], []);
      const events = [...startEvents, ...batch.events];
      if (!fastAppendApplies(events)) return this.discard();
      try {
        await this.host.store.append(state, 0, events, {
          metadata,
          notify: batch.terminal,
          release: batch.release,
          lease: { owner: this.host.owner, ms: this.host.leaseMs },
        });
      } catch (error) {
        this.discard();
        throw error;
      }
      for (const step of batch.execute) this.launch(step);
      if (batch.terminal) this.close('ended');
      else if (batch.release) this.close('parked');
      return state.status;
    } finally {
      this.busy = false;
      if (!this.closed && (this.dirty || this.reports.length > 0)) void this.pump();
    }
  }

  /** New events may be in the stream (a signal, a cancel): catch up and react. */
  wake(version?: number): void {
    if (this.closed || (version !== undefined && this.state && version <= this.state.version)) return;
    this.dirty = true;
    void this.pump();
  }

  /** The lease is gone (another worker took over, or shutdown): stop without writing anything. */
  drop(): void {
    if (this.closed) return;
    this.abortCalls('lease lost');
    this.close('dropped');
  }

  get version(): number | undefined {
    return this.state?.version;
  }

  private async pump(): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      while (!this.closed && (this.refold || this.dirty || this.needsReact || this.reports.length > 0 || this.signals.length > 0)) {
        if (this.refold) {
          this.refold = false;
          this.state = (await this.host.store.load(this.runId))?.state;
          if (!this.state) return this.close('dropped');
          this.needsReact = true;
        }
        if (this.dirty) {
          this.dirty = false;
          this.state = await this.host.store.catchUp(this.state!, this.runId);
          this.needsReact = true;
        }
        await this.advance();
      }
      if (!this.closed && this.calls.size === 0) await this.park();
      this.failures = 0;
    } catch (error) {
      this.retryLater(error);
    } finally {
      this.busy = false;
    }
    if (!this.closed && (this.dirty || this.reports.length > 0)) void this.pump();
  }

  /** Records the results in hand and everything that follows from them, in one append. */
  private async advance(): Promise<void> {
    const state = this.state!;
    const reports = this.reports;
    const signals = this.signals;
    this.reports = [];
    this.signals = [];
    this.needsReact = false;
    const before = state.version;
    let batch: Batch;
    try {
      batch = this.decide(state, reports, signals);
      if (batch.events.length === 0) return;
      await this.host.store.append(state, before, batch.events, {
        metadata: this.host.metadata,
        notify: batch.terminal,
        fence: { owner: this.host.owner, epoch: this.claim.epoch },
        release: batch.release,
      });
    } catch (error) {
      // The state ran ahead of the store: fold again, then replay what was not recorded (a result
      // that was recorded meanwhile is stale by then and ignored, never recorded twice).
      this.reports.unshift(...reports);
      this.signals.unshift(...signals);
      if (error instanceof LeaseLost) return this.drop();
      this.refold = true;
      if (error instanceof StreamVersionConflict) return;
      throw error;
    }
    for (const step of batch.execute) this.launch(step);
    if (batch.terminal) {
      this.abortCalls('run ended');
      return this.close('ended');
    }
    if (batch.waits.length > 0) this.signals.push(...(await signalsFromStoredEvents(this.host, state, batch.waits)));
    if (batch.release) this.close('parked');
  }

  /** Plays signals and results into the state (consumed) and decides what follows. */
  private decide(state: RunState, reports: StepReport[], signals: SignalRequest[]): Batch {
    const decider = this.host.decider;
    const ports = this.ports(new Date());
    const events: RunEvent[] = [];
    const execute: ExecuteStep[] = [];
    for (const request of signals) {
      for (const event of request(state, ports.now)) {
        decider.evolve(state, event);
        events.push(event);
      }
    }
    for (const report of reports) {
      const transition = decider.onStepResult(state, report, ports);
      events.push(...transition.events);
      execute.push(...transition.execute);
    }
    const last = decider.react(state, ports);
    events.push(...last.events);
    execute.push(...last.execute);
    this.setWake(last.wakeAt);
    const terminal = decider.isTerminal(state);
    const idle = !terminal && this.calls.size === 0 && execute.length === 0;
    const waits = events.filter((e): e is RunWaitingForEvent => e.type === 'RunWaitingForEvent');
    // A run that just began waiting for an event keeps its lease until the stored events were
    // looked up (see signalsFromStoredEvents); otherwise an idle run parks in the same commit.
    return { events, execute, terminal, waits, release: terminal || (idle && waits.length === 0) };
  }

  /** Nothing running and nothing owed: give the lease back unless the stream moved meanwhile. */
  private async park(): Promise<void> {
    const state = this.state!;
    const released = await this.host.claims.release(this.claim, state.version, availableAt(state, new Date()));
    if (released) this.close('parked');
    else this.dirty = true;
  }

  private launch(step: ExecuteStep): void {
    const state = this.state!;
    const controller = new AbortController();
    this.calls.set(step.blockId, { attempt: step.attempt, controller });
    let params = this.resolved.get(step.blockId);
    this.resolved.delete(step.blockId);
    const run = { runId: this.runId, organizationId: this.claim.organizationId };
    const outcome = (async () => {
      params ??= resolveBlockParams(state, step.blockId, this.host.templateEnv);
      return this.host.executor.execute(run, step, params, controller.signal);
    })().catch((error: unknown) => ({ ok: false as const, error: { code: 'step_failed', message: String(error), retryable: true } }));
    void outcome.then((result) => {
      if (this.calls.get(step.blockId)?.controller === controller) this.calls.delete(step.blockId);
      if (this.closed) return;
      this.reports.push({ blockId: step.blockId, attempt: step.attempt, outcome: result });
      void this.pump();
    });
  }

  private abortCalls(reason: string): void {
    for (const call of this.calls.values()) call.controller.abort(new Error(reason));
    this.calls.clear();
  }

  /** While the lease is held, a due retry or timer of one branch must not wait for another's step. */
  private setWake(wakeAt: Date | undefined): void {
    clearTimeout(this.timer);
    this.wakeAt = wakeAt;
    if (!wakeAt || this.closed) return;
    this.timer = setTimeout(() => {
      this.needsReact = true;
      void this.pump();
    }, Math.max(0, wakeAt.getTime() - Date.now()));
  }

  private retryLater(error: unknown): void {
    const delay = RETRY_DELAYS_MS[Math.min(this.failures, RETRY_DELAYS_MS.length - 1)]!;
    this.failures += 1;
    this.refold = true;
    this.host.log.warn({ err: error, runId: this.runId, retryInMs: delay }, 'run step failed to record; retrying');
    setTimeout(() => void this.pump(), delay);
  }

  /** Forgets a run that was never recorded (no lease, nothing to settle). */
  private discard(): undefined {
    this.closed = true;
    clearTimeout(this.timer);
    return undefined;
  }

  private close(how: Settled): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    this.host.settled(this, how, how === 'parked' ? this.state : undefined, this.wakeAt);
  }
}
