/**
 * Facts on a `schedule-<id>` stream. A schedule defined by a workflow's `trigger_schedule` block
 * has no ScheduleCreated/Updated/Deleted: the workflow's own events (WorkflowCreated, Patched,
 * Deleted) carry its definition, and its stream holds only what happened to it (pauses, ticks).
 * Times are ISO-8601 strings.
 */
export type ScheduleEvent =
  | ScheduleCreated
  | ScheduleUpdated
  | SchedulePaused
  | ScheduleResumed
  | ScheduleDeleted
  | ScheduleFired
  | ScheduleTickBuffered
  | ScheduleTickSkipped;

export type OverlapPolicy = 'skip' | 'allow' | 'buffer_one' | 'cancel_other';
export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['skip', 'allow', 'buffer_one', 'cancel_other'];

export type SkipReason = 'paused' | 'overlap' | 'ended' | 'missed' | 'workflow_deleted' | 'not_runnable';

/** How a tick came to be considered: the scheduler's clock, `trigger` (fire now) or a backfill. */
export type TickOrigin = 'schedule' | 'trigger' | 'backfill';

/** What a schedule does, as an API client defines it (a block's params define the same fields). */
export interface ScheduleDefinition {
  workflowId: string;
  cron: string;
  timezone: string;
  input: Record<string, unknown>;
  endAt: string | null;
  overlap: OverlapPolicy;
  catchupWindowSec: number;
}

export interface ScheduleCreated {
  type: 'ScheduleCreated';
  data: ScheduleDefinition & { scheduleId: string };
}

/** Changed fields only. A new cron or timezone restarts the tick cursor at this event. */
export interface ScheduleUpdated {
  type: 'ScheduleUpdated';
  data: Partial<Omit<ScheduleDefinition, 'workflowId'>>;
}

export interface SchedulePaused {
  type: 'SchedulePaused';
  data: { note?: string };
}

/** The ticks that came due while paused were recorded just before, as one skipped range; ticks count again after `at`. */
export interface ScheduleResumed {
  type: 'ScheduleResumed';
  data: { note?: string; at: string };
}

export interface ScheduleDeleted {
  type: 'ScheduleDeleted';
  data: Record<string, never>;
}

/** The tick started `runId` (idempotency key `sched:<scheduleId>:<tick>`). */
export interface ScheduleFired {
  type: 'ScheduleFired';
  data: { tick: string; runId: string; origin: TickOrigin; lastScheduledAt: string | null; cancelled?: string };
}

/** `buffer_one`: the tick waits for the active run to end, then fires. */
export interface ScheduleTickBuffered {
  type: 'ScheduleTickBuffered';
  data: { tick: string };
}

/**
 * The tick did not fire. A range of ticks with the same fate (missed during downtime, due while
 * paused) is one event: `tick` the first, `through` the last, `count` how many.
 */
export interface ScheduleTickSkipped {
  type: 'ScheduleTickSkipped';
  data: { tick: string; reason: SkipReason; origin: TickOrigin; through?: string; count?: number };
}

export const SCHEDULE_EVENT_TYPES: readonly ScheduleEvent['type'][] = [
  'ScheduleCreated',
  'ScheduleUpdated',
  'SchedulePaused',
  'ScheduleResumed',
  'ScheduleDeleted',
  'ScheduleFired',
  'ScheduleTickBuffered',
  'ScheduleTickSkipped',
];

export const SCHEDULE_STREAM_PREFIX = 'schedule-';

export function scheduleStream(scheduleId: string): string {
  return `${SCHEDULE_STREAM_PREFIX}${scheduleId}`;
}

/** The run-start idempotency key of a tick: a crash between claiming a tick and starting its run never makes two runs. */
export function tickKey(scheduleId: string, tick: string): string {
  return `sched:${scheduleId}:${tick}`;
}
