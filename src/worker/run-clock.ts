import { WakeTimer } from './wake-timer';

/**
 * The clock a held run decides by: the wall clock, except that once a wake was decided ahead of
 * its moment (`ActiveRun.wakeAhead`), nothing is decided as of an earlier one, so what follows that
 * wake is never stamped before it. `untilMoment` is how the run keeps what it decided ahead from
 * beginning early.
 */
export class RunClock {
  private decidedAsOf = 0;

  /** `ready`: the database is readied just before the moment (see `WakeTimer`). */
  constructor(private readonly ready: () => void) {}

  now(): Date {
    return new Date(Math.max(Date.now(), this.decidedAsOf));
  }

  /** From now on, decide as of `at` (a moment a few ms ahead) until it has come. */
  decideAsOf(at: Date): void {
    this.decidedAsOf = Math.max(this.decidedAsOf, at.getTime());
  }

  /** Whether the moment decided as of is still to come (then wait `untilMoment`). */
  ahead(): boolean {
    return this.decidedAsOf > Date.now();
  }

  /**
   * Resolves once the moment decided as of has come: a timer of its own, which nothing else
   * clears, readying the database for the commits that follow.
   */
  untilMoment(): Promise<void> {
    return new Promise((resolve) => new WakeTimer(this.ready).set(new Date(this.decidedAsOf), resolve));
  }
}
