import { Inject, Injectable, Logger } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Pool, PoolClient } from 'pg';
import type { Config } from '../config/config';
import { CONNECTOR_CATALOG } from '../connectors/catalog.token';
import { CONFIG } from '../database/database.module';
import type { TransactionEnd } from '../database/pool';
import type { ConnectorCatalog } from '../domain/connectors/connector-catalog';
import type { TickStep } from '../domain/schedule/schedule.plan';
import { scheduleStream, tickKey, type ScheduleEvent, type TickOrigin } from '../domain/schedule/schedule.events';
import { validateRunInput } from '../domain/workflow/run-input';
import { validateWorkflow } from '../domain/workflow/validate-workflow';
import { RUN_TERMINAL_STATUSES } from '../domain/run/run.state';
import type { EventMetadata } from '../event-store/event';
import { EventStore, type StreamAppend } from '../event-store/event-store';
import { runHeadOf } from '../run-queue/run-state.queries';
import { CancelRunCommand } from '../runs/cancel-run.command';
import type { PinnedWorkflow, StartedRun } from '../runs/start-run.command';
import { AppError } from '../errors';
import { StartRunsCommand, type RunStartRequest } from '../runs/start-runs.command';
import { getCurrentWorkflow } from '../workflows/workflow-read-model';
import type { ScheduleRow } from './schedule-rows';

/** What one pass did: API.md `POST /api/admin/tick`. */
export interface PassResult {
  fired: { scheduleId: string; runId: string; tick: string }[];
  skipped: { scheduleId: string; tick: string; reason: string; through?: string; count?: number }[];
  buffered: { scheduleId: string; tick: string }[];
}

/** `cancel_other`: a run to ask to stop once the tick that replaces it committed. */
export interface CancelRequest {
  organizationId: string;
  runId: string;
  reason: string;
}

export type WorkflowStatus = { kind: 'runnable'; pinned: PinnedWorkflow } | { kind: 'not_runnable' } | { kind: 'deleted' };

/** A locked schedule's steps to record, by whom (`origin`), against its workflow as it is now. */
export interface TickPlan {
  row: ScheduleRow;
  steps: readonly TickStep[];
  origin: TickOrigin;
  workflow: WorkflowStatus;
}


/**
 * What a tick does once it is decided, for every caller that holds a schedule's row: the
 * scheduler's passes, `POST /api/schedules/:id/trigger` and backfills. It checks the schedule's
 * workflow and its last run, records the planned steps (the runs of fired ticks started with the
 * idempotency key `sched:<id>:<tick>`, the schedule's events appended at the row's version, in
 * the caller's transaction), and asks `cancel_other`'s replaced runs to stop after the commit.
 */
@Injectable()
export class TickRecorder {
  private readonly log = new Logger('scheduler');

  constructor(
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(CONNECTOR_CATALOG) private readonly catalog: ConnectorCatalog,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /**
   * Records the plans of locked rows in the caller's transaction: the runs of every fired tick
   * started together (`StartRunsCommand`), then every schedule's events appended together (one
   * statement each, whatever the number of schedules). Returns what happened and the runs
   * `cancel_other` asks to stop once this commits. `end`: the transaction's end hooks, through
   * which this process's worker takes the runs it has room for at their start.
   */
  async record(client: PoolClient, end: TransactionEnd, plans: readonly TickPlan[], metadata: EventMetadata): Promise<{ result: PassResult; cancel: CancelRequest[] }> {
    const starts: RunStartRequest[] = [];
    for (const { row, steps, workflow } of plans) {
      let lastScheduledAt = row.last_scheduled_at?.toISOString() ?? null;
      for (const step of steps) {
        if (step.kind !== 'fire') continue;
        if (workflow.kind !== 'runnable') throw new Error('planDueTicks fired a tick of a workflow that is not runnable');
        const tick = step.tick.toISOString();
        starts.push(this.runStart(row, tick, lastScheduledAt, workflow.pinned, metadata));
        lastScheduledAt = tick;
      }
    }
    const answers = starts.length > 0 ? await this.commands.execute(new StartRunsCommand(starts, client, end)) : [];
    // A refused start fails the batch (its schedules are then handled one by one, and retried).
    const refused = answers.find((answer) => answer instanceof AppError);
    if (refused) throw refused;
    const started = answers as StartedRun[];
    const result: PassResult = { fired: [], skipped: [], buffered: [] };
    const cancel: CancelRequest[] = [];
    const appends: StreamAppend[] = [];
    let nextRun = 0;
    for (const { row, steps, origin } of plans) {
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
        const runId = started[nextRun++]!.runId;
        if (step.cancelPrevious && lastRunId) cancel.push({ organizationId: row.organization_id, runId: lastRunId, reason: `overlap cancel_other: schedule ${row.schedule_id} fired ${tick}` });
        events.push({ type: 'ScheduleFired', data: { tick, runId, origin, lastScheduledAt, ...(step.cancelPrevious && lastRunId ? { cancelled: lastRunId } : {}) } });
        result.fired.push({ scheduleId: row.schedule_id, runId, tick });
        lastRunId = runId;
        lastScheduledAt = tick;
      }
      if (events.length > 0) appends.push({ streamId: scheduleStream(row.schedule_id), expectedVersion: row.stream_version, organizationId: row.organization_id, events, metadata });
    }
    await this.store.appendMany(appends, { client });
    return { result, cancel };
  }

  /** The run of one tick, in the tick's transaction; its trigger output is the schedule input plus the tick's facts. */
  private runStart(row: ScheduleRow, tick: string, lastScheduledAt: string | null, pinned: PinnedWorkflow, metadata: EventMetadata): RunStartRequest {
    const key = tickKey(row.schedule_id, tick);
    const input = { ...row.input, scheduleId: row.schedule_id, scheduledAt: tick, lastScheduledAt, timezone: row.timezone };
    const runMetadata: EventMetadata = { ...metadata, actor: { type: 'schedule', id: row.schedule_id }, correlationId: key };
    return { organizationId: row.organization_id, workflowId: row.workflow_id, input, metadata: runMetadata, idempotencyKey: key, workflow: pinned };
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
  async cancelOthers(runs: readonly CancelRequest[], metadata: EventMetadata): Promise<void> {
    for (const run of runs) {
      await this.commands.execute(new CancelRunCommand(run.organizationId, run.runId, metadata, run.reason)).catch((error: unknown) => {
        if ((error as { code?: string }).code !== 'run_finished') this.log.warn({ runId: run.runId, err: error }, 'cancel_other could not cancel the previous run');
      });
    }
  }
}
