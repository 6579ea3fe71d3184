import { nextTick } from '../domain/schedule/cron';
import { scheduleTriggerOf } from '../domain/schedule/schedule-params';
import { SCHEDULE_EVENT_TYPES, SCHEDULE_STREAM_PREFIX, type ScheduleDefinition, type ScheduleEvent } from '../domain/schedule/schedule.events';
import type { SerializedWorkflow } from '../domain/workflow/workflow';
import { assertNever } from '../domain/assert-never';
import { derivedId } from '../event-store/ids';
import type { RecordedEvent } from '../event-store/event';
import { applyInGroups, type AppendHint, type Projection, type Queryable } from '../event-store/projection';
import { applyTicks, isTickFact } from './schedule-ticks';
import { hadNoTrigger } from '../workflows/workflow-append-hint';
import { WORKFLOW_STREAM_PREFIX, workflowIdOf } from '../workflows/workflow.events';

type WorkflowFact =
  | { type: 'WorkflowCreated' | 'WorkflowPatched'; data: { workflow: SerializedWorkflow } }
  | { type: 'WorkflowDeleted'; data: unknown };

/** The id of the schedule a workflow's trigger block defines: the same on every rebuild. */
export function workflowScheduleId(workflowId: string, blockId: string): string {
  return derivedId('schedule', workflowId, blockId);
}

/**
 * `schedules` and `schedule_ticks` (migrations/0010), inline so a patch or a route's answer and
 * the next read agree, and so a tick's claim (the unique fired row) commits with its run.
 * Workflow events define the schedules of `trigger_schedule` blocks; schedule events define the
 * API's schedules and everything that happens to either kind. `next_fire_at` is computed here
 * from the cron and the cursor, which only events move (ticks never read the clock). The tick
 * facts (the ledger and what each tick moves) are in schedule-ticks.ts.
 */
export const schedulesProjection: Projection = {
  name: 'schedules',
  mode: 'inline',
  handles: [...SCHEDULE_EVENT_TYPES, 'WorkflowCreated', 'WorkflowPatched', 'WorkflowDeleted'],
  tables: ['schedules', 'schedule_ticks'],
  async apply(db, event, hint) {
    if (event.streamId.startsWith(WORKFLOW_STREAM_PREFIX)) return applyWorkflowFact(db, event as RecordedEvent<WorkflowFact['type']>, hint);
    return applyScheduleFact(db, event);
  },
  /** A scheduler pass's ticks of many schedules in three statements; anything else one event at a time, in order. */
  applyBatch(db, events) {
    return applyInGroups(events, isTickFact, (ticks) => applyTicks(db, ticks), (event) => schedulesProjection.apply(db, event));
  },
};

interface Row {
  cron: string;
  timezone: string;
  state: string;
  cursor_at: Date;
  end_at: Date | null;
}

async function applyWorkflowFact(db: Queryable, event: RecordedEvent<WorkflowFact['type']>, hint: AppendHint | undefined): Promise<void> {
  const workflowId = workflowIdOf(event.streamId);
  const at = event.recordedAt;
  if (event.type === 'WorkflowDeleted') {
    await db.query(
      `UPDATE schedules SET state = 'deleted', next_fire_at = NULL, updated_at = $2 WHERE workflow_id = $1 AND source = 'workflow' AND state <> 'deleted'`,
      [workflowId, at],
    );
    return;
  }
  const trigger = scheduleTriggerOf(workflowId, (event.data as { workflow: SerializedWorkflow }).workflow);
  // Ticks, pauses and resumes only ever move a live row (they lock it in state): none to remove.
  if (!trigger && hadNoTrigger(event, hint, (workflow) => scheduleTriggerOf(workflowId, workflow))) return;
  const keepId = trigger ? workflowScheduleId(workflowId, trigger.blockId) : null;
  // A removed (or disabled) block removes its schedule; an invalid one keeps its last valid definition.
  await db.query(
    `UPDATE schedules SET state = 'deleted', next_fire_at = NULL, updated_at = $3
     WHERE workflow_id = $1 AND source = 'workflow' AND state <> 'deleted' AND schedule_id IS DISTINCT FROM $2`,
    [workflowId, keepId, at],
  );
  if (!trigger?.definition || !keepId) return;
  const definition = trigger.definition;
  const existing = await findRow(db, keepId);
  if (!existing) {
    await db.query(
      `INSERT INTO schedules (schedule_id, organization_id, workflow_id, source, block_id, cron, timezone, input, end_at, overlap,
                              catchup_window_sec, state, cursor_at, next_fire_at, stream_version, created_at, updated_at)
       VALUES ($1, $2, $3, 'workflow', $4, $5, $6, $7, $8, $9, $10, 'active', $11, $12, 0, $11, $11)`,
      [keepId, event.organizationId, workflowId, trigger.blockId, ...definitionValues(definition), at, nextAfter(definition, at)],
    );
    return;
  }
  // A new cron or time zone (or a block added back) starts counting ticks from this change.
  const restarted = existing.state === 'deleted' || existing.cron !== definition.cron || existing.timezone !== definition.timezone;
  const cursor = restarted ? at : existing.cursor_at;
  const state = existing.state === 'deleted' || existing.state === 'ended' ? 'active' : existing.state;
  await db.query(
    `UPDATE schedules SET cron = $2, timezone = $3, input = $4, end_at = $5, overlap = $6, catchup_window_sec = $7,
            state = $8, cursor_at = $9, next_fire_at = $10, updated_at = $11
     WHERE schedule_id = $1`,
    [keepId, ...definitionValues(definition), state, cursor, state === 'active' ? nextAfter(definition, cursor) : null, at],
  );
}

