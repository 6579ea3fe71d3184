import type { Projection } from './projection';

/** Work that projection passes give way to. */
export interface HotPath {
  /** How long it has been quiet (ms; 0 while it works). */
  quietForMs(): number;
}

/**
 * A pass waits until the hot path it gives way to (`yieldTo`: the runs this process records) has
 * been quiet this long, for up to `MAX_YIELD_POLLS` poll intervals. The read models are derived,
 * and a reader who needs one current asks for it (`wanted`) and is served at once; the cores are
 * what a busy worker's runs wait on. The peers harness (a W3 burst, serial runs, a 100-step
 * chain, then S1), Thodare alone, alternated twice with the build before: W3 770-849 against
 * 465-544 runs/s, serial p50 4.0-4.2 against 5.5-6.2 ms, C100 121-129 against 123-149 ms.
 *
 * A burst of runs and the work after it are given way to alike. What a burst leaves (after a W3
 * of 300: 2,481 events, ~0.35 s of machine CPU to project, most of it the audit sealer's) was
 * applied the moment the burst ended, and fell whole on the serial runs after it: each of the
 * 50 cost 12-17 ms of machine CPU instead of 4-6, the slowest 77-99 ms instead of 8-13. It now
 * waits for a quiet moment like any other change, as long as its bound allows (harness, in
 * process, alternated twice with the build before: docs/benchmark-history.md).
 */
const YIELD_QUIET_MS = 25;

/**
 * Under a busy worker a projection gives way for at most this many poll intervals from its oldest
 * change waiting, then runs anyway over everything that waited (fewer, bigger batches, each paying
 * its transaction once): 2 s at the default poll interval. A projection with a freshness target
 * names its own bound (`Projection.maxYieldMs`: the audit sealer's lag stays under 1 s at steady
 * load, issue 11), and a pass its bound forces applies it alone: one runner holds every async
 * projection of a worker, and the sealer's 0.8 s brought the other three with it (after an HTTP
 * burst of W3 runs, onto the serial runs that followed: harness, docs/benchmark-history.md).
 */
const MAX_YIELD_POLLS = 2;

/**
 * Events a batch reads at most while the hot path is busy (a pass its bound forced): a worker's
 * runs then wait behind a slice of the catch-up at a time, not all of it. The audit sealer's
 * catch-up of an HTTP burst of W3 runs (2,400-2,700 events, due as the serial runs after it
 * began) put their p99 at 57-68 ms in one batch, 29-43 ms in slices of 300 (probed three times
 * each), 17.6-19.1 ms in slices of 100 against 28.2-44.8 at 300 (the peers harness over HTTP,
 * three pairs alternated; the same runs without read models: 11-14 ms). A slow serial run then
 * had met a slice's hashing (4-8 ms), its read's parsing (5-9 ms) or both. A slice is a
 * transaction of its own, so a burst's catch-up pays three times the statements; the sealer's lag
 * at 200 appends/s under a busy hot path held (p99 0.80 s, `npm run bench -- audit`).
 */
const BUSY_BATCH_SIZE = 100;

/**
 * Between the slices of a pass its bound forced, the hot path gets this many times the slice's
 * own time (see `pauseAfterSlice`). Back to back, the slices of a burst's catch-up took the
 * process's thread whole while they ran: in the peers harness the audit sealer's catch-up of a W3
 * burst and the serial runs after it (~3,000 events, slices of ~45 ms) came due inside the
 * 100-step chain that follows them, and the chain took 164-441 ms instead of ~90 (in process,
 * three pairs of two alternated with the build before: 111-305 ms at twice a slice's time, and in
 * three more pairs 121-216 ms at four times against 157-271 at twice). Once the hot path is quiet
 * the slices go without pauses (one under way runs out), and under a steady load a pass is one
 * slice: the audit sealer's lag at 200 appends/s stayed at p99 0.77 s (`npm run bench -- audit`).
 */
const SLICE_PAUSE_FACTOR = 4;

/** The projections a pass applies now, and the most events each of their batches may read. */
export interface Due {
  projections: readonly Projection[];
  maxBatch: number;
}

/**
 * How long each projection of a runner gives way to a hot path (`SubscriptionRunner`'s `yieldTo`):
 * per projection, when its oldest change not yet applied was heard of (a notification, or a poll
 * that found work waiting) and its bound on the wait. Each keeps its own bound, so a freshness
 * target holds in a runner of several without hurrying the others along.
 */
