import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { inTransaction } from '../database/pool';
import { scheduleStream } from '../domain/schedule/schedule.events';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { assertApiOwned, lockSchedule } from './schedule-writes';

/** `DELETE /api/schedules/:id`: no tick fires after it (its runs go on). A block's schedule goes with its block. */
export class DeleteScheduleCommand extends Command<void> {
  constructor(
    readonly organizationId: string,
    readonly scheduleId: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(DeleteScheduleCommand)
export class DeleteScheduleHandler implements ICommandHandler<DeleteScheduleCommand, void> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ organizationId, scheduleId, metadata }: DeleteScheduleCommand): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      const row = await lockSchedule(client, organizationId, scheduleId);
      assertApiOwned(row, 'remove it');
      await this.store.append(scheduleStream(scheduleId), row.stream_version, [{ type: 'ScheduleDeleted', data: {} }], { organizationId, metadata, client });
    });
  }
}
