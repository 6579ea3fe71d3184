/**
 * With this many runs recording at once, the hot path is a burst. Passes give way to it as to any
 * busy hot path (bounded by `maxYieldMs`): a burst's read models are then applied in a few big
 * batches rather than many small ones, each paying its transaction and statements once. Once
 * the burst ends, what it left waiting is applied at once, neither giving way to the work after
 * it nor waiting out the gap: that work is often latency-bound (serial runs, a long chain whose
 * every step waits on what else the thread does), and a backlog held for it until its bound fell
 * whole on it (in the peers harness, a W3 burst of 300, 50 serial runs, then a 100-step chain:
 * the audit sealer's 500 ms bound came due during the chain, 162–184 ms instead of 89 ms alone).
 * Passes that took their share during the burst instead cost it a quarter of its throughput
 * (runtime bench W3 1,568 against 2,161 runs/s) and, with the burst's first pass over HTTP in a
 * fresh process, 8.0–8.1 against 6.0 ms of machine CPU per run, 9.1 against 7.6 ms counting the
 * three seconds after it (docs/benchmark-history.md, twenty-third and twenty-fourth sessions).
 */
const THROUGHPUT_RUNS = 16;

/**
 * A burst lasts until fewer than this many runs are recording at once. Started over HTTP, one
 * request at a time, a burst of 300 W3 runs had 6 to 15 recording for up to ~200 ms at a time
 * between moments at 16 or more (sampled every few ms in the peers harness), and never fewer
 * than 6 until its last runs; the serial runs and a chain after it have one.
 */
const BURST_ENDS_BELOW = 4;

/**
 * ...and only once looks have seen fewer for this long. In process, a burst of 300 W3 runs fell
 * below 4 recording ten times or so for 1-36 ms at a time (41 such lulls in four bursts, probed: the
 * worker's runs end together and the next ones are still being claimed), and each lull "ended"
 * it: what had waited was applied at once, in the middle of the burst. Half of those bursts ran
 * at 612-646 runs/s against 1,132 for the one the lulls spared.
 */
const BURST_ENDS_AFTER_MS = 80;

/**
 * Whether the hot path projection passes give way to (`HotPath`) is in a burst, with hysteresis in
 * both the count and time, and whether changes that waited on a burst have since seen it end: the
 * `SubscriptionRunner` then applies them at once, neither giving way nor waiting out its gap.
 */
export class BurstWatch {
  private bursting = false;
  /** Changes waited on a burst: once it ends, they are applied at once. */
  private waitedOn = false;
  /** When a look in a burst first saw fewer than `BURST_ENDS_BELOW` runs recording (undefined: the last look saw more). */
  private fewSince: number | undefined;
  private lastLookAt = -Infinity;

  constructor(
    private readonly runsRecording: () => number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * Looks at the hot path: in a burst from `THROUGHPUT_RUNS` runs recording at once until looks
   * have seen fewer than `BURST_ENDS_BELOW` for `BURST_ENDS_AFTER_MS`.
   */
  inBurst(): boolean {
    const runs = this.runsRecording();
    const now = this.now();
    // Looks far apart prove nothing about the time between them: few runs are counted from this one.
    if (runs >= BURST_ENDS_BELOW || now - this.lastLookAt > BURST_ENDS_AFTER_MS) this.fewSince = undefined;
    this.lastLookAt = now;
    if (runs >= THROUGHPUT_RUNS) this.bursting = true;
    else if (runs < BURST_ENDS_BELOW && this.bursting) {
      this.fewSince ??= now;
      if (now - this.fewSince >= BURST_ENDS_AFTER_MS) this.bursting = false;
    }
    return this.bursting;
  }

  /** The burst as the last look saw it, without looking again. */
  get lastSeen(): boolean {
    return this.bursting;
  }

  /** Whether changes waited on a burst that has since ended (asked only while changes wait). */
  endedSinceWaiting(): boolean {
    if (this.inBurst()) this.waitedOn = true;
    else if (this.waitedOn) return true;
    return false;
  }

  /** A pass caught up: what a later burst holds back waits on it afresh (unless one is on now). */
  caughtUp(): void {
    if (!this.inBurst()) this.waitedOn = false;
  }
}
