import { setImmediate as nextTurn } from 'node:timers/promises';
import { AttemptStop } from './attempt-stop';
import { dueByClockAlone } from '../domain/run/run.decide';
import type { ExecuteStep } from '../domain/run/run.actions';
import type { RunEvent, RunStarted } from '../domain/run/run.events';
import type { RunState, RunStatus } from '../domain/run/run.state';
import type { StepOutcome } from '../domain/run/step-result';
import { classifyDatabaseError } from '../database/pg-errors';
import { StreamVersionConflict } from '../event-store/errors';
import type { EventMetadata } from '../event-store/event';
import { LeaseLost } from '../run-queue/run-append-hint';
import { availableAt } from '../run-queue/run-state.projection';
import type { ClaimedRun } from '../run-queue/run-claims';
import type { Admission } from '../run-queue/run-concurrency';
import type { RunHost, Settled } from './run-host';
import { decideBatch, followedBy, rejectedBatch, type Batch, type Message } from './run-batch';
import { RunClock } from './run-clock';
import { WakeTimer } from './wake-timer';

/** A run's first batch, prepared for whoever writes its `RunStarted` (`ActiveRun.prepareFresh`). */
export interface FreshStart {
  state: RunState;
  /** `RunStarted`, then what the run owes at once (its first attempts' starts). */
  events: RunEvent[];
  batch: Batch;
}

/** The run's loop: one batch at a time. */
type Loop =
  | { kind: 'idle' }
  | { kind: 'working' }
  | { kind: 'waiting' } // for the database to answer, or a back-off
  | { kind: 'closed'; how: Settled };

/**
 * What the worker knows of the run. `unknown`: the state may have run ahead of the store (a failed
 * append), fold it again; `rejected` says the store refused the last batch for its content.
 */
type Knowledge = { kind: 'folded'; state: RunState } | { kind: 'unknown'; rejected?: string };

const BACKOFF_MS = [50, 200, 1000, 5000];
/**
 * Bounds on the steps a batch runs inline (see `RunHost.runsInline`) before it is written: its
 * events, and the time since the batch was decided. Past either, the batch is written and the
 * rest of the chain follows in the next one, so a long chain still commits progress regularly.
 * The time is a backstop for slow pure steps, far above what a few transforms take even on a
 * loaded machine (at 50 ms, a W3 run in a busy test process was sometimes cut in two commits).
 */
const INLINE_MAX_EVENTS = 128;
const INLINE_MAX_MS = 1_000;

/**
 * How far ahead of its moment a held run decides and records a wake that is due by the clock
 * alone (`dueByClockAlone`: a sleep's end, a retry): its batch is stamped with the moment and
 * its calls start at the moment, never before. The wake's commit (1.2–2.7 ms on this project's
 * VM, more on a cold CPU) then lies inside the sleep instead of after it. A crash in those
 * milliseconds leaves the attempt owed, as a crash after any attempt's start does (whoever takes
 * the run over calls it); a reader may see the next step running that much before its moment.
 */
export const DECIDE_AHEAD_MS = 8;

/**
 * A run this worker holds the lease of: a mailbox (results, signals, wake-ups) drained one batch
 * at a time. Each batch folds what is new, records every step transition that follows — results,
 * retries, skips, the next attempts' starts, the end — as ONE append at the expected version,
 * fenced by the lease epoch, then starts the calls it decided. `draining` (shutdown) records the
 * results of the calls in flight without starting anything new, then lets the run go.
 */
export class ActiveRun {
  readonly runId: string;
  private loop: Loop = { kind: 'idle' };
  private known: Knowledge = { kind: 'unknown' };
  private mode: 'playing' | 'draining' = 'playing';
  private mailbox: Message[] = [];
  private readonly calls = new Map<string, { attempt: number; stop: AttemptStop }>();
  private readonly resolved = new Map<string, Record<string, unknown>>();
  private failures = 0;
  private readonly timer: WakeTimer;
  private wakeAt: Date | undefined;
  private readonly clock: RunClock;
  /** Every worker append names the worker process: the audit trail shows who recorded each step. */
  private readonly metadata: EventMetadata;

