import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { Pool } from 'pg';
import { endedRunIds } from '../run-queue/run-state.queries';
import type { RunState } from '../domain/run/run.state';
import { runDetails, type RunDetails } from './get-run.query';
import { RunChanges, type RunChange } from './run-changes';
import { RunHandoff } from './run-handoff';
import { HeldRequests } from '../http/held-requests';
import { MAX_WAIT_MS } from './runs.schemas';

/** Set on an answer whose `?waitMs=` wait was skipped (the organization holds its limit of held requests): `skipped`. */
export const WAIT_HEADER = 'x-thodare-wait';
/** The routes' documentation of it. */
export const WAIT_SKIPPED_NOTE =
  'A wait is a held request: when the organization already holds THODARE_MAX_HELD_REQUESTS_PER_ORG of them on this instance (open run streams, NDJSON exports, waits), the answer comes at once, as without waitMs, with the header `X-Thodare-Wait: skipped`.';

/**
 * Re-checks now and then in case a notification was lost: only runs this process's worker does
 * not hold, whose ends come over NOTIFY (a held run's end is told in process, and nothing of it
 * can be lost on the way; if the worker gives it up, it is no longer held and is checked).
 */
export const FALLBACK_CHECK_MS = 1000;

type Ended = { final?: RunState };

/**
 * Waits for runs to end without polling each: woken by this process's commits and by NOTIFY (a
 * run's final append notifies), re-checking `run_state` only when a hint could mean the end, and
 * once a second in case a notification was lost. The checks of every waiter go out together:
 * one statement for all the runs due a look (at most one in flight), however many requests wait;
 * a run this process's worker holds needs no look at all.
 */
@Injectable()
export class RunWaiter implements OnModuleDestroy {
  /** The runs waited for, each with its waiters. */
  private readonly waiting = new Map<string, Set<(ended: Ended) => void>>();
  /** Runs to look up at the next check. */
  private readonly due = new Set<string>();
  private scheduled = false;
  private checking = false;
  private again = false;
  private fallback: NodeJS.Timeout | undefined;

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(RunChanges) private readonly changes: RunChanges,
    @Inject(RunHandoff) private readonly handoff: RunHandoff,
    @Inject(HeldRequests) private readonly held: HeldRequests,
  ) {}

  /**
   * Resolves once the run has ended — with its final state when this process recorded the end —
   * or undefined after `timeoutMs`.
   */
  waitForEnd(runId: string, timeoutMs: number): Promise<Ended | undefined> {
    const final = this.changes.recentEnd(runId);
    if (final) return Promise.resolve({ final });
    return new Promise((resolve) => {
      let settled = false;
      const finish = (ended: Ended | undefined) => {
        if (settled) return;
        settled = true;
        unsubscribe();
        clearTimeout(deadline);
        this.forget(runId, finish);
        resolve(ended);
      };
      const unsubscribe = this.changes.onRun(runId, (_id, change?: RunChange) => {
        if (change?.ended) finish(change.final ? { final: change.final } : {});
        else if (!change) this.checkSoon(runId);
      });
      const deadline = setTimeout(() => finish(undefined), timeoutMs);
      this.add(runId, finish);
      // It may have ended elsewhere before this waiter listened; not a run this process's worker
      // holds (a start handed over here, the commonest wait): its end is told here. That spares
      // a serial `?waitMs=` start a statement of its own.
      if (!this.handoff.holds(runId)) this.checkSoon(runId);
    });
  }

  /**
   * What `?waitMs=` answers (a start's and a run read's): the run once it has ended, waiting at
   * most `waitMs` (capped at `MAX_WAIT_MS`; 0 waits not at all). From its final state when this
   * process recorded the end, else from `read`; no `run` when it did not end in time. A wait is a
   * held request (`HeldRequests`): past the organization's limit it is `skipped`, and the answer
   * comes at once, as without `waitMs`.
   */
  async endedRun(organizationId: string, runId: string, waitMs: number, read: () => Promise<RunDetails>): Promise<{ run?: RunDetails; skipped?: true }> {
    const ms = Math.min(waitMs, MAX_WAIT_MS);
    if (ms <= 0) return {};
    const release = this.held.tryHold(organizationId);
    if (!release) return { skipped: true };
    const ended = await this.waitForEnd(runId, ms).finally(release);
    if (!ended) return {};
    return { run: ended.final ? runDetails(runId, ended.final) : await read() };
  }

  onModuleDestroy(): void {
    this.stopFallback();
  }

  private add(runId: string, finish: (ended: Ended) => void): void {
    let waiters = this.waiting.get(runId);
    if (!waiters) this.waiting.set(runId, (waiters = new Set()));
    waiters.add(finish);
    this.fallback ??= setInterval(() => {
      for (const id of this.waiting.keys()) if (!this.handoff.holds(id)) this.due.add(id);
      this.checkSoon();
    }, FALLBACK_CHECK_MS);
    this.fallback.unref();
  }

  private forget(runId: string, finish: (ended: Ended) => void): void {
    const waiters = this.waiting.get(runId);
    waiters?.delete(finish);
    if (waiters?.size === 0) this.waiting.delete(runId);
    if (this.waiting.size === 0) this.stopFallback();
  }

  private stopFallback(): void {
    clearInterval(this.fallback);
    this.fallback = undefined;
  }

  /** Looks `runId` up (with every other run due a look) at the next turn, or after the check in flight. */
  private checkSoon(runId?: string): void {
    if (runId) this.due.add(runId);
    if (this.checking) {
      this.again = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.check();
    });
  }

  private async check(): Promise<void> {
    const runIds = [...this.due].filter((id) => this.waiting.has(id));
    this.due.clear();
    if (runIds.length === 0) return;
    this.checking = true;
    try {
      for (const runId of await endedRunIds(this.pool, runIds)) {
        // An end this process is still recording is told with its final state (`emit`).
        if (this.changes.isRecording(runId)) continue;
        for (const finish of [...(this.waiting.get(runId) ?? [])]) finish({});
      }
    } catch {
      // a failed check is retried by the fallback timer
    } finally {
      this.checking = false;
      if (this.again) {
        this.again = false;
        this.checkSoon();
      }
    }
  }
}
