import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { DEFAULT_CATCHUP_WINDOW_SEC } from '../domain/schedule/schedule-params';
import { scheduleStream, type OverlapPolicy, type ScheduleCreated } from '../domain/schedule/schedule.events';
import { AppError, NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { getCurrentWorkflow } from '../workflows/workflow-read-model';
import { scheduleRowOf, scheduleView, type ScheduleView } from './schedule-rows';
import { requireCron } from './schedule-writes';

export interface NewSchedule {
  workflowId: string;
  cron: string;
  timezone?: string;
  input?: Record<string, unknown>;
  endAt?: string;
  overlap?: OverlapPolicy;
  catchupWindowSec?: number;
}

/** `POST /api/schedules`: a schedule of any of the organization's workflows (`source: "api"`). */
export class CreateScheduleCommand extends Command<ScheduleView> {
  constructor(
    readonly organizationId: string,
    readonly schedule: NewSchedule,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(CreateScheduleCommand)
export class CreateScheduleHandler implements ICommandHandler<CreateScheduleCommand, ScheduleView> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ organizationId, schedule, metadata }: CreateScheduleCommand): Promise<ScheduleView> {
    const spec = requireCron(schedule.cron, schedule.timezone ?? 'UTC');
    // Another organization's workflow is as unknown as a missing one.
    if (!(await getCurrentWorkflow(this.pool, organizationId, schedule.workflowId))) {
      throw new AppError('workflow_not_found', `workflow ${schedule.workflowId} not found`);
    }
    const scheduleId = randomUUID();
    const event: ScheduleCreated = {
      type: 'ScheduleCreated',
      data: {
        scheduleId,
        workflowId: schedule.workflowId,
        ...spec,
        input: schedule.input ?? {},
        endAt: schedule.endAt ? new Date(schedule.endAt).toISOString() : null,
        overlap: schedule.overlap ?? 'skip',
        catchupWindowSec: schedule.catchupWindowSec ?? DEFAULT_CATCHUP_WINDOW_SEC,
      },
    };
    await this.store.append(scheduleStream(scheduleId), 0, [event], { organizationId, metadata, notify: true });
    const row = await scheduleRowOf(this.pool, organizationId, scheduleId);
    if (!row) throw new NotFound('schedule');
    return scheduleView(row);
  }
}
