import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { inTransaction } from '../database/pool';
import { ticksAfter } from '../domain/schedule/cron';
import type { TickStep } from '../domain/schedule/schedule.plan';
import { AppError } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { TickRecorder, type PassResult } from './tick-recorder';
import { firedTicksBetween } from './schedule-rows';
import { lockSchedule } from './schedule-writes';

/** Ticks one backfill may fire. */
export const MAX_BACKFILL_TICKS = 1000;

/** What a backfill did; `alreadyFired` lists ticks of the range that had fired before (never twice). */
export type BackfillResult = PassResult & { alreadyFired: string[] };

/**
 * `POST /api/schedules/:id/backfill {from, to}`: fires every tick in [from, to] (`origin:
 * "backfill"`), ignoring the overlap policy — a backfill asks for those runs. All in one
 * transaction: the range fires completely or not at all.
 */
export class BackfillScheduleCommand extends Command<BackfillResult> {
  constructor(
    readonly organizationId: string,
    readonly scheduleId: string,
    readonly from: Date,
    readonly to: Date,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(BackfillScheduleCommand)
export class BackfillScheduleHandler implements ICommandHandler<BackfillScheduleCommand, BackfillResult> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(TickRecorder) private readonly ticks: TickRecorder,
  ) {}

  async execute({ organizationId, scheduleId, from, to, metadata }: BackfillScheduleCommand): Promise<BackfillResult> {
    if (!(from <= to)) throw new AppError('invalid_body', '`from` must not be after `to`', { issues: [{ path: 'from', message: 'must not be after to' }] });
    return inTransaction(this.pool, async (client, end) => {
      const row = await lockSchedule(client, organizationId, scheduleId);
      const ticks = ticksAfter({ cron: row.cron, timezone: row.timezone }, new Date(from.getTime() - 1), MAX_BACKFILL_TICKS + 1, to);
      if (ticks.length > MAX_BACKFILL_TICKS) {
        throw new AppError('backfill_too_large', `the range holds more than ${MAX_BACKFILL_TICKS} ticks; backfill it in parts`, { max: MAX_BACKFILL_TICKS });
      }
      const workflow = await this.ticks.workflowStatus(client, row);
      if (workflow.kind !== 'runnable') throw new AppError('workflow_not_runnable', `workflow ${row.workflow_id} cannot start runs; nothing fired`);
      const before = await firedTicksBetween(client, row.schedule_id, from, to);
      const fired = new Set(before.map((tick) => tick.getTime()));
      const steps: TickStep[] = ticks.filter((tick) => !fired.has(tick.getTime())).map((tick) => ({ kind: 'fire', tick, cancelPrevious: false }));
      const { result } = await this.ticks.record(client, end, [{ row, steps, origin: 'backfill', workflow }], metadata);
      return { ...result, alreadyFired: before.map((tick) => tick.toISOString()) };
    });
  }
}
