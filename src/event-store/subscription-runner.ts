import { classifyDatabaseError } from '../database/pg-errors';
import type { Pool } from 'pg';
import type { Projection } from './projection';
import { parseWanted, wantedChannel } from './checkpoints';
import { CATCH_UP_BYTES, type EventPage } from './event';
import { ProjectionBatches } from './projection-batches';
import type { EventStore } from './event-store';
import type { Notifier } from './notifier';
import { ProjectionFailures } from './projection-failures';
import { GivingWay, type HotPath } from './giving-way';
import { everyPeriod, type Periodic } from '../periodic';

export interface SubscriptionRunnerOptions {
  /**
   * Poll fallback: the longest a lost notification can delay a projection. A projection that asks
   * for a shorter one (`Projection.pollIntervalMs`, a freshness target) gets it.
   */
  pollIntervalMs: number;
  /** Events a batch reads at most, unless its projection names its own (default `BATCH_SIZE`). */
  batchSize?: number;
  /** Bytes of event data and metadata, as stored, a batch reads past its first event (default `CATCH_UP_BYTES`). */
  batchBytes?: number;
  /** Attempts at one event before it is parked and the projection moves past it. */
  maxAttempts?: number;
  log?: (message: string, error?: unknown) => void;
  /** Notifications within this long of the last pass's end wait for it to pass (see `wake`). */
  minPassGapMs?: number;
  /** Even after a quiet spell, a notification's pass waits this long (see `QUIET_PASS_DELAY_MS`). */
  quietPassDelayMs?: number;
  /** Work the passes give way to (see `GivingWay`): in a worker process, its runs' appends. */
  yieldTo?: HotPath;
  /**
   * The longest any projection's passes give way for, from the first change it waits to apply
   * (default: each projection's own `Projection.maxYieldMs`, else see `GivingWay`).
   */
  maxYieldMs?: number;
}

/**
 * Under a stream of notifications (every run's end notifies), passes start at most this often:
 * one pass then applies many runs' events in one transaction instead of each run's in its own —
 * a pass costs about seven statements and a commit per projection whatever it applies, and those
 * commits and the JavaScript they run compete with the run hot path for the same cores. A lone
 * notification after a quiet spell is still applied at once, and so is a reader's request
 * (`CheckpointWaiter`: the "wanted" channel), so the gap bounds only how stale a read model may be
 * that nobody waits for. 250 ms against 50: serial W3 runs 5.1–5.4 → 4.5–4.6 ms, 8.8–9.8 → 7.9–8.1
 * ms of machine CPU per run (the projections' passes, a quarter as many).
 */
const MIN_PASS_GAP_MS = 250;

/**
 * A notification after a quiet spell still waits this long for its pass. A commit that notifies
 * is usually a run's end, and what comes next is often the caller's next run: a pass at once took
 * the cores and a commit of its own right then (the audit sealer's seven statements landed on the
 * next run's start and first step, each commit of which took 2.0-3.5 ms instead of 1.0-1.2).
 * Serial S1 runs (a step, a 1 s sleep, a step), probed eight at a time and alternated twice:
 * total − 1 s p50 11.7-12.6 ms at once, 9.0-9.3 ms with 25 ms. A reader who waits for a projection
 * is still served at once (`wanted`).
 */
const QUIET_PASS_DELAY_MS = 25;

/**
 * Events a batch reads at most. A batch costs a transaction and a handful of statements per
 * projection whatever its size (the audit sealer's: one read and two writes), so bigger batches
 * apply faster; and projections that read alike share one read of them per pass. After a W3
 * burst of 300 (2,400 events) every projection applies it in one batch.
 */
const BATCH_SIZE = 5000;

/** First retry when committed events wait behind an open transaction; doubles up to the poll interval. */
const HELD_BACK_RETRY_MS = 10;

/** What one pass over the projections found. */
interface PassResult {
  progressed: boolean;
  /** Some batch left events committed behind it (its count or its bytes were full). */
  backlog: boolean;
  /** Committed events it could not read yet: an older transaction was still open. */
  heldBack: boolean;
  /** The projections whose batch came back short: each read everything committed below the horizon. */
  caughtUp: Set<Projection>;
}

