/**
 * How one attempt is stopped (cancellation, lease loss, timeout): its work is raced against the
 * stop, so a connector that ignores its signal cannot hold the run, and the connector's
 * `AbortSignal` is made only when the connector reads it. Most steps never do, and an
 * `AbortController` with the listeners of a race cost ~16 µs a step, a tenth of a pure step's CPU.
 * The run that holds the attempt makes its stop and stops it directly (`ActiveRun.launch`): an
 * `AbortController` of its own per call, listened to for the attempt's span, cost another 6-10 µs
 * a step (a loop of 10,000 on this machine, against 0.06 µs for the stop alone).
 */
export class AttemptStop {
  private controller: AbortController | undefined;
  private stopped: { reason: unknown } | undefined;
  private reject: ((reason: unknown) => void) | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.stopped) this.controller.abort(this.stopped.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.stopped) return;
    this.stopped = { reason };
    this.controller?.abort(reason);
    this.reject?.(reason);
  }

  /** `work`, or a rejection with the stop's reason as soon as the attempt is stopped. */
  race<T>(work: Promise<T>): Promise<T> {
    if (this.stopped) return Promise.reject(this.stopped.reason);
    return new Promise<T>((resolve, reject) => {
      this.reject = reject;
      work.then(resolve, reject);
    });
  }
}
