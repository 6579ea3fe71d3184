import { AppError, NotFound } from '../errors';
import { checkCron } from '../domain/schedule/cron';
import type { PoolClient } from 'pg';
import { scheduleRowOf, type ScheduleRow } from './schedule-rows';

/** The organization's schedule, locked for the caller's transaction (writers of one schedule take turns with its schedulers). */
export async function lockSchedule(client: PoolClient, organizationId: string, scheduleId: string): Promise<ScheduleRow> {
  const row = await scheduleRowOf(client, organizationId, scheduleId, true);
  if (!row) throw new NotFound('schedule');
  return row;
}

/** A schedule a workflow block defines changes through that block (an EditOp), not through this route. */
export function assertApiOwned(row: ScheduleRow, what: string): void {
  if (row.source === 'api') return;
  throw new AppError(
    'owned_by_workflow',
    `This schedule is defined by block "${row.block_id}" of workflow ${row.workflow_id}: ${what} by patching that block's params (or remove the block)`,
    { workflowId: row.workflow_id, blockId: row.block_id },
  );
}

/** 400 `invalid_cron` / `invalid_timezone` with the inferred fix, or the normalized spec. */
export function requireCron(cron: string, timezone: string): { cron: string; timezone: string } {
  const check = checkCron(cron, timezone);
  if (check.ok) return check.spec;
  throw new AppError(check.field === 'cron' ? 'invalid_cron' : 'invalid_timezone', check.message, {
    field: check.field,
    ...(check.suggestion ? { suggestion: check.suggestion } : {}),
  });
}