/**
 * What a poll compares before it runs a pass: the newest event in commit order and this runner's
 * checkpoints. An event committed later always changes the first (a pass that found nothing held
 * back read below every transaction then open, so anything committed after has a newer
 * transaction id), and a rebuild elsewhere changes the second.
 */
const STORE_STATE_SQL = `SELECT
  (SELECT transaction_id::text || '/' || global_position FROM events ORDER BY transaction_id DESC, global_position DESC LIMIT 1) AS newest,
  (SELECT string_agg(name || '=' || transaction_id::text || '/' || global_position, ',' ORDER BY name) FROM projection_checkpoints WHERE name = ANY($1)) AS checkpoints`;

/**
 * Runs async projections in catch-up loops, and decides when their passes run. Each projection's
 * batch is one transaction (`ProjectionBatches`), so its rows and its checkpoint never disagree
 * and every event is applied exactly once, in order. Passes wait out a quiet delay, a minimum gap
 * and a busy hot path they give way to (`yieldTo`), each bounded. Woken by NOTIFY, by every
 * listener reconnect, and by a poll timer. An event committed while an older transaction is
 * still open cannot be read yet (its notification may already have come): the runner then
 * retries shortly, backing off to the poll interval, so a run's final event is projected
 * promptly. Awaited projections announce each checkpoint (`notifyProgress`).
 */
export class SubscriptionRunner {
  private timer: Periodic | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** The last pass could not reach the database (logged once per outage). */
  private databaseAway = false;
  /** The held-back retry: its timer while one is due, and its current delay (0: none yet). */
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private lastPassEndedAt = -Infinity;
  /** When a change was first heard of while a pass ran (it waits for the next pass). */
  private heardDuringPass: number | undefined;
  /** The pass waiting for its time was a poll's (`poll`): it first asks whether anything changed. */
  private deferredPoll = false;
  /** A reader asked for a pass (`wanted`): the next one does not wait out the gap. */
  private urgent = false;
  /** The store's state (`STORE_STATE_SQL`) when a polled pass last left every projection caught up. */
  private caughtUpAt: string | undefined;
  private gapTimer: NodeJS.Timeout | undefined;
  private readonly failures: ProjectionFailures;
  private readonly batches: ProjectionBatches;
  /** The poll: the options', or the most frequent one a projection asks for. */
  private readonly pollIntervalMs: number;
  /** How long each projection gives way to the hot path (`yieldTo`), and which are due. */
  private readonly givingWay: GivingWay;

  constructor(
    private readonly pool: Pool,
    private readonly store: EventStore,
    private readonly projections: readonly Projection[],
    private readonly notifier: Notifier | undefined,
    private readonly options: SubscriptionRunnerOptions,
  ) {
    this.failures = new ProjectionFailures(options.maxAttempts ?? 5, options.log);
    this.batches = new ProjectionBatches(pool, store, this.failures, options.batchSize ?? BATCH_SIZE, options.batchBytes ?? CATCH_UP_BYTES);
    // One runner for several projections polls as often as the most demanding asks, and each keeps
    // its own bound: a freshness target holds without hurrying the others along.
    this.pollIntervalMs = Math.min(options.pollIntervalMs, ...projections.map((p) => p.pollIntervalMs ?? Infinity));
    this.givingWay = new GivingWay(projections, options.yieldTo, options);
  }

  async start(): Promise<void> {
    for (const p of this.projections) {
      await this.pool.query('INSERT INTO projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING', [p.name]);
    }
    if (this.notifier) {
      await this.notifier.listen(this.store.channel, () => this.wake());
      await this.notifier.listen(wantedChannel(this.store.channel), (payload) => {
        const name = parseWanted(payload);
        if (this.projections.some((p) => p.name === name)) this.wanted();
      });
      this.notifier.onConnect(() => this.wake());
    }
    // The poll keeps the held-back back-off going: a long-open transaction must not reset it.
    this.timer = everyPeriod(this.pollIntervalMs, () => this.poll());
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.stop();
    clearTimeout(this.retryTimer);
    clearTimeout(this.gapTimer);
    await this.running;
  }