  constructor(
    private readonly host: RunHost,
    private readonly claim: ClaimedRun,
  ) {
    this.runId = claim.runId;
    this.metadata = { actor: { type: 'system', id: `worker:${host.owner}` } };
    const ready = () => host.readyForWake();
    this.timer = new WakeTimer(ready);
    this.clock = new RunClock(ready);
  }

  /** Starts from the state this worker kept when it parked the run, or the claim's events, or the store. */
  start(cached: RunState | undefined): void {
    const inline = this.claim.events;
    const state = cached && cached.version <= this.claim.streamVersion ? cached : inline?.length ? this.host.decider.fold(inline) : undefined;
    if (state) {
      this.known = { kind: 'folded', state };
      if (state.version < this.claim.streamVersion) this.mailbox.push({ kind: 'moved' });
    }
    this.mailbox.push({ kind: 'claimed' });
    void this.pump();
  }

  /**
   * A run handed over at its start (see `RunHandoff`): `RunStarted` and what the run owes at once
   * are recorded in one commit that also takes the lease (see `prepareFresh` for a first batch
   * that cannot be one statement). `checkWorkflow`: see `RunAppendOptions.checkWorkflow`.
   */
  async startFresh(started: RunStarted, metadata: EventMetadata, checkWorkflow: boolean): Promise<RunStatus> {
    const first = await this.prepareFresh(started);
    try {
      await this.host.journal.append(first.state, 0, first.events, { metadata, notify: first.batch.terminal, release: first.batch.release, lease: this.lease, checkWorkflow });
    } catch (error) {
      this.dropFresh();
      throw error;
    }
    this.launchFresh(first);
    return first.state.status;
  }

  /** The lease a run handed over at its start is written with (epoch 1). */
  get lease(): { owner: string; ms: number } {
    return { owner: this.host.owner, ms: this.host.leaseMs };
  }

  /**
   * The first batch of a run handed over at its start, for its writer to record with `RunStarted`
   * and the lease; then `launchFresh` once written, or `dropFresh` if not. Its pure steps have run
   * (`decideInline`): a run of pure steps alone is recorded whole, with its start. When that batch
   * cannot be one statement (a wait for an event or an approval begins, or the run fails at once),
   * `RunStarted` goes alone, with the lease, and the batch is decided again as the run's next
   * (its pure steps run again): before, such a run went through the queue, a claim and a read of
   * its stream. Until the launch the run's loop waits: what arrives meanwhile is played after it.
   */
  async prepareFresh(started: RunStarted): Promise<FreshStart> {
    const state = this.host.decider.fold([started]);
    this.loop = { kind: 'working' };
    const batch = await this.decideInline(state, []);
    const events = [started, ...batch.events];
    if (!this.host.journal.appendsInOneStatement(events)) {
      const alone = this.host.decider.fold([started]);
      this.known = { kind: 'folded', state: alone };
      this.mailbox.push({ kind: 'due' });
      return { state: alone, events: [started], batch: { events: [], execute: [], terminal: false, waits: [], release: false } };
    }
    // Known before the append: the append's own change hint (`wake`) then finds it already
    // folded, rather than sending the run back to the store for events it wrote itself.
    this.known = { kind: 'folded', state };
    return { state, events, batch };
  }

  /** The first batch is written: start its calls. */
  launchFresh(first: FreshStart): void {
    if (this.loop.kind !== 'working') return;
    this.loop = { kind: 'idle' };
    this.settle(first.batch, first.state);
    if (first.batch.admit) this.mailbox.push({ kind: 'due' }); // its place is asked for next
    if (this.mailbox.length > 0) void this.pump();
  }

  /** The first batch was not written (or its outcome is unknown): forget the run. */
  dropFresh(): void {
    if (this.loop.kind === 'closed') return;
    this.loop = { kind: 'closed', how: 'dropped' };
    this.timer.clear();
  }

