import { Inject, Injectable, Logger } from '@nestjs/common';
import { Pool } from 'pg';
import { inTransaction } from '../database/pool';
import { needsLastRunStatus, planDueTicks } from '../domain/schedule/schedule.plan';
import type { EventMetadata } from '../event-store/event';
import { activeRunIds } from '../run-queue/run-state.queries';
import { largeBacklogs, lockDueSchedule, lockDueSchedules, type DueScope, type ScheduleRow } from './schedule-rows';
import { TickRecorder, type PassResult, type TickPlan, type WorkflowStatus } from './tick-recorder';

/** Schedules one pass takes at most; the rest wait for the next pass (a second later at most). */
const PASS_LIMIT = 2000;
/**
 * Schedules per transaction: one commit and a few reads serve them all. 250 against 100: 10,000
 * due schedules fired in 1.90 s instead of 2.07 s (0.327 against 0.352 ms of machine CPU a fire).
 */
const BATCH_SIZE = 250;
/** Batches in flight at once, each in its own transaction. */
const PASS_CONCURRENCY = 4;

/**
 * Fires due ticks. Due schedules are taken in batches, each in one transaction that holds their
 * rows (SKIP LOCKED, so racing schedulers split the due schedules instead of queueing on them):
 * the plan of each (pure, `planDueTicks`), recorded by `TickRecorder` — every run it starts
 * (idempotency key `sched:<id>:<tick>`), and its schedule events appended at the row's stream
 * version, whose inline projection inserts each fired tick under a unique index. A tick therefore fires exactly
 * once however many schedulers race, and a crash anywhere before the commit leaves nothing
 * behind. A batch that fails is retried one schedule per transaction, so one bad schedule never
 * holds the others back.
 */
