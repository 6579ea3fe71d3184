/**
 * A process's standing periodic tasks: the worker's claim poll, the projections' poll, the audit
 * checkpointer, the failure announcer, the identity listener's beats, lease renewal, sweeps. Most
 * share one period (`THODARE_POLL_INTERVAL_MS`, 1 s) and all start as the application boots, so
 * plain `setInterval`s kept them in step for the life of the process: every second they came due
 * in the same turn of the event loop, and a run in flight then waited behind five statements and
 * their callbacks at once. In the peers harness the slowest of 50 serial runs over HTTP (16.8 and
 * 17.4 ms in two probes, against a median of 5) was, both times, the one that met that turn.
 *
 * Each task started here runs at its own phase of its period instead. The phases follow the
 * golden-ratio sequence (k × 0.618… mod 1): however many tasks a process starts, each new one
 * lands in one of the widest gaps the earlier ones leave, so tasks of one period stay apart
 * (tasks of different periods still meet now and then, one or two at a time, not all at once).
 * The first run comes at the task's phase, never later than a plain interval's first run would.
 */
const GOLDEN_FRACTION = (Math.sqrt(5) - 1) / 2;

let tasksStarted = 0;

/** The `k`th task's phase in a period of `periodMs`: how long after its start its first run comes (ms, in (0, periodMs]). */
export function phaseOf(k: number, periodMs: number): number {
  const fraction = (k * GOLDEN_FRACTION) % 1;
  return fraction === 0 ? periodMs : Math.max(1, Math.floor(fraction * periodMs));
}

/** The phase of the next task this process starts (for a loop that times itself, such as the scheduler's). */
export function nextPhase(periodMs: number): number {
  return phaseOf(tasksStarted++, periodMs);
}

/** A task run every period from its phase on; `stop()` ends it (and a first run not yet come). */
export interface Periodic {
  stop(): void;
}

/**
 * Runs `task` every `periodMs`, first at this process's next phase (`nextPhase`). `unref`: the
 * task alone does not keep the process alive.
 */
export function everyPeriod(periodMs: number, task: () => void, options: { unref?: boolean } = {}): Periodic {
  let interval: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    interval = setInterval(task, periodMs);
    if (options.unref) interval.unref();
    task();
  }, nextPhase(periodMs));
  if (options.unref) first.unref();
  return {
    stop: () => {
      clearTimeout(first);
      clearInterval(interval);
    },
  };
}
