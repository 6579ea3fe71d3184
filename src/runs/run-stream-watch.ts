import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Pool } from 'pg';
import { RunChanges } from './run-changes';

/** The step path of a worker in another process does not notify: this is how late its events may show. */
const FALLBACK_POLL_MS = 1000;

/** One open stream: the last version it has sent, and how to wake it. */
export interface RunWatcher {
  after(): number;
  wake(): void;
}

/**
 * Wakes open run streams (SSE) when their run changes, so an idle stream costs no reads. Hints
 * (this process's commits, NOTIFY of other processes' starts, signals, cancels and ends) wake a
 * stream at once; for the rest, one query every `FALLBACK_POLL_MS` reads the version of every
 * watched run and wakes the streams behind it: one transaction per interval, however many
 * streams are open, none when no stream is.
 */
@Injectable()
export class RunStreamWatch implements OnApplicationShutdown {
  private readonly runs = new Map<string, { watchers: Set<RunWatcher>; unsubscribe: () => void }>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(RunChanges) private readonly changes: RunChanges,
  ) {}

  /** Wakes `watcher` whenever run `runId` may have events after `watcher.after()`; returns the unwatch function. */
  watch(runId: string, watcher: RunWatcher): () => void {
    let run = this.runs.get(runId);
    if (!run) {
      const watchers = new Set<RunWatcher>();
      const unsubscribe = this.changes.onRun(runId, (_id, change) => {
        watchers.forEach((w) => {
          if (!change || change.version > w.after()) w.wake();
        });
      });
      this.runs.set(runId, (run = { watchers, unsubscribe }));
    }
    run.watchers.add(watcher);
    this.schedule();
    return () => {
      const current = this.runs.get(runId);
      if (!current?.watchers.delete(watcher) || current.watchers.size > 0) return;
      current.unsubscribe();
      this.runs.delete(runId);
    };
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => void this.poll(), FALLBACK_POLL_MS);
  }

  private async poll(): Promise<void> {
    try {
      const runIds = [...this.runs.keys()];
      if (runIds.length === 0) return;
      const { rows } = await this.pool.query<{ run_id: string; stream_version: number }>(
        'SELECT run_id, stream_version FROM run_state WHERE run_id = ANY($1::text[])',
        [runIds],
      );
      for (const row of rows) {
        this.runs.get(row.run_id)?.watchers.forEach((w) => {
          if (row.stream_version > w.after()) w.wake();
        });
      }
    } catch {
      // a failed poll is retried at the next interval (a database outage is reported elsewhere)
    } finally {
      this.timer = undefined;
      if (this.runs.size > 0) this.schedule();
    }
  }
}
