/** Timers further out than this are left to the poll (the database keeps `available_at`). */
const HORIZON_MS = 10 * 60 * 1000;

/**
 * In-process timers of the runs this worker parked: when one is due, the worker claims that run
 * at once instead of waiting for its next poll. Only a hint — `available_at` in `run_state` is
 * the durable timer, so after a crash any worker picks the run up on its poll.
 */
export class RunTimers {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly due: (runId: string) => void) {}

  schedule(runId: string, at: Date): void {
    this.cancel(runId);
    const delay = at.getTime() - Date.now();
    if (delay > HORIZON_MS) return;
    const timer = setTimeout(() => {
      this.timers.delete(runId);
      this.due(runId);
    }, Math.max(0, delay));
    timer.unref?.();
    this.timers.set(runId, timer);
  }

  cancel(runId: string): void {
    const timer = this.timers.get(runId);
    if (timer) clearTimeout(timer);
    this.timers.delete(runId);
  }

  clear(): void {
    this.timers.forEach((timer) => clearTimeout(timer));
    this.timers.clear();
  }
}