  /** New events may be in the stream (a signal, a cancel): catch up and react. */
  wake(version?: number): void {
    if (this.loop.kind === 'closed') return;
    if (version !== undefined && this.known.kind === 'folded' && version <= this.known.state.version) return;
    this.post({ kind: 'moved' });
  }

  /** Shutdown: record the calls in flight, start nothing new, then give the run back. */
  drain(): void {
    this.mode = 'draining';
    this.timer.clear();
    this.post({ kind: 'due' });
  }

  /** The lease is gone (another worker took over, or the deadline passed): stop without writing. */
  drop(): void {
    if (this.loop.kind === 'closed') return;
    this.abortCalls('lease lost');
    this.close('dropped');
  }

  get version(): number | undefined {
    return this.known.kind === 'folded' ? this.known.state.version : undefined;
  }

  private post(message: Message): void {
    this.mailbox.push(message);
    void this.pump();
  }

  /** Runs batches until the mailbox is empty; one pump at a time (`loop`). */
  private async pump(): Promise<void> {
    if (this.loop.kind !== 'idle') return;
    this.loop = { kind: 'working' };
    let failed = false;
    let failure: unknown;
    try {
      await this.work();
      this.failures = 0;
    } catch (error) {
      failed = true;
      failure = error;
    }
    if (this.loop.kind === 'working') this.loop = { kind: 'idle' };
    if (failed) this.recover(failure);
    else if (this.isOpen() && this.mailbox.length > 0) void this.pump();
  }

  private async work(): Promise<void> {
    while (this.isOpen() && (this.mailbox.length > 0 || this.known.kind === 'unknown')) {
      const messages = this.mailbox.splice(0);
      try {
        const synced = await this.sync(messages);
        if (!synced) return this.close('dropped');
        await this.record(synced.state, messages, synced.rejected);
      } catch (error) {
        this.mailbox.unshift(...messages.filter((m) => m.kind === 'result' || m.kind === 'signal'));
        throw error;
      }
    }
    if (this.isOpen() && this.calls.size === 0 && !this.heldUntilWake()) await this.park();
  }

  /** Idle, but its timer is due soon and the worker keeps it held until then (see `RunHost.holdsIdleUntil`). */
  private heldUntilWake(): boolean {
    return this.mode === 'playing' && this.wakeAt !== undefined && this.host.holdsIdleUntil(this.wakeAt);
  }

  /** The state with everything recorded folded in; re-executes what a claim owes. */
  private async sync(messages: Message[]): Promise<{ state: RunState; rejected?: string } | undefined> {
    const journal = this.host.journal;
    const known = this.known;
    let state: RunState | undefined;
    const organizationId = this.claim.organizationId;
    if (known.kind === 'unknown') state = await journal.load(this.runId, organizationId);
    else state = messages.some((m) => m.kind === 'moved') ? await journal.catchUp(known.state, this.runId, organizationId) : known.state;
    if (!state) return undefined;
    this.known = { kind: 'folded', state };
    // After a claim, or a fold from scratch (an append whose outcome is unknown may have committed
    // attempt starts), the attempts recorded as started but not running here are owed.
    if (known.kind === 'unknown' || messages.some((m) => m.kind === 'claimed')) {
      const reported = (step: ExecuteStep) => messages.some((m) => m.kind === 'result' && m.report.blockId === step.blockId && m.report.attempt === step.attempt);
      for (const step of this.host.decider.resume(state)) if (!this.calls.has(step.blockId) && !reported(step)) this.launch(step, state);
    }
    return known.kind === 'unknown' && known.rejected !== undefined ? { state, rejected: known.rejected } : { state };
  }

