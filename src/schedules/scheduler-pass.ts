import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { Pool, type PoolClient } from 'pg';
import type { Config } from '../config/config';
import { CONNECTOR_CATALOG } from '../connectors/catalog.token';
import { CONFIG } from '../database/database.module';
import { inTransaction } from '../database/pool';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import { planDueTicks, type TickStep } from '../domain/schedule/schedule.plan';
import { scheduleStream, tickKey, type ScheduleEvent, type TickOrigin } from '../domain/schedule/schedule.events';
import { validateRunInput } from '../domain/workflow/run-input';
import { validateWorkflow } from '../domain/workflow/validate-workflow';
import { RUN_TERMINAL_STATUSES } from '../domain/run/run.state';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { runHeadOf } from '../run-queue/run-state.queries';
import { CancelRunCommand } from '../runs/cancel-run.command';
import { StartRunCommand, type PinnedWorkflow } from '../runs/start-run.command';
import { getCurrentWorkflow } from '../workflows/workflow-read-model';
import { dueScheduleIds, lockDueSchedule, type ScheduleRow } from './schedule-rows';

/** What one pass did: API.md `POST /api/admin/tick`. */
export interface PassResult {
  fired: { scheduleId: string; runId: string; tick: string }[];
  skipped: { scheduleId: string; tick: string; reason: string; through?: string; count?: number }[];
  buffered: { scheduleId: string; tick: string }[];
}

/** Schedules one pass takes at most; the rest wait for the next pass (a second later at most). */
const PASS_LIMIT = 2000;
/** Schedules handled at once, each in its own transaction. */
const PASS_CONCURRENCY = 8;

type WorkflowStatus = { kind: 'runnable'; pinned: PinnedWorkflow } | { kind: 'not_runnable' } | { kind: 'deleted' };

/**
 * Fires due ticks. Each schedule is handled in one transaction holding its row lock (SKIP
 * LOCKED, so racing schedulers split the due schedules): the plan (pure, `planDueTicks`), every
 * run it starts (idempotency key `sched:<id>:<tick>`), and its schedule events appended at the
 * row's stream version, whose inline projection inserts the fired tick under a unique index.
 * A tick therefore fires exactly once however many schedulers race, and a crash anywhere before
 * the commit leaves nothing behind for the next pass to trip on.
 */
