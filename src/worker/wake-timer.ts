/** The longest delay a Node timer holds (2^31 - 1 ms, ~24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * How long before a timer's moment the machine is readied for it (`ready`). On an idle machine
 * the first timer and the first statement after a second of quiet both ran late: measured on
 * this project's 2-core VM, a 1 s timer fired 1.8–1.9 ms late and the commit after it took
 * 2.3–2.7 ms; with a `SELECT 1` sent a few ms ahead and a short timer for the rest, 0.3–1.0 ms
 * and 1.2–1.5 ms (docs/benchmark-history.md, twenty-second session).
 */
export const READY_LEAD_MS = 4;

/**
 * A timer for the moment a run is due, that readies the machine just before it: it calls
 * `ready` READY_LEAD_MS ahead, then fires `fire` once `Date.now()` has reached the moment —
 * never before, so what the run decides then finds its timer due. `aheadMs` moves the moment
 * that early (a held run decides a clock-only wake ahead, as of its moment: `ActiveRun`). A
 * moment further out than a Node timer holds is reached in several timers (Node would fire such
 * a timer after 1 ms).
 */
export class WakeTimer {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly ready: () => void) {}

  set(at: Date, fire: () => void, aheadMs = 0): void {
    this.clear();
    this.approach(at.getTime() - aheadMs, fire);
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private approach(at: number, fire: () => void): void {
    const lead = at - Date.now() - READY_LEAD_MS;
    if (lead <= 0) return this.finish(at, fire);
    this.timer = setTimeout(() => {
      if (at - Date.now() > READY_LEAD_MS) return this.approach(at, fire);
      this.ready();
      this.finish(at, fire);
    }, Math.min(MAX_TIMER_MS, lead));
    this.timer.unref?.();
  }

  private finish(at: number, fire: () => void): void {
    this.timer = setTimeout(() => {
      if (Date.now() < at) return this.finish(at, fire);
      this.timer = undefined;
      fire();
    }, Math.max(0, at - Date.now()));
    this.timer.unref?.();
  }
}