async function applyScheduleFact(db: Queryable, event: RecordedEvent): Promise<void> {
  const scheduleId = event.streamId.slice(SCHEDULE_STREAM_PREFIX.length);
  const fact = event as unknown as ScheduleEvent & { recordedAt: Date };
  const at = event.recordedAt;
  switch (fact.type) {
    case 'ScheduleCreated': {
      const definition = fact.data;
      await db.query(
        `INSERT INTO schedules (schedule_id, organization_id, workflow_id, source, block_id, cron, timezone, input, end_at, overlap,
                                catchup_window_sec, state, cursor_at, next_fire_at, stream_version, created_at, updated_at)
         VALUES ($1, $2, $3, 'api', NULL, $4, $5, $6, $7, $8, $9, 'active', $10, $11, $12, $10, $10)`,
        [scheduleId, event.organizationId, definition.workflowId, ...definitionValues(definition), at, nextAfter(definition, at), event.streamVersion],
      );
      return;
    }
    case 'ScheduleUpdated': {
      const row = await rowOf(db, scheduleId);
      const changes = fact.data;
      const definition = {
        cron: changes.cron ?? row.cron,
        timezone: changes.timezone ?? row.timezone,
        endAt: changes.endAt === undefined ? row.end_at?.toISOString() ?? null : changes.endAt,
      };
      const restarted = definition.cron !== row.cron || definition.timezone !== row.timezone;
      const cursor = restarted ? at : row.cursor_at;
      const state = row.state === 'ended' ? 'active' : row.state;
      await db.query(
        `UPDATE schedules SET cron = $2, timezone = $3, input = coalesce($4::jsonb, input), end_at = $5, overlap = coalesce($6, overlap),
                catchup_window_sec = coalesce($7, catchup_window_sec), state = $8, cursor_at = $9, next_fire_at = $10,
                stream_version = $11, updated_at = $12
         WHERE schedule_id = $1`,
        [
          scheduleId,
          definition.cron,
          definition.timezone,
          changes.input === undefined ? null : JSON.stringify(changes.input),
          definition.endAt,
          changes.overlap ?? null,
          changes.catchupWindowSec ?? null,
          state,
          cursor,
          state === 'active' ? nextAfter(definition, cursor) : null,
          event.streamVersion,
          at,
        ],
      );
      return;
    }
    case 'SchedulePaused':
      await setState(db, event, scheduleId, { state: 'paused', note: fact.data.note ?? null, next: null });
      return;
    case 'ScheduleResumed': {
      // The ticks due while paused are already recorded (one skipped range): count from here.
      const row = await rowOf(db, scheduleId);
      const from = new Date(fact.data.at);
      await setState(db, event, scheduleId, { state: 'active', note: fact.data.note ?? null, cursor: from, next: nextAfter(definitionOf(row), from) });
      return;
    }
    case 'ScheduleDeleted':
      await setState(db, event, scheduleId, { state: 'deleted', next: null });
      return;
    case 'ScheduleFired':
    case 'ScheduleTickBuffered':
    case 'ScheduleTickSkipped':
      await applyTicks(db, [event]);
      return;
    default:
      return assertNever(fact);
  }
}

async function findRow(db: Queryable, scheduleId: string): Promise<Row | undefined> {
  const { rows } = await db.query<Row>('SELECT cron, timezone, state, cursor_at, end_at FROM schedules WHERE schedule_id = $1', [scheduleId]);
  return rows[0];
}

async function rowOf(db: Queryable, scheduleId: string): Promise<Row> {
  const row = await findRow(db, scheduleId);
  if (!row) throw new Error(`schedule ${scheduleId} has no row`);
  return row;
}

function definitionOf(row: Row): Pick<ScheduleDefinition, 'cron' | 'timezone'> {
  return { cron: row.cron, timezone: row.timezone };
}

function definitionValues(definition: ScheduleDefinition): unknown[] {
  return [definition.cron, definition.timezone, JSON.stringify(definition.input), definition.endAt, definition.overlap, definition.catchupWindowSec];
}

/** The first tick after `after` (null when the cron never fires again). */
function nextAfter(definition: Pick<ScheduleDefinition, 'cron' | 'timezone'>, after: Date): Date | null {
  return nextTick({ cron: definition.cron, timezone: definition.timezone }, after);
}

async function setState(
  db: Queryable,
  event: RecordedEvent,
  scheduleId: string,
  change: { state: string; note?: string | null; cursor?: Date | string; next: Date | null },
): Promise<void> {
  await db.query(
    `UPDATE schedules SET state = $2, note = CASE WHEN $3::boolean THEN $4 ELSE note END, cursor_at = coalesce($5, cursor_at),
            next_fire_at = $6, stream_version = $7, updated_at = $8
     WHERE schedule_id = $1`,
    [scheduleId, change.state, change.note !== undefined, change.note ?? null, change.cursor ?? null, change.next, event.streamVersion, event.recordedAt],
  );
}
