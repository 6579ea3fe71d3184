import { ticksAfter } from '../domain/schedule/cron';
import type { OverlapPolicy } from '../domain/schedule/schedule.events';
import type { Queryable } from '../event-store/projection';
import { decodeCursor, toPage } from '../http/keyset';

// Reads of `schedules` and `schedule_ticks`, owned by this module (schedules.projection.ts writes them).

export interface ScheduleRow {
  schedule_id: string;
  organization_id: string;
  workflow_id: string;
  source: 'workflow' | 'api';
  block_id: string | null;
  cron: string;
  timezone: string;
  input: Record<string, unknown>;
  end_at: Date | null;
  overlap: OverlapPolicy;
  catchup_window_sec: number;
  state: 'active' | 'paused' | 'ended' | 'workflow_deleted' | 'deleted';
  note: string | null;
  cursor_at: Date;
  next_fire_at: Date | null;
  buffered_tick: Date | null;
  last_run_id: string | null;
  last_scheduled_at: Date | null;
  stream_version: number;
  created_at: Date;
  updated_at: Date;
}

/** A schedule as the API shows it (API.md "Schedules and webhooks"). */
export interface ScheduleView {
  id: string;
  source: 'workflow' | 'api';
  workflowId: string;
  blockId: string | null;
  cron: string;
  timezone: string;
  input: Record<string, unknown>;
  endAt: string | null;
  overlap: OverlapPolicy;
  catchupWindowSec: number;
  /** `active`, `paused`, `ended` (past `endAt`), `workflow_deleted` (its workflow is gone: it never fires again). */
  state: Exclude<ScheduleRow['state'], 'deleted'>;
  paused: boolean;
  note: string | null;
  nextFireAt: string | null;
  /** The next 5 fire times (fewer when the schedule ends sooner). */
  upcoming: string[];
  bufferedTick: string | null;
  lastRunId: string | null;
  lastScheduledAt: string | null;
  createdAt: string;
  updatedAt: string;
}

const COLUMNS = `schedule_id, organization_id, workflow_id, source, block_id, cron, timezone, input, end_at, overlap, catchup_window_sec,
  state, note, cursor_at, next_fire_at, buffered_tick, last_run_id, last_scheduled_at, stream_version, created_at, updated_at`;

