import { Module, type DynamicModule } from '@nestjs/common';
import { BackfillScheduleHandler } from './backfill-schedule.command';
import { CreateScheduleHandler } from './create-schedule.command';
import { DeleteScheduleHandler } from './delete-schedule.command';
import { SchedulerPass } from './scheduler-pass';
import { TickRecorder } from './tick-recorder';
import { SchedulerService } from './scheduler.service';
import { SchedulesController } from './schedules.controller';
import { TriggerScheduleHandler } from './trigger-schedule.command';
import { UpdateScheduleHandler } from './update-schedule.command';

/**
 * Schedules: the routes (`http`), and the scheduler loop (`loop`, in every worker process).
 * The read model is `schedulesProjection`, listed with the application's projections.
 */
@Module({})
export class SchedulesModule {
  static register(options: { http: boolean; loop: boolean }): DynamicModule {
    return {
      module: SchedulesModule,
      controllers: options.http ? [SchedulesController] : [],
      providers: [
        TickRecorder,
        SchedulerPass,
        ...(options.loop ? [SchedulerService] : []),
        ...(options.http ? [CreateScheduleHandler, UpdateScheduleHandler, DeleteScheduleHandler, TriggerScheduleHandler, BackfillScheduleHandler] : []),
      ],
    };
  }
}