  /**
   * Records the messages' results and signals and everything that follows, in one append. A batch
   * that the inline bounds cut short of a chain of pure steps (`playsAhead`) is written while the
   * chain plays on into the next batch in the same state (the write has taken what it needs of
   * it), and the next batch is written once this one is: the store's commit and this process's
   * steps overlap instead of taking turns (a 1,000-step chain of transforms is ~16 batches).
   * Nothing is lost if a write fails: the run is folded again from the store, and pure steps run
   * again as if they had never run.
   */
  private async record(state: RunState, messages: Message[], rejected: string | undefined): Promise<void> {
    let before = state.version;
    let batch = rejected === undefined ? await this.decideInline(state, messages) : rejectedBatch(this.host.decider, state, rejected, new Date());
    if (batch.admit && batch.events.length === 0) return this.admit(state, batch.wakeAt);
    for (;;) {
      if (batch.events.length === 0) return;
      // Decided ahead of its moment (`wakeAhead`), a batch is recorded early only for the calls it
      // starts; one that starts none (the run's end, a new sleep) is recorded at the moment, so no
      // one learns of it before.
      if (batch.execute.length === 0 && this.clock.ahead()) await this.clock.untilMoment();
      const ahead = this.playsAhead(batch);
      const versionAfter = state.version;
      // The write takes what it reads of the state before it returns (`RunStore.append`), so the
      // chain plays on in the same state. A copy for each batch cost as much as the run's blocks
      // and outputs, and a chain of n steps made n / 64 of them (C4000: a quarter of its CPU).
      // Settled into a value at once: a failed write must not go unhandled while the chain plays on.
      const writing = this.write(state, before, batch, rejected).then(
        (done) => ({ done }),
        (error: unknown) => ({ error }),
      );
      let next: Batch | undefined;
      try {
        if (ahead) next = await this.playAhead(state, batch);
      } catch (error) {
        this.known = { kind: 'unknown' }; // played partly ahead of anything written
        await writing;
        throw error;
      }
      const outcome = await writing;
      if ('error' in outcome) throw outcome.error;
      if (!outcome.done) return;
      // Nothing a batch decided ahead starts may begin before the moment.
      if (this.clock.ahead()) {
        await this.clock.untilMoment();
        if (!this.isOpen()) return;
      }
      // Played ahead, the batch's steps already ran: nothing of it is left to start. The state is
      // then past the batch, which waits for nothing (`playsAhead`): the hooks read the run's identity.
      this.settle(ahead ? { ...batch, execute: [] } : batch, state);
      if (batch.waits.length > 0 && this.isOpen()) {
        for (const request of await this.host.journal.storedSignals(state, batch.waits)) this.mailbox.push({ kind: 'signal', request });
      }
      if (!next || !this.isOpen()) return;
      before = versionAfter;
      batch = next;
    }
  }

  /**
   * Asks for a place in the run's concurrency line: admitted, the run plays on at once; none free,
   * it is queued and let go (due again at `waitUntil`, its deadline, or when its turn comes).
   */
  private async admit(state: RunState, waitUntil: Date | undefined): Promise<void> {
    let admission: Admission;
    try {
      admission = await this.host.journal.admit(state, { owner: this.host.owner, epoch: this.claim.epoch }, this.metadata, waitUntil ?? null);
    } catch (error) {
      this.known = { kind: 'unknown' };
      if (error instanceof LeaseLost) return this.drop();
      if (error instanceof StreamVersionConflict) throw new Refold();
      throw error;
    }
    if (admission === 'queued') return this.close('parked');
    this.mailbox.push({ kind: admission === 'admitted' ? 'due' : 'moved' });
  }

  /**
   * Writes one batch of `state` (folded up to its end) at `before`, reading the state before it
   * returns (`RunStore.append`); false when the failure was handled here (dropped, or refused for
   * its content).
   */
  private async write(state: RunState, before: number, batch: Batch, rejected: string | undefined): Promise<boolean> {
    try {
      await this.host.journal.append(state, before, batch.events, {
        metadata: this.metadata,
        notify: batch.terminal,
        fence: { owner: this.host.owner, epoch: this.claim.epoch },
        release: batch.release,
      });
      return true;
    } catch (error) {
      this.known = { kind: 'unknown' };
      if (error instanceof LeaseLost) {
        this.drop();
        return false;
      }
      if (error instanceof StreamVersionConflict) throw new Refold();
      if (classifyDatabaseError(error) === 'content' && rejected === undefined) {
        // The same batch would fail on every try: end the run instead (its results are lost with it).
        this.host.log.error({ err: error, runId: this.runId }, 'the store refused a run batch for its content; ending the run');
        this.known = { kind: 'unknown', rejected: error instanceof Error ? error.message : String(error) };
        return false;
      }
      throw error;
    }
  }

