import { WakeTimer } from './wake-timer';

/** Timers further out than this are left to the poll (the database keeps `available_at`). */
const HORIZON_MS = 10 * 60 * 1000;

/**
 * In-process timers of the runs this worker parked: when one is due, the worker claims that run
 * at once instead of waiting for its next poll. Only a hint — `available_at` in `run_state` is
 * the durable timer, so after a crash any worker picks the run up on its poll.
 */
export class RunTimers {
  private readonly timers = new Map<string, WakeTimer>();

  /** `ready`: a timer is due in a few milliseconds (see `WakeTimer`). */
  constructor(
    private readonly due: (runId: string, organizationId: string) => void,
    private readonly ready: () => void,
  ) {}

  schedule(runId: string, organizationId: string, at: Date): void {
    this.cancel(runId);
    if (at.getTime() - Date.now() > HORIZON_MS) return;
    const timer = new WakeTimer(this.ready);
    timer.set(at, () => {
      this.timers.delete(runId);
      this.due(runId, organizationId);
    });
    this.timers.set(runId, timer);
  }

  cancel(runId: string): void {
    this.timers.get(runId)?.clear();
    this.timers.delete(runId);
  }

  clear(): void {
    this.timers.forEach((timer) => timer.clear());
    this.timers.clear();
  }
}
