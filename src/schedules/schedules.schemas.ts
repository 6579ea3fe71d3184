import { z } from 'zod';
import { MAX_CATCHUP_WINDOW_SEC } from '../domain/schedule/schedule-params';
import { OVERLAP_POLICIES } from '../domain/schedule/schedule.events';

/** Request and response schemas of the schedule routes (API.md "Schedules and webhooks"). */

const instant = z.iso.datetime({ offset: true });
const overlap = z.enum(OVERLAP_POLICIES);
const catchupWindowSec = z.number().int().min(0).max(MAX_CATCHUP_WINDOW_SEC);
const input = z.record(z.string(), z.unknown());
// Cron and time zone are checked by the command, which answers invalid_cron / invalid_timezone with a suggestion.
const cron = z.string().min(1).max(200);
const timezone = z.string().min(1).max(100);

export const createScheduleBody = z.strictObject({
  workflowId: z.string().min(1).max(200),
  cron,
  timezone: timezone.optional(),
  input: input.optional(),
  endAt: instant.optional(),
  overlap: overlap.optional(),
  catchupWindowSec: catchupWindowSec.optional(),
});

export const updateScheduleBody = z.strictObject({
  cron: cron.optional(),
  timezone: timezone.optional(),
  input: input.optional(),
  endAt: instant.nullable().optional(),
  overlap: overlap.optional(),
  catchupWindowSec: catchupWindowSec.optional(),
  paused: z.boolean().optional(),
  note: z.string().max(1000).optional(),
});

export const listSchedulesQuery = z.object({
  workflowId: z.string().min(1).max(200).optional(),
  after: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export const ticksQuery = z.object({ after: z.string().min(1).max(100).optional(), limit: z.coerce.number().int().min(1).max(500).default(100) });
export const triggerBody = z.strictObject({ overlap: overlap.optional() });
export const backfillBody = z.strictObject({ from: instant, to: instant });
export const adminTickBody = z.strictObject({ now: instant.optional() });

export const scheduleResponse = z.object({
  id: z.string(),
  source: z.enum(['workflow', 'api']),
  workflowId: z.string(),
  blockId: z.string().nullable(),
  cron: z.string(),
  timezone: z.string(),
  input,
  endAt: z.string().nullable(),
  overlap,
  catchupWindowSec: z.number().int(),
  state: z.enum(['active', 'paused', 'ended', 'workflow_deleted']),
  paused: z.boolean(),
  note: z.string().nullable(),
  nextFireAt: z.string().nullable(),
  upcoming: z.array(z.string()),
  bufferedTick: z.string().nullable(),
  lastRunId: z.string().nullable(),
  lastScheduledAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
}).meta({ id: 'Schedule', description: 'A cron schedule that starts runs of a workflow.' });
export const scheduleListResponse = z.object({ data: z.array(scheduleResponse), next: z.string().nullable() });
export const ticksResponse = z.object({
  data: z.array(
    z.object({
      tick: z.string(),
      outcome: z.enum(['fired', 'skipped', 'buffered']),
      runId: z.string().optional(),
      reason: z.enum(['paused', 'overlap', 'ended', 'missed', 'workflow_deleted', 'not_runnable']).optional(),
      through: z.string().optional(),
      count: z.number().int().optional(),
      origin: z.enum(['schedule', 'trigger', 'backfill']),
      recordedAt: z.string(),
    }).meta({ id: 'ScheduleTick', description: "One entry of a schedule's tick ledger." }),
  ),
  next: z.string().nullable(),
});
export const passResponse = z.object({
  fired: z.array(z.object({ scheduleId: z.string(), runId: z.string(), tick: z.string() })),
  skipped: z.array(z.object({ scheduleId: z.string(), tick: z.string(), reason: z.string(), through: z.string().optional(), count: z.number().int().optional() })),
  buffered: z.array(z.object({ scheduleId: z.string(), tick: z.string() })),
});
export const backfillResponse = passResponse.extend({ alreadyFired: z.array(z.string()) });
