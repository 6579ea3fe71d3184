import { z } from 'zod';
import { checkCron } from './cron';
import type { SerializedWorkflow } from '../workflow/workflow';
import { OVERLAP_POLICIES, type ScheduleDefinition } from './schedule.events';

export const DEFAULT_CATCHUP_WINDOW_SEC = 60;
/** A week: older ticks are history, not a backlog to fire. */
export const MAX_CATCHUP_WINDOW_SEC = 7 * 24 * 60 * 60;

/**
 * Adds the cron check's problem as a zod issue whose `params.suggestion` carries the fix when
 * one can be inferred (validate-params turns it into the validation error's `suggestion`).
 */
function cronIssue(field: 'cron' | 'timezone') {
  return (value: string, ctx: z.core.$RefinementCtx<string>) => {
    const check = field === 'cron' ? checkCron(value, 'UTC') : checkCron('* * * * *', value);
    if (check.ok) return;
    ctx.addIssue({ code: 'custom', message: check.message, ...(check.suggestion ? { params: { suggestion: check.suggestion } } : {}) });
  };
}

/** The fields of a schedule, as the `trigger_schedule` block's params and `POST /api/schedules` share them. */
export const scheduleFields = {
  cron: z
    .string()
    .superRefine(cronIssue('cron'))
    .describe('Cron expression: 5 fields (minute hour day-of-month month day-of-week), or 6 with leading seconds; e.g. "0 8 * * 1-5"'),
  timezone: z.string().superRefine(cronIssue('timezone')).optional().describe('IANA time zone the cron is read in, e.g. "Europe/Rome"; default UTC'),
  overlap: z
    .enum(OVERLAP_POLICIES)
    .optional()
    .describe('When a tick comes while the previous run is active: skip (default), allow, buffer_one (start when it ends), cancel_other'),
  input: z.record(z.string(), z.unknown()).optional().describe('The run input of every tick (merged under the schedule fields of the trigger output)'),
  endAt: z.iso.datetime({ offset: true }).optional().describe('No tick fires after this instant (ISO-8601)'),
  catchupWindowSec: z
    .number()
    .int()
    .min(0)
    .max(MAX_CATCHUP_WINDOW_SEC)
    .optional()
    .describe(`After downtime, ticks missed within this many seconds still fire (default ${DEFAULT_CATCHUP_WINDOW_SEC}); older ones are recorded as missed`),
};

const definitionSchema = z.object(scheduleFields);

/** A schedule definition from params already validated by `scheduleFields` (defaults filled, timezone canonical). */
export function scheduleDefinition(workflowId: string, params: unknown): ScheduleDefinition | undefined {
  const parsed = definitionSchema.safeParse(params);
  if (!parsed.success) return undefined;
  const check = checkCron(parsed.data.cron, parsed.data.timezone ?? 'UTC');
  if (!check.ok) return undefined;
  return {
    workflowId,
    cron: check.spec.cron,
    timezone: check.spec.timezone,
    input: parsed.data.input ?? {},
    endAt: parsed.data.endAt ? new Date(parsed.data.endAt).toISOString() : null,
    overlap: parsed.data.overlap ?? 'skip',
    catchupWindowSec: parsed.data.catchupWindowSec ?? DEFAULT_CATCHUP_WINDOW_SEC,
  };
}

export const SCHEDULE_TRIGGER_TYPE = 'trigger_schedule';

/**
 * The schedule a workflow's enabled `trigger_schedule` block defines: `definition` is undefined
 * while the block's params are invalid (the schedule then keeps its last valid definition).
 */
export function scheduleTriggerOf(workflowId: string, workflow: SerializedWorkflow): { blockId: string; definition: ScheduleDefinition | undefined } | undefined {
  const block = workflow.blocks.find((b) => b.enabled && b.type === SCHEDULE_TRIGGER_TYPE);
  return block && { blockId: block.id, definition: scheduleDefinition(workflowId, block.params) };
}
