import { Inject, Injectable } from '@nestjs/common';
import { Pool } from 'pg';
import { runHeadOf } from '../run-queue/run-state.queries';
import type { RunState } from '../domain/run/run.state';
import { RunChanges, type RunChange } from './run-changes';

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
/** Re-checks now and then in case a notification was lost. */
export const FALLBACK_CHECK_MS = 1000;

/**
 * Waits for a run to end without polling: woken by this process's commits and by NOTIFY (a run's
 * final append notifies), re-checking `run_state` only when a hint could mean the end.
 */
@Injectable()
export class RunWaiter {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(RunChanges) private readonly changes: RunChanges,
  ) {}

  /**
   * Resolves once the run has ended — with its final state when this process recorded the end —
   * or undefined after `timeoutMs`.
   */
  waitForEnd(runId: string, timeoutMs: number): Promise<{ final?: RunState } | undefined> {
    return new Promise((resolve) => {
      let settled = false;
      let checking = false;
      let recheck = false;
      const finish = (ended: { final?: RunState } | undefined) => {
        if (settled) return;
        settled = true;
        unsubscribe();
        clearTimeout(deadline);
        clearInterval(fallback);
        resolve(ended);
      };
      const check = async () => {
        if (settled) return;
        if (checking) {
          recheck = true;
          return;
        }
        checking = true;
        try {
          do {
            recheck = false;
            // An end this process is still recording is told with its final state (`emit`).
            if ((await this.hasEnded(runId)) && !this.changes.isRecording(runId)) return finish({});
          } while (recheck && !settled);
        } catch {
          // a failed check is retried by the fallback timer
        } finally {
          checking = false;
        }
      };
      const unsubscribe = this.changes.onRun(runId, (_id, change?: RunChange) => {
        if (change?.ended) finish(change.final ? { final: change.final } : {});
        else if (!change) void check();
      });
      const deadline = setTimeout(() => finish(undefined), timeoutMs);
      const fallback = setInterval(() => void check(), FALLBACK_CHECK_MS);
      void check();
    });
  }

  private async hasEnded(runId: string): Promise<boolean> {
    return TERMINAL.has((await runHeadOf(this.pool, runId))?.status ?? '');
  }
}
