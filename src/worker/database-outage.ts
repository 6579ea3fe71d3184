/** Where the outage lines go. */
export interface OutageLog {
  warn(data: object, message: string): void;
  log(data: object, message: string): void;
}

export interface OutageOptions {
  /** First probe delay, doubled per failed probe up to `maxDelayMs`; each delay is jittered. */
  minDelayMs: number;
  maxDelayMs: number;
  /** How often a still-running outage is summarised in the log. */
  summaryEveryMs: number;
}

const DEFAULTS: OutageOptions = { minDelayMs: 100, maxDelayMs: 5_000, summaryEveryMs: 30_000 };

interface Down {
  since: number;
  /** Calls that failed because of it, the first one included. */
  failures: number;
  lastSummary: number;
  up: Promise<void>;
  resolve(): void;
}

/**
 * One worker's view of the database being away. Every loop that fails to reach it (a run's
 * append, a claim, a lease renewal) reports here and waits for `whenUp()`, instead of retrying
 * on its own: one probe paces them all with a capped, jittered exponential back-off, so an outage
 * costs one cheap query per interval, not one per held run. It logs one line when the outage
 * starts, a summary every `summaryEveryMs`, and one line when it ends.
 */
export class DatabaseOutage {
  private down: Down | undefined;
  private stopped = false;
  private readonly options: OutageOptions;
  private readonly recovered = new Set<() => void>();

  constructor(
    private readonly probe: () => Promise<unknown>,
    private readonly log: OutageLog,
    options: Partial<OutageOptions> = {},
    private readonly random: () => number = Math.random,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  get isDown(): boolean {
    return this.down !== undefined;
  }

  /** A call failed because the database is away: start the outage, or count one more failure. */
  report(error: unknown): void {
    if (this.stopped) return;
    if (this.down) {
      this.down.failures += 1;
      return;
    }
    let resolve!: () => void;
    const up = new Promise<void>((r) => (resolve = r));
    const now = Date.now();
    this.down = { since: now, failures: 1, lastSummary: now, up, resolve };
    this.log.warn({ err: error }, 'database unreachable: pausing run work until it answers again');
    void this.probeUntilUp(this.down);
  }

  /** Resolves at once when the database is up, else when a probe reaches it again. */
  whenUp(): Promise<void> {
    if (this.stopped) return new Promise(() => undefined); // the worker is gone: nothing resumes
    return this.down?.up ?? Promise.resolve();
  }

  /** Calls `listener` after every outage ends. */
  onRecovered(listener: () => void): void {
    this.recovered.add(listener);
  }

  /** Stops probing (shutdown). */
  stop(): void {
    this.stopped = true;
  }

  private async probeUntilUp(down: Down): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt += 1) {
      await sleep(this.delay(attempt));
      if (this.stopped) break;
      try {
        await this.probe();
      } catch {
        down.failures += 1;
        this.summarise(down);
        continue;
      }
      this.log.log({ downForMs: Date.now() - down.since, failedCalls: down.failures }, 'database reachable again: resuming run work');
      break;
    }
    this.down = undefined;
    down.resolve();
    if (!this.stopped) this.recovered.forEach((listener) => listener());
  }

  private summarise(down: Down): void {
    const now = Date.now();
    if (now - down.lastSummary < this.options.summaryEveryMs) return;
    down.lastSummary = now;
    this.log.warn({ downForMs: now - down.since, failedCalls: down.failures }, 'database still unreachable');
  }

  /** `min × 2^attempt`, capped, then spread over its upper half so workers do not probe in step. */
  private delay(attempt: number): number {
    const { minDelayMs, maxDelayMs } = this.options;
    const base = Math.min(maxDelayMs, minDelayMs * 2 ** Math.min(attempt, 30));
    return Math.round(base * (0.5 + 0.5 * this.random()));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref?.());
}