export function scheduleView(row: ScheduleRow): ScheduleView {
  const spec = { cron: row.cron, timezone: row.timezone };
  const running = row.state === 'active' || row.state === 'paused';
  const upcoming = running ? ticksAfter(spec, row.cursor_at, 5, row.end_at ?? undefined).map((d) => d.toISOString()) : [];
  const next = row.state === 'active' && row.next_fire_at && (!row.end_at || row.next_fire_at <= row.end_at) ? row.next_fire_at : null;
  return {
    id: row.schedule_id,
    source: row.source,
    workflowId: row.workflow_id,
    blockId: row.block_id,
    cron: row.cron,
    timezone: row.timezone,
    input: row.input,
    endAt: row.end_at?.toISOString() ?? null,
    overlap: row.overlap,
    catchupWindowSec: row.catchup_window_sec,
    state: row.state === 'deleted' ? 'ended' : row.state,
    paused: row.state === 'paused',
    note: row.note,
    nextFireAt: next?.toISOString() ?? null,
    upcoming,
    bufferedTick: row.buffered_tick?.toISOString() ?? null,
    lastRunId: row.last_run_id,
    lastScheduledAt: row.last_scheduled_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The organization's schedule (not deleted); `lock` takes its row lock for the caller's transaction. */
export async function scheduleRowOf(db: Queryable, organizationId: string, scheduleId: string, lock = false): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query<ScheduleRow>(
    `SELECT ${COLUMNS} FROM schedules WHERE schedule_id = $1 AND organization_id = $2 AND state <> 'deleted'${lock ? ' FOR UPDATE' : ''}`,
    [scheduleId, organizationId],
  );
  return rows[0];
}

/**
 * The row of a schedule that has work at `now` (a due tick, or a buffered tick to retry),
 * locked for the caller's transaction; undefined when another scheduler holds it (SKIP LOCKED:
 * racing schedulers share the due schedules instead of queueing on them) or it has no work left.
 */
export async function lockDueSchedule(db: Queryable, scheduleId: string, now: Date): Promise<ScheduleRow | undefined> {
  const { rows } = await db.query<ScheduleRow>(
    `SELECT ${COLUMNS} FROM schedules
     WHERE schedule_id = $1 AND state = 'active' AND (next_fire_at <= $2 OR buffered_tick IS NOT NULL)
     FOR UPDATE SKIP LOCKED`,
    [scheduleId, now],
  );
  return rows[0];
}

/** Whose due schedules a batch takes: one organization's, or everyone's but those in `except`. */
export interface DueScope {
  organizationId?: string;
  except?: readonly string[];
}

/**
 * Up to `limit` schedules with work at `now` in `scope` — most overdue first, then buffered
 * ticks waiting to retry — locked for the caller's transaction. SKIP LOCKED applies while
 * scanning, so concurrent callers each get rows nobody else holds. The due ones are read in order
 * from an index, up to `limit` (`lock_due_schedules`, migrations/0021 and 0023), never all of
 * them sorted.
 */
export async function lockDueSchedules(db: Queryable, now: Date, limit: number, scope: DueScope = {}): Promise<ScheduleRow[]> {
  const organizationId = scope.organizationId ?? null;
  const except = scope.except ?? [];
  const { rows: due } = await db.query<ScheduleRow>(`SELECT ${COLUMNS} FROM lock_due_schedules($1, $2, $3, $4)`, [now, limit, organizationId, except]);
  if (due.length === limit) return due;
  const { rows: buffered } = await db.query<ScheduleRow>(
    `SELECT ${COLUMNS} FROM schedules WHERE buffered_tick IS NOT NULL AND state = 'active' AND ($2::text IS NULL OR organization_id = $2)
       AND organization_id <> ALL ($4::text[]) AND NOT (schedule_id = ANY($3)) LIMIT $1 FOR UPDATE SKIP LOCKED`,
    [limit - due.length, organizationId, due.map((row) => row.schedule_id), except],
  );
  return [...due, ...buffered];
}

/** The organizations with at least `atLeast` schedules due by `now`, those with the fewest first. */
export async function largeBacklogs(db: Queryable, now: Date, atLeast: number): Promise<string[]> {
  const { rows } = await db.query<{ organization_id: string }>(
    `SELECT organization_id FROM schedules WHERE next_fire_at <= $1 AND state = 'active'
     GROUP BY organization_id HAVING count(*) >= $2 ORDER BY count(*), organization_id`,
    [now, atLeast],
  );
  return rows.map((row) => row.organization_id);
}

/** What the scheduler loop needs to know between passes (see `schedulerOutlook`). */
export interface SchedulerOutlook {
  /** The earliest fire time of any active schedule: the loop sleeps until then, within its poll interval. */
  earliest: Date | null;
  /** Some active schedule holds a buffered tick (`buffer_one`), started by a pass once its run ended. */
  buffered: boolean;
}

/** One statement, on the partial indexes of due and buffered schedules: whether a pass has anything to look at. */
export async function schedulerOutlook(db: Queryable): Promise<SchedulerOutlook> {
  const { rows } = await db.query<{ at: Date | null; buffered: boolean }>({
    name: 'thodare-scheduler-outlook',
    text: `SELECT (SELECT min(next_fire_at) FROM schedules WHERE next_fire_at IS NOT NULL) AS at,
      EXISTS (SELECT 1 FROM schedules WHERE buffered_tick IS NOT NULL AND state = 'active') AS buffered`,
  });
  return { earliest: rows[0]?.at ?? null, buffered: rows[0]?.buffered ?? false };
}

export async function listSchedules(
  db: Queryable,
  organizationId: string,
  page: { after?: string; limit: number; workflowId?: string },
): Promise<{ data: ScheduleView[]; next: string | null }> {
  const [at, id] = page.after ? decodeCursor(page.after, ['time', 'string']) : [null, null];
  const { rows } = await db.query<ScheduleRow>(
    `SELECT ${COLUMNS} FROM schedules
     WHERE organization_id = $1 AND state <> 'deleted' AND ($2::text IS NULL OR workflow_id = $2)
       AND ($3::timestamptz IS NULL OR (created_at, schedule_id) > ($3, $4))
     ORDER BY created_at, schedule_id LIMIT $5`,
    [organizationId, page.workflowId ?? null, at, id, page.limit + 1],
  );
  const { items, next } = toPage(rows, page.limit, scheduleView, (row) => [row.created_at.toISOString(), row.schedule_id]);
  return { data: items, next };
}

/** One entry of a schedule's tick ledger. */
export interface TickEntry {
  tick: string;
  outcome: 'fired' | 'skipped' | 'buffered';
  runId?: string;
  reason?: string;
  /** A skipped range: its last tick and how many ticks it holds. */
  through?: string;
  count?: number;
  origin: string;
  recordedAt: string;
}

/** The ledger in the order it was recorded; `after` is the previous page's `next`. */
export async function tickLedger(db: Queryable, scheduleId: string, page: { after?: string; limit: number }): Promise<{ data: TickEntry[]; next: string | null }> {
  const [after] = page.after ? decodeCursor(page.after, ['number']) : [0];
  const { rows } = await db.query<{
    global_position: string;
    tick: Date;
    outcome: TickEntry['outcome'];
    run_id: string | null;
    reason: string | null;
    through_tick: Date | null;
    tick_count: number;
    origin: string;
    recorded_at: Date;
  }>(
    `SELECT global_position, tick, outcome, run_id, reason, through_tick, tick_count, origin, recorded_at FROM schedule_ticks
     WHERE schedule_id = $1 AND global_position > $2 ORDER BY global_position LIMIT $3`,
    [scheduleId, after, page.limit + 1],
  );
  const { items, next } = toPage(
    rows,
    page.limit,
    (row): TickEntry => ({
      tick: row.tick.toISOString(),
      outcome: row.outcome,
      ...(row.run_id ? { runId: row.run_id } : {}),
      ...(row.reason ? { reason: row.reason } : {}),
      ...(row.through_tick ? { through: row.through_tick.toISOString(), count: row.tick_count } : {}),
      origin: row.origin,
      recordedAt: row.recorded_at.toISOString(),
    }),
    (row) => [Number(row.global_position)],
  );
  return { data: items, next };
}

/** The ticks of [from, to] that fired before, oldest first (a backfill never fires them again). */
export async function firedTicksBetween(db: Queryable, scheduleId: string, from: Date, to: Date): Promise<Date[]> {
  const { rows } = await db.query<{ tick: Date }>(
    `SELECT tick FROM schedule_ticks WHERE schedule_id = $1 AND outcome = 'fired' AND tick >= $2 AND tick <= $3 ORDER BY tick`,
    [scheduleId, from, to],
  );
  return rows.map((row) => row.tick);
}
