import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { inTransaction } from '../database/pool';
import { ticksAfter } from '../domain/schedule/cron';
import { MAX_MISSED_PER_PASS } from '../domain/schedule/schedule.plan';
import { scheduleStream, type OverlapPolicy, type ScheduleEvent, type ScheduleUpdated } from '../domain/schedule/schedule.events';
import { NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { scheduleRowOf, scheduleView, type ScheduleRow, type ScheduleView } from './schedule-rows';
import { assertApiOwned, lockSchedule, requireCron } from './schedule-writes';

export interface ScheduleChanges {
  cron?: string;
  timezone?: string;
  input?: Record<string, unknown>;
  /** null removes the end. */
  endAt?: string | null;
  overlap?: OverlapPolicy;
  catchupWindowSec?: number;
  paused?: boolean;
  note?: string;
}

/**
 * `PATCH /api/schedules/:id`. Pausing and resuming work on every schedule; the definition of one a
 * workflow block defines changes through that block (409 `owned_by_workflow`). Resuming records
 * the ticks that came due while paused as one skipped range (`paused`), then counts from now.
 */
export class UpdateScheduleCommand extends Command<ScheduleView> {
  constructor(
    readonly organizationId: string,
    readonly scheduleId: string,
    readonly changes: ScheduleChanges,
    readonly metadata: EventMetadata,
    readonly now: Date,
  ) {
    super();
  }
}

@CommandHandler(UpdateScheduleCommand)
export class UpdateScheduleHandler implements ICommandHandler<UpdateScheduleCommand, ScheduleView> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ organizationId, scheduleId, changes, metadata, now }: UpdateScheduleCommand): Promise<ScheduleView> {
    await inTransaction(this.pool, async (client) => {
      const row = await lockSchedule(client, organizationId, scheduleId);
      const events = [...definitionChange(row, changes), ...pauseChange(row, changes, now)];
      if (events.length > 0) await this.store.append(scheduleStream(scheduleId), row.stream_version, events, { organizationId, metadata, client, notify: true });
    });
    const row = await scheduleRowOf(this.pool, organizationId, scheduleId);
    if (!row) throw new NotFound('schedule');
    return scheduleView(row);
  }
}

function definitionChange(row: ScheduleRow, changes: ScheduleChanges): ScheduleUpdated[] {
  const data: ScheduleUpdated['data'] = {};
  if (changes.cron !== undefined || changes.timezone !== undefined) {
    const spec = requireCron(changes.cron ?? row.cron, changes.timezone ?? row.timezone);
    if (spec.cron !== row.cron) data.cron = spec.cron;
    if (spec.timezone !== row.timezone) data.timezone = spec.timezone;
  }
  if (changes.input !== undefined) data.input = changes.input;
  if (changes.endAt !== undefined) data.endAt = changes.endAt === null ? null : new Date(changes.endAt).toISOString();
  if (changes.overlap !== undefined && changes.overlap !== row.overlap) data.overlap = changes.overlap;
  if (changes.catchupWindowSec !== undefined && changes.catchupWindowSec !== row.catchup_window_sec) data.catchupWindowSec = changes.catchupWindowSec;
  if (Object.keys(data).length === 0) return [];
  assertApiOwned(row, 'change its definition');
  return [{ type: 'ScheduleUpdated', data }];
}

function pauseChange(row: ScheduleRow, changes: ScheduleChanges, now: Date): ScheduleEvent[] {
  const note = changes.note === undefined ? {} : { note: changes.note };
  if (changes.paused === true && row.state === 'active') return [{ type: 'SchedulePaused', data: note }];
  if (changes.paused !== false || row.state !== 'paused') return [];
  const missed = ticksAfter({ cron: row.cron, timezone: row.timezone }, row.cursor_at, MAX_MISSED_PER_PASS, now);
  const first = missed[0];
  const last = missed[missed.length - 1];
  const skipped: ScheduleEvent[] =
    first && last
      ? [{ type: 'ScheduleTickSkipped', data: { tick: first.toISOString(), reason: 'paused', origin: 'schedule', ...(missed.length > 1 ? { through: last.toISOString(), count: missed.length } : {}) } }]
      : [];
  return [...skipped, { type: 'ScheduleResumed', data: { ...note, at: now.toISOString() } }];
}