export class GivingWay {
  private readonly waitingSince = new Map<Projection, number>();
  private readonly bounds: Map<Projection, number>;

  /** Bounds: `maxYieldMs` for every projection when given, else its own, else `MAX_YIELD_POLLS` of its poll or `pollIntervalMs`. */
  constructor(
    private readonly projections: readonly Projection[],
    private readonly hotPath: HotPath | undefined,
    options: { pollIntervalMs: number; maxYieldMs?: number },
  ) {
    this.bounds = new Map(projections.map((p) => [p, options.maxYieldMs ?? p.maxYieldMs ?? MAX_YIELD_POLLS * (p.pollIntervalMs ?? options.pollIntervalMs)]));
  }

  /** A change was heard of `at`: every projection not yet waiting for one waits from then. */
  heard(at: number): void {
    for (const projection of this.projections) if (!this.waitingSince.has(projection)) this.waitingSince.set(projection, at);
  }

  /** Nothing waits any more (a poll found the store as every projection last left it). */
  clear(): void {
    this.waitingSince.clear();
  }

  get anyWaiting(): boolean {
    return this.waitingSince.size > 0;
  }

  /** When the oldest change any projection waits for was heard of (`now` when none waits). */
  oldestWaiting(now: number): number {
    return Math.min(now, ...this.waitingSince.values());
  }

  /**
   * How much longer passes give way to the hot path (ms; 0 or less: not now): until it has been
   * quiet for `YIELD_QUIET_MS`, but never past a projection's bound from its oldest change waiting.
   */
  yieldMs(now: number): number {
    if (!this.hotPath) return 0;
    return Math.min(YIELD_QUIET_MS - this.hotPath.quietForMs(), ...this.projections.map((p) => this.boundLeft(p, now)));
  }

  /**
   * The projections a pass applies now: every one, in full batches, unless the hot path is busy
   * and no reader asked (`wanted`); then those it has held back for their bound, in slices
   * (`BUSY_BATCH_SIZE`), and those whose bound comes within `gapMs`, the runner's minimum gap
   * between passes: after this pass they would wait out the gap (the audit sealer's lag rose from
   * 0.81-0.83 to 0.91 s p99 when the others' pass went first).
   */
  due(wanted: boolean, gapMs: number, now: number): Due {
    if (wanted || !this.hotPath || this.hotPath.quietForMs() >= YIELD_QUIET_MS) return { projections: this.projections, maxBatch: Infinity };
    const waiting = this.projections.filter((p) => this.waitingSince.has(p));
    const forced = waiting.some((p) => this.boundLeft(p, now) <= 0);
    return { projections: forced ? waiting.filter((p) => this.boundLeft(p, now) <= gapMs) : [], maxBatch: BUSY_BATCH_SIZE };
  }

  /**
   * After a slice of a pass its bound forced: how long to leave the thread and the cores to the
   * hot path before the next slice (ms; 0 while it is quiet). `SLICE_PAUSE_FACTOR` times the
   * slice's time at the bound, shrinking as the most overdue projection's oldest change waiting
   * ages past its bound, to none at twice the bound: a load that never lets up still gets its read
   * models caught up, at full speed once they lag that far.
   */
  pauseAfterSlice(sliceMs: number, now: number): number {
    if (!this.hotPath || this.hotPath.quietForMs() >= YIELD_QUIET_MS) return 0;
    const overdue = Math.max(0, ...this.projections.filter((p) => this.waitingSince.has(p)).map((p) => -this.boundLeft(p, now) / (this.bounds.get(p) || 1)));
    return sliceMs * SLICE_PAUSE_FACTOR * Math.max(0, 1 - overdue);
  }

  /**
   * After a pass: a projection it caught up waits from `heardDuringPass` (if a change came then);
   * one it left behind (gave way with a backlog, was not due, or failed) keeps its oldest change
   * waiting, so its bound still holds.
   */
  settle(caughtUp: ReadonlySet<Projection>, heardDuringPass: number | undefined): void {
    for (const projection of this.projections) {
      if (caughtUp.has(projection)) this.waitingSince.delete(projection);
      if (heardDuringPass !== undefined && !this.waitingSince.has(projection)) this.waitingSince.set(projection, heardDuringPass);
    }
  }

  /** How much longer `projection` may give way (ms; 0 or less: its bound is up), from its oldest change waiting. */
  private boundLeft(projection: Projection, now: number): number {
    return (this.bounds.get(projection) ?? 0) - (now - (this.waitingSince.get(projection) ?? now));
  }
}