  /**
   * Runs passes while one finds a backlog (a full batch) in the projections due (`due`: all of
   * them in a pass a reader asked for). A short batch read everything committed below the
   * horizon, so the next pass waits for a wake-up (notification, poll, held-back retry) instead
   * of spinning: under a steady stream of appends a tight loop would apply them a few at a time,
   * paying a transaction per handful (the audit sealer cost appenders a quarter of their
   * throughput that way). What it reports: the last batch of each projection it applied.
   */
  private async catchUp(wanted: boolean): Promise<PassResult> {
    const caughtUp = new Set<Projection>();
    for (;;) {
      const began = performance.now();
      const due = this.givingWay.due(wanted, this.options.minPassGapMs ?? MIN_PASS_GAP_MS, began);
      const result = await this.pass(due.projections, due.maxBatch);
      for (const projection of due.projections) {
        if (result.caughtUp.has(projection)) caughtUp.add(projection);
        else caughtUp.delete(projection);
      }
      if (!result.backlog || due.projections.length === 0 || this.stopped) return { ...result, caughtUp };
      // A slice under a busy hot path: the next waits its turn (`GivingWay.pauseAfterSlice`).
      const ended = performance.now();
      const pause = due.maxBatch === Infinity ? 0 : this.givingWay.pauseAfterSlice(ended - began, ended);
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  /** Whether passes wait now for the hot path (`yieldTo`) to go quiet (never for a reader's pass). */
  private givesWay(): boolean {
    return !this.urgent && this.givingWay.yieldMs(performance.now()) > 0;
  }

  /** Runs passes until one finds nothing to do. Tests and `rebuild` use it to wait. */
  async drain(): Promise<PassResult> {
    for (;;) {
      const result = await this.pass(this.projections);
      if (!result.progressed) return result;
    }
  }

  /**
   * A notification or a reconnect: catch up once the quiet delay, or the minimum gap since the
   * last pass, is over, and restart the held-back back-off.
   */
  wake(): void {
    this.deferredPoll = false;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryDelayMs = 0;
    this.runAfterGap();
  }

  /** A reader waits for one of these projections: a pass now (or right after the one in flight), gap or not. */
  wanted(): void {
    this.urgent = true;
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
    this.run();
  }

  private runAfterGap(): void {
    if (this.stopped) return;
    if (this.gapTimer) return;
    this.givingWay.heard(performance.now());
    const wait = this.urgent ? 0 : this.passDelay();
    if (wait <= 0) return this.run(this.deferredPoll);
    this.gapTimer = setTimeout(() => {
      this.gapTimer = undefined;
      this.runAfterGap();
    }, wait);
  }

  /**
   * How much longer a pass waits (ms; 0 or less: none): the quiet delay from the first change it
   * applies, the minimum gap from the last pass, and the hot path it gives way to, for as long as
   * that stays busy but never past a projection's bound (`GivingWay`).
   */
  private passDelay(): number {
    const now = performance.now();
    const waited = now - this.givingWay.oldestWaiting(now);
    const quiet = (this.options.quietPassDelayMs ?? QUIET_PASS_DELAY_MS) - waited;
    const gap = this.lastPassEndedAt + (this.options.minPassGapMs ?? MIN_PASS_GAP_MS) - now;
    return Math.max(quiet, gap, this.givingWay.yieldMs(now));
  }

  /**
   * The poll's pass, unless it gives way to a busy hot path: a step's append notifies nobody, so
   * the poll is what finds it, and under a busy worker its pass comes once the worker is quiet or
   * a projection's oldest change would wait longer than its bound.
   */
  private poll(): void {
    if (!this.options.yieldTo || this.running) return this.run(true);
    if (this.gapTimer) return; // a pass is due already, and gives way too
    this.givingWay.heard(Math.min(performance.now(), this.lastPassEndedAt));
    if (this.passDelay() <= 0) return this.run(true);
    this.deferredPoll = true;
    this.runAfterGap();
  }

  /**
   * A pass. `poll`: the poll timer's, which first asks whether anything changed since a polled pass
   * found every projection caught up, so an idle runner costs one statement a poll rather than a
   * transaction and a few statements per projection (and collides less with the next run's work).
   */
  private run(poll = false): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      this.heardDuringPass ??= performance.now();
      return;
    }
    this.running = (async () => {
      const wanted = this.urgent;
      this.again = false;
      this.urgent = false;
      this.deferredPoll = false;
      const state = poll ? await this.storeState() : undefined;
      if (state !== undefined && state === this.caughtUpAt && !this.again) {
        this.givingWay.clear();
        this.running = undefined;
        return;
      }
      const result = await this.catchUp(wanted).then((r) => this.reachable(r), (error: unknown) => this.failedPass(error));
      const everyOne = result?.caughtUp.size === this.projections.length;
      if (state !== undefined) this.caughtUpAt = everyOne && !result?.heldBack && !this.failures.any ? state : undefined;
      this.givingWay.settle(result?.caughtUp ?? new Set(), this.heardDuringPass);
      this.heardDuringPass = undefined;
      this.lastPassEndedAt = performance.now();
      this.running = undefined;
      // Asked again meanwhile, or some projection still waits (gave way with a backlog, or was not
      // due): after the gap, like a notification.
      if ((this.again || this.givingWay.anyWaiting) && !this.stopped) this.runAfterGap();
      else if (result?.heldBack) this.retryHeldBack();
    })();
  }