  /** A batch cut short in a chain of pure steps: only pure steps to start, nothing else running or waited for. */
  private playsAhead(batch: Batch): boolean {
    return (
      this.mode === 'playing' &&
      !batch.terminal &&
      !batch.release &&
      batch.waits.length === 0 &&
      this.calls.size === 0 &&
      batch.execute.length > 0 &&
      batch.execute.every((step) => this.host.runsInline(step))
    );
  }

  /** Runs the batch's pure steps on `state` (consumed) and decides what follows, as the next batch. */
  private async playAhead(state: RunState, batch: Batch): Promise<Batch> {
    return this.decideInline(state, await this.runInline(batch.execute, state));
  }

  /** Runs pure steps at once (no abort signal: nothing else runs meanwhile), their results as messages. */
  private runInline(steps: readonly ExecuteStep[], state: RunState): Promise<Message[]> {
    return Promise.all(steps.map(async (step): Promise<Message> => ({ kind: 'result', report: { blockId: step.blockId, attempt: step.attempt, outcome: await this.call(step, state) } })));
  }

  /** After a committed batch: start its calls, and end or park the run when it says so. */
  private settle(batch: Batch, state: RunState): void {
    this.host.hooks.recorded(this.runId, state, batch.events);
    for (const step of batch.execute) this.launch(step, state);
    if (batch.terminal) {
      this.abortCalls('run ended');
      this.logEnd(state);
      this.close('ended');
    } else if (batch.release) this.close('parked');
  }

  /**
   * `decide`, then the steps of pure connectors it starts run at once and their results are
   * decided into the same batch, again and again (within `INLINE_MAX_EVENTS` and `INLINE_MAX_MS`):
   * a chain of transforms is recorded by one append instead of one per step. Nothing is lost by
   * running them before their start is written: a pure step has no effect outside its result, so
   * if the batch is never written they run again, as if they had never run. Steps of other
   * connectors are started only after the append that records their start (`settle`).
   */
  private async decideInline(state: RunState, messages: Message[]): Promise<Batch> {
    const began = performance.now();
    let batch = this.decide(state, messages);
    for (let round = 0; this.mode === 'playing' && !batch.terminal && batch.events.length < INLINE_MAX_EVENTS && performance.now() - began < INLINE_MAX_MS; round += 1) {
      const inline = batch.execute.filter((step) => this.host.runsInline(step));
      if (inline.length === 0) break;
      // Pure steps settle in microtasks: without a turn of the event loop between rounds, a long
      // chain would hold up every other run of the worker (their results, their commits).
      if (round > 0) await nextTurn();
      const later = batch.execute.filter((step) => !inline.includes(step));
      batch = followedBy(batch, this.decide(state, await this.runInline(inline, state), later.length), later);
    }
    return batch;
  }

  /** Plays signals and results into the state (consumed) and decides what follows; `starting`: calls this batch starts besides those already running. */
  private decide(state: RunState, messages: Message[], starting = 0): Batch {
    const ports = this.host.ports(this.clock.now(), this.resolved);
    const context = { mode: this.mode, callsInFlight: this.calls.size + starting, retrying: this.failures > 0, holdsIdleUntil: (at: Date) => this.host.holdsIdleUntil(at) };
    const batch = decideBatch(this.host.decider, state, messages, ports, context);
    if (this.mode === 'playing') this.setWake(batch.wakeAt);
    return batch;
  }

  /** Nothing running and nothing owed: give the lease back unless the stream moved meanwhile. */
  private async park(): Promise<void> {
    if (this.known.kind !== 'folded') return;
    const state = this.known.state;
    const released = await this.host.journal.release(this.claim, state.version, availableAt(state, new Date()));
    if (released) this.close('parked');
    else this.mailbox.push({ kind: 'moved' });
  }