@Injectable()
export class SchedulerPass {
  private readonly log = new Logger('scheduler');

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(TickRecorder) private readonly ticks: TickRecorder,
  ) {}

  /**
   * Fires every tick due by `now` (of one organization's schedules when given), at most
   * `PASS_LIMIT` schedules. Past the first batch (a backlog), the organizations with a batch's
   * worth of due schedules wait: every other organization's due schedules go first, in due
   * order, and then the large backlogs take turns. In due order alone, another organization's
   * single schedule created after one organization's 600, due at the same tick, fired 565th.
   */
  async pass(now: Date, metadata: EventMetadata, organizationId?: string): Promise<PassResult> {
    const result: PassResult = { fired: [], skipped: [], buffered: [] };
    // One pass checks each workflow once, however many of its schedules are due.
    const workflows = new Map<string, Promise<WorkflowStatus>>();
    let taken = 0;
    /** One more batch in `scope`; whether it came back full (more may be due). */
    const next = async (scope: DueScope): Promise<boolean> => {
      const limit = Math.min(BATCH_SIZE, PASS_LIMIT - taken);
      if (limit <= 0) return false;
      taken += limit; // reserved while it runs, so concurrent lanes stay within the pass's limit
      const handled = await this.batch(now, limit, metadata, workflows, scope).catch((error: unknown) => {
        this.log.warn({ err: error }, 'scheduler batch failed; retrying on the next pass');
        return undefined;
      });
      taken -= limit - (handled?.count ?? 0);
      if (!handled) return false;
      merge(result, handled.result);
      return handled.count === limit;
    };
    /** Batches from every lane, each taking the next scope in turn, until each one's batch comes back short. */
    const inLanes = async (scopes: DueScope[]): Promise<void> => {
      const turns = new Turns(scopes);
      const lane = async (): Promise<void> => {
        for (let scope = turns.next(); scope !== undefined && taken < PASS_LIMIT; scope = turns.next()) {
          if (!(await next(scope))) turns.done(scope);
        }
      };
      await Promise.all(Array.from({ length: PASS_CONCURRENCY }, lane));
    };
    // One batch first: a pass that finds little to do (every idle second of every worker) costs
    // one transaction, not one per lane; only a full batch sends the lanes out.
    if (!(await next(organizationId ? { organizationId } : {}))) return result;
    if (organizationId) {
      await inLanes([{ organizationId }]);
      return result;
    }
    const large = await largeBacklogs(this.pool, now, BATCH_SIZE);
    const shared: DueScope = { except: large };
    if (await next(shared)) await inLanes([shared]);
    await inLanes(large.map((id) => ({ organizationId: id })));
    return result;
  }

  /** One transaction over up to `limit` due schedules; how many it held, and what it did. */
  private async batch(
    now: Date,
    limit: number,
    metadata: EventMetadata,
    workflows: Map<string, Promise<WorkflowStatus>>,
    scope: DueScope,
  ): Promise<{ count: number; result: PassResult }> {
    let ids: string[] = [];
    try {
      const outcome = await inTransaction(this.pool, async (client, end) => {
        const rows = await lockDueSchedules(client, now, limit, scope);
        ids = rows.map((row) => row.schedule_id);
        const active = await activeRunIds(client, rows.flatMap((row) => (row.last_run_id && needsLastRunStatus(row.overlap, row.buffered_tick) ? [row.last_run_id] : [])));
        const plans: TickPlan[] = [];
        for (const row of rows) {
          const status = workflows.get(row.workflow_id) ?? this.ticks.workflowStatus(client, row);
          workflows.set(row.workflow_id, status);
          plans.push(this.planDue(row, now, await status, row.last_run_id !== null && active.has(row.last_run_id)));
        }
        return this.ticks.record(client, end, plans, metadata);
      });
      await this.ticks.cancelOthers(outcome.cancel, metadata);
      return { count: ids.length, result: outcome.result };
    } catch (error) {
      if (ids.length === 0) throw error;
      this.log.warn({ err: error, schedules: ids.length }, 'scheduler batch failed; handling its schedules one by one');
      const result: PassResult = { fired: [], skipped: [], buffered: [] };
      for (const id of ids) {
        try {
          merge(result, await this.passOne(id, now, metadata));
        } catch (single) {
          this.log.warn({ scheduleId: id, err: single }, 'schedule pass failed; retried on the next pass');
        }
      }
      return { count: ids.length, result };
    }
  }

  private async passOne(scheduleId: string, now: Date, metadata: EventMetadata): Promise<PassResult> {
    const outcome = await inTransaction(this.pool, async (client, end) => {
      const row = await lockDueSchedule(client, scheduleId, now);
      if (!row) return undefined;
      const workflow = await this.ticks.workflowStatus(client, row);
      const lastRunActive = needsLastRunStatus(row.overlap, row.buffered_tick) && (await this.ticks.runActive(client, row.last_run_id));
      return this.ticks.record(client, end, [this.planDue(row, now, workflow, lastRunActive)], metadata);
    });
    if (!outcome) return { fired: [], skipped: [], buffered: [] };
    await this.ticks.cancelOthers(outcome.cancel, metadata);
    return outcome.result;
  }

  /** The locked row's due ticks, planned. */
  private planDue(row: ScheduleRow, now: Date, workflow: WorkflowStatus, lastRunActive: boolean): TickPlan {
    const steps = planDueTicks(
      {
        spec: { cron: row.cron, timezone: row.timezone },
        overlap: row.overlap,
        catchupWindowSec: row.catchup_window_sec,
        endAt: row.end_at,
        cursor: row.cursor_at,
        bufferedTick: row.buffered_tick,
        lastRunActive,
        workflow: workflow.kind,
      },
      now,
    );
    return { row, steps, origin: 'schedule', workflow };
  }
}

/** Turns, round and round, until each is `done` (its batch came back short). */
class Turns<T> {
  private turn = 0;

  constructor(private readonly waiting: T[]) {}

  next(): T | undefined {
    if (this.waiting.length === 0) return undefined;
    return this.waiting[this.turn++ % this.waiting.length];
  }

  done(item: T): void {
    const at = this.waiting.indexOf(item);
    if (at >= 0) this.waiting.splice(at, 1);
  }
}

function merge(into: PassResult, from: PassResult): void {
  into.fired.push(...from.fired);
  into.skipped.push(...from.skipped);
  into.buffered.push(...from.buffered);
}
