import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { inTransaction } from '../database/pool';
import { underOverlap } from '../domain/schedule/schedule.plan';
import type { OverlapPolicy } from '../domain/schedule/schedule.events';
import { AppError } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { TickRecorder, type PassResult } from './tick-recorder';
import { lockSchedule } from './schedule-writes';

/**
 * `POST /api/schedules/:id/trigger`: fires a tick now (`origin: "trigger"`), under the schedule's
 * overlap policy unless the request names another. The tick is the request's instant, so two
 * presses are two runs; a paused schedule fires too (pausing stops the clock, not people).
 */
export class TriggerScheduleCommand extends Command<PassResult> {
  constructor(
    readonly organizationId: string,
    readonly scheduleId: string,
    readonly metadata: EventMetadata,
    readonly now: Date,
    readonly overlap?: OverlapPolicy,
  ) {
    super();
  }
}

@CommandHandler(TriggerScheduleCommand)
export class TriggerScheduleHandler implements ICommandHandler<TriggerScheduleCommand, PassResult> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(TickRecorder) private readonly ticks: TickRecorder,
  ) {}

  async execute({ organizationId, scheduleId, metadata, now, overlap }: TriggerScheduleCommand): Promise<PassResult> {
    const { result, cancel } = await inTransaction(this.pool, async (client, end) => {
      const row = await lockSchedule(client, organizationId, scheduleId);
      const workflow = await this.ticks.workflowStatus(client, row);
      if (workflow.kind !== 'runnable') {
        throw new AppError('workflow_not_runnable', `workflow ${row.workflow_id} is ${workflow.kind === 'deleted' ? 'deleted' : 'not runnable'}; nothing fired`);
      }
      const active = await this.ticks.runActive(client, row.last_run_id);
      const step = underOverlap(overlap ?? row.overlap, now, active, row.buffered_tick !== null);
      return this.ticks.record(client, end, [{ row, steps: [step], origin: 'trigger', workflow }], metadata);
    });
    await this.ticks.cancelOthers(cancel, metadata);
    return result;
  }
}