@Injectable()
export class SchedulerPass {
  private readonly log = new Logger('scheduler');

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(CONNECTOR_CATALOG) private readonly catalog: ConnectorCatalog,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /** Fires every tick due by `now` (of one organization's schedules when given). */
  async pass(now: Date, metadata: EventMetadata, organizationId?: string): Promise<PassResult> {
    const result: PassResult = { fired: [], skipped: [], buffered: [] };
    const ids = await dueScheduleIds(this.pool, now, PASS_LIMIT, organizationId);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < ids.length) {
        const id = ids[next++]!;
        try {
          merge(result, await this.passOne(id, now, metadata));
        } catch (error) {
          // One schedule's trouble (a lost race past SKIP LOCKED, a bad row) never stops the others.
          this.log.warn({ scheduleId: id, err: error }, 'schedule pass failed; retried on the next pass');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PASS_CONCURRENCY, ids.length) }, lane));
    return result;
  }

  private async passOne(scheduleId: string, now: Date, metadata: EventMetadata): Promise<PassResult> {
    const outcome = await inTransaction(this.pool, async (client) => {
      const row = await lockDueSchedule(client, scheduleId, now);
      if (!row) return undefined;
      const workflow = await this.workflowStatus(client, row);
      const lastRunActive = await this.runActive(client, row.last_run_id);
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
      return this.record(client, row, steps, 'schedule', workflow, metadata);
    });
    if (!outcome) return { fired: [], skipped: [], buffered: [] };
    await this.cancelOthers(outcome.cancel, metadata);
    return outcome.result;
  }

  /**
   * Records `steps` for the locked `row` in the caller's transaction: starts each fired tick's
   * run and appends the schedule's events. Returns what happened and the runs `cancel_other`
   * asks to stop once this commits.
   */
  async record(
    client: PoolClient,
    row: ScheduleRow,
    steps: readonly TickStep[],
    origin: TickOrigin,
    workflow: WorkflowStatus,
    metadata: EventMetadata,
  ): Promise<{ result: PassResult; cancel: { organizationId: string; runId: string; reason: string }[] }> {
    const result: PassResult = { fired: [], skipped: [], buffered: [] };
    const cancel: { organizationId: string; runId: string; reason: string }[] = [];
    const events: ScheduleEvent[] = [];
    let lastRunId = row.last_run_id;
    let lastScheduledAt = row.last_scheduled_at?.toISOString() ?? null;
    for (const step of steps) {
      const tick = step.tick.toISOString();
      if (step.kind === 'skip') {
        const range = step.through ? { through: step.through.toISOString(), count: step.count ?? 1 } : {};
        events.push({ type: 'ScheduleTickSkipped', data: { tick, reason: step.reason, origin, ...range } });
        result.skipped.push({ scheduleId: row.schedule_id, tick, reason: step.reason, ...range });
        continue;
      }
      if (step.kind === 'buffer') {
        events.push({ type: 'ScheduleTickBuffered', data: { tick } });
        result.buffered.push({ scheduleId: row.schedule_id, tick });
        continue;
      }
      if (workflow.kind !== 'runnable') throw new Error('planDueTicks fired a tick of a workflow that is not runnable');
      const runId = await this.startRun(client, row, tick, lastScheduledAt, workflow.pinned, metadata);
      if (step.cancelPrevious && lastRunId) cancel.push({ organizationId: row.organization_id, runId: lastRunId, reason: `overlap cancel_other: schedule ${row.schedule_id} fired ${tick}` });
      events.push({ type: 'ScheduleFired', data: { tick, runId, origin, lastScheduledAt, ...(step.cancelPrevious && lastRunId ? { cancelled: lastRunId } : {}) } });
      result.fired.push({ scheduleId: row.schedule_id, runId, tick });
      lastRunId = runId;
      lastScheduledAt = tick;
    }
    if (events.length > 0) {
      await this.store.append(scheduleStream(row.schedule_id), row.stream_version, events, { organizationId: row.organization_id, metadata, client });
    }
    return { result, cancel };
  }

  /** The run of one tick, in the tick's transaction; its trigger output is the schedule input plus the tick's facts. */
  private async startRun(client: PoolClient, row: ScheduleRow, tick: string, lastScheduledAt: string | null, pinned: PinnedWorkflow, metadata: EventMetadata): Promise<string> {
    const key = tickKey(row.schedule_id, tick);
    const input = { ...row.input, scheduleId: row.schedule_id, scheduledAt: tick, lastScheduledAt, timezone: row.timezone };
    const runMetadata: EventMetadata = { ...metadata, actor: { type: 'schedule', id: row.schedule_id }, correlationId: key };
    const started = await this.commands.execute(
      new StartRunCommand(row.organization_id, row.workflow_id, input, runMetadata, { idempotencyKey: key, workflow: pinned, client }),
    );
    return started.runId;
  }

  /** Whether the schedule's workflow can start a run now (checked once per schedule and pass). */
  async workflowStatus(db: PoolClient | Pool, row: ScheduleRow): Promise<WorkflowStatus> {
    const current = await getCurrentWorkflow(db, row.organization_id, row.workflow_id);
    if (!current) return { kind: 'deleted' };
    const errors = validateWorkflow(current.workflow, this.catalog, { templateEnv: this.config.templateEnv });
    const sample = { ...row.input, scheduleId: row.schedule_id, scheduledAt: new Date(0).toISOString(), lastScheduledAt: null, timezone: row.timezone };
    if (errors.length > 0 || !validateRunInput(current.workflow, sample, this.catalog).ok) return { kind: 'not_runnable' };
    return { kind: 'runnable', pinned: { version: current.version, workflow: current.workflow } };
  }

  async runActive(db: PoolClient | Pool, runId: string | null): Promise<boolean> {
    if (!runId) return false;
    const head = await runHeadOf(db, runId);
    return head !== undefined && !RUN_TERMINAL_STATUSES.includes(head.status);
  }

  /** `cancel_other`: after the new run committed, ask the one it replaces to stop (already ended: nothing to do). */
  async cancelOthers(runs: readonly { organizationId: string; runId: string; reason: string }[], metadata: EventMetadata): Promise<void> {
    for (const run of runs) {
      await this.commands.execute(new CancelRunCommand(run.organizationId, run.runId, metadata, run.reason)).catch((error: unknown) => {
        if ((error as { code?: string }).code !== 'run_finished') this.log.warn({ runId: run.runId, err: error }, 'cancel_other could not cancel the previous run');
      });
    }
  }
}

function merge(into: PassResult, from: PassResult): void {
  into.fired.push(...from.fired);
  into.skipped.push(...from.skipped);
  into.buffered.push(...from.buffered);
}