  /** The store's state as a poll compares it; undefined when it cannot be read (the pass then runs and reports). */
  private async storeState(): Promise<string | undefined> {
    const { rows } = await this.pool
      .query<{ newest: string | null; checkpoints: string | null }>({ name: 'thodare-projection-poll', text: STORE_STATE_SQL, values: [this.projections.map((p) => p.name)] })
      .catch(() => ({ rows: [] }));
    const row = rows[0];
    return row ? `${row.newest ?? ''}|${row.checkpoints ?? ''}` : undefined;
  }

  /** A pass failed: an outage is logged once (and once when it ends), anything else every time. */
  private failedPass(error: unknown): undefined {
    if (classifyDatabaseError(error) !== 'unavailable') this.options.log?.('projection pass failed', error);
    else if (!this.databaseAway) this.options.log?.('database unreachable: projections paused until it answers', error);
    this.databaseAway ||= classifyDatabaseError(error) === 'unavailable';
    return undefined;
  }

  private reachable(result: PassResult): PassResult {
    if (this.databaseAway) this.options.log?.('database reachable again: projections resumed');
    this.databaseAway = false;
    return result;
  }

  private retryHeldBack(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryDelayMs = this.retryDelayMs ? Math.min(this.pollIntervalMs, this.retryDelayMs * 2) : HELD_BACK_RETRY_MS;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.givesWay()) this.runAfterGap();
      else this.run();
    }, this.retryDelayMs);
  }

  /**
   * One batch of at most `maxBatch` events for each of `projections`. Projections at the same
   * checkpoint (the steady state: they all follow the same appends) share one read of the events:
   * each read returns every column of every event, and four projections reading alike cost four
   * times the database's output and this process's parsing. A shared read stays valid for the
   * projections after the first: it stopped below the oldest transaction then open, and whatever
   * commits later sorts after it.
   */
  private async pass(projections: readonly Projection[], maxBatch = Infinity): Promise<PassResult> {
    const result: PassResult = { progressed: false, backlog: false, heldBack: false, caughtUp: new Set() };
    const reads = new Map<string, EventPage>();
    for (const projection of projections) {
      if (this.stopped) return { progressed: false, backlog: false, heldBack: false, caughtUp: new Set() };
      const limit = Math.min(this.batches.sizeOf(projection), maxBatch);
      const batch = await this.batches.apply(projection, reads, limit);
      result.progressed ||= batch.read > 0;
      if (batch.more) result.backlog = true;
      else result.caughtUp.add(projection);
      result.heldBack ||= batch.heldBack;
    }
    return result;
  }
}