  /** A batch could not be written: fold again, wait for the database, or back off. */
  private recover(error: unknown): void {
    if (!this.isOpen()) return;
    if (error instanceof Refold) {
      void this.pump();
      return;
    }
    this.loop = { kind: 'waiting' };
    if (classifyDatabaseError(error) === 'unavailable') {
      void this.host.databaseAway(error).then(() => this.resume());
      return;
    }
    const delay = BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)]!;
    this.failures += 1;
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.host.log.warn({ err: error, runId: this.runId, failures: this.failures, retryInMs: delay }, 'could not record a run batch; retrying');
    }
    setTimeout(() => void this.resume(), delay);
  }

  private resume(): Promise<void> {
    if (this.loop.kind !== 'waiting') return Promise.resolve();
    this.loop = { kind: 'idle' };
    return this.pump();
  }

  private launch(step: ExecuteStep, state: RunState): void {
    const stop = new AttemptStop();
    this.calls.set(step.blockId, { attempt: step.attempt, stop });
    void this.call(step, state, stop).then((outcome) => {
      if (this.calls.get(step.blockId)?.stop === stop) this.calls.delete(step.blockId);
      if (this.isOpen()) this.post({ kind: 'result', report: { blockId: step.blockId, attempt: step.attempt, outcome } });
    });
  }

  /** One attempt of `step`, with the params its batch resolved; without `stop` (an inline step: nothing else runs meanwhile), only its timeout stops it. */
  private call(step: ExecuteStep, state: RunState, stop?: AttemptStop): Promise<StepOutcome> {
    const params = this.resolved.get(step.blockId);
    this.resolved.delete(step.blockId);
    return this.host.execute({ runId: this.runId, organizationId: this.claim.organizationId }, step, state, params, stop);
  }

  private abortCalls(reason: string): void {
    for (const call of this.calls.values()) call.stop.abort(new Error(reason));
    this.calls.clear();
  }

  /** While the lease is held, a due retry or timer of one branch must not wait for another's step. */
  private setWake(wakeAt: Date | undefined): void {
    this.timer.clear();
    this.wakeAt = wakeAt;
    if (!wakeAt || !this.isOpen()) return;
    this.timer.set(wakeAt, () => this.wakeAhead(wakeAt), DECIDE_AHEAD_MS);
  }

  /**
   * `DECIDE_AHEAD_MS` before the moment: a run at rest (nothing running, nothing unread) whose
   * moment is due by the clock alone decides it now, as of the moment; any other waits for it.
   */
  private wakeAhead(at: Date): void {
    const atRest = this.loop.kind === 'idle' && this.calls.size === 0 && this.mailbox.length === 0;
    if (atRest && this.known.kind === 'folded' && dueByClockAlone(this.known.state, at)) {
      this.clock.decideAsOf(at);
      this.post({ kind: 'due' });
    } else this.timer.set(at, () => this.post({ kind: 'due' }));
  }

  /** The one line per run end (its start is logged by `StartRunHandler`): ids, status, duration; never payloads. */
  private logEnd(state: RunState): void {
    const startedAt = state.run ? Date.parse(state.run.startedAt) : NaN;
    const durationMs = state.endedAt && Number.isFinite(startedAt) ? Date.parse(state.endedAt) - startedAt : undefined;
    this.host.log.log({ runId: this.runId, workflowId: state.run?.workflowId, status: state.status, durationMs }, 'run ended');
  }

  private isOpen(): boolean {
    return this.loop.kind !== 'closed';
  }

  private close(how: Settled): void {
    if (this.loop.kind === 'closed') return;
    this.loop = { kind: 'closed', how };
    this.timer.clear();
    const parked = how === 'parked' && this.known.kind === 'folded' ? { state: this.known.state, organizationId: this.claim.organizationId, wakeAt: this.wakeAt } : undefined;
    this.host.settled(this.runId, how, parked);
  }
}

/** A concurrent append came first: the batch's messages go back to the mailbox and the state is folded again. */
class Refold extends Error {
  constructor() {
    super('the stream moved: fold again');
  }
}
