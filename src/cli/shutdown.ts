import { settledOrAfter } from '../settled-or-after';

/** What `onShutdownSignals` stops. */
export interface Stoppable {
  /** Closes the app: the worker drains its steps in flight, then connections close. */
  close(): Promise<void>;
}

/**
 * SIGINT/SIGTERM handling of a Thodare process: the first signal closes the app (steps in
 * flight get `graceMs` to finish and be recorded), then `cleanup` (the embedded database) runs
 * and the process exits 0. The process exits by the deadline whatever hangs — even a database
 * that no longer answers. A second signal exits at once: the worker's leases free themselves
 * (its liveness lock goes with the process).
 */
export function onShutdownSignals(app: Stoppable, options: { graceMs: number; print: (line: string) => void; cleanup?: () => Promise<unknown> }): void {
  const { graceMs, print } = options;
  const cleanup = () => settledOrAfter(Promise.resolve(options.cleanup?.()), 5_000).catch(() => undefined);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      print(`${signal} again: exiting now`);
      await cleanup();
      process.exit(1);
    }
    stopping = true;
    print(`${signal}: shutting down (steps in flight get up to ${graceMs} ms)`);
    const deadline = setTimeout(() => {
      print(`shutdown deadline of ${graceMs} ms passed: exiting`);
      void cleanup().then(() => process.exit(1));
    }, graceMs);
    await app.close().catch(() => undefined);
    await cleanup();
    clearTimeout(deadline);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}
