import { nextTick } from '../domain/schedule/cron';
import { SCHEDULE_STREAM_PREFIX, type ScheduleEvent } from '../domain/schedule/schedule.events';
import type { RecordedEvent } from '../event-store/event';
import type { Queryable } from '../event-store/projection';

// The tick facts of the `schedules` projection (schedules.projection.ts, the one owner of
// `schedules` and `schedule_ticks`): the ledger entries and what each tick moves on its row.

const TICK_FACTS: ReadonlySet<string> = new Set(['ScheduleFired', 'ScheduleTickBuffered', 'ScheduleTickSkipped']);

/** Whether the event is a tick of a schedule (fired, buffered or skipped). */
export function isTickFact(event: RecordedEvent): boolean {
  return TICK_FACTS.has(event.type) && event.streamId.startsWith(SCHEDULE_STREAM_PREFIX);
}

interface TickEntry {
  tick: string;
  outcome: 'fired' | 'skipped' | 'buffered';
  origin: string;
  runId?: string;
  reason?: string;
  through?: string;
  count?: number;
}

/** What a tick fact reads of its schedule's row, and moves. */
interface TickedRow {
  schedule_id: string;
  cron: string;
  timezone: string;
  state: string;
  cursor_at: Date;
  last_run_id: string | null;
  last_scheduled_at: Date | null;
  buffered_tick: Date | null;
  stream_version: number;
  updated_at: Date;
}

/**
 * Tick facts (`ScheduleFired`, `ScheduleTickBuffered`, `ScheduleTickSkipped`) of any number of
 * schedules: their rows read once, each fact played onto its row in order, then one insert of
 * the ledger entries (a fired tick's entry is its claim: unique per schedule and tick) and one
 * update of the rows. A fact moves the cursor forward to its tick (never back) — except a tick
 * fired on demand or by a backfill, and a skip while paused, which record without moving it;
 * a fired tick becomes the last run (and leaves the buffer if it waited there); a buffered tick
 * waits there; a skip because the schedule ended (or lost its workflow) stops it there. The
 * next fire time of a schedule still active is computed from the cursor.
 */
export async function applyTicks(db: Queryable, events: readonly RecordedEvent[]): Promise<void> {
  if (events.length === 0) return;
  const ids = [...new Set(events.map((event) => event.streamId.slice(SCHEDULE_STREAM_PREFIX.length)))];
  const { rows } = await db.query<TickedRow>(
    `SELECT schedule_id, cron, timezone, state, cursor_at, last_run_id, last_scheduled_at, buffered_tick, stream_version, updated_at
     FROM schedules WHERE schedule_id = ANY($1::text[])`,
    [ids],
  );
  const byId = new Map(rows.map((row) => [row.schedule_id, row]));
  const ledger: unknown[][] = [];
  for (const event of events) {
    const scheduleId = event.streamId.slice(SCHEDULE_STREAM_PREFIX.length);
    const row = byId.get(scheduleId);
    if (!row) throw new Error(`schedule ${scheduleId} has no row`);
    ledger.push(tickValues(event, scheduleId, playTick(row, event as unknown as ScheduleEvent)));
    row.stream_version = event.streamVersion;
    row.updated_at = event.recordedAt;
  }
  const column = (i: number) => ledger.map((values) => values[i]);
  await db.query(
    `INSERT INTO schedule_ticks (global_position, schedule_id, organization_id, tick, outcome, reason, run_id, through_tick, tick_count, origin, recorded_at)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::int[], $10::text[], $11::timestamptz[])`,
    Array.from({ length: 11 }, (_, i) => column(i)),
  );
  const moved = [...byId.values()];
  const next = moved.map((row) => (row.state === 'active' ? nextTick({ cron: row.cron, timezone: row.timezone }, row.cursor_at) : null));
  await db.query(
    `UPDATE schedules s SET state = u.state, cursor_at = u.cursor_at, next_fire_at = u.next_fire_at, stream_version = u.stream_version,
       updated_at = u.updated_at, last_run_id = u.last_run_id, last_scheduled_at = u.last_scheduled_at, buffered_tick = u.buffered_tick
     FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[], $6::timestamptz[], $7::text[], $8::timestamptz[], $9::timestamptz[])
       AS u(schedule_id, state, cursor_at, next_fire_at, stream_version, updated_at, last_run_id, last_scheduled_at, buffered_tick)
     -- The array again, on the table's side: joined to unnest alone, the planner read every
     -- schedule to update a batch (a pass over 10,000 read 10,000 rows per batch of 100).
     WHERE s.schedule_id = u.schedule_id AND s.schedule_id = ANY($1::text[])`,
    [
      moved.map((row) => row.schedule_id),
      moved.map((row) => row.state),
      moved.map((row) => row.cursor_at),
      next,
      moved.map((row) => row.stream_version),
      moved.map((row) => row.updated_at),
      moved.map((row) => row.last_run_id),
      moved.map((row) => row.last_scheduled_at),
      moved.map((row) => row.buffered_tick),
    ],
  );
}

/** Plays one tick fact onto its row (in memory); its ledger entry. */
function playTick(row: TickedRow, fact: ScheduleEvent): TickEntry {
  const forward = (tick: string | null) => {
    if (tick && new Date(tick) > row.cursor_at) row.cursor_at = new Date(tick);
  };
  switch (fact.type) {
    case 'ScheduleFired': {
      const { tick, runId, origin } = fact.data;
      forward(origin === 'schedule' ? tick : null);
      if (row.buffered_tick?.getTime() === Date.parse(tick)) row.buffered_tick = null;
      row.last_run_id = runId;
      row.last_scheduled_at = new Date(tick);
      return { tick, outcome: 'fired', runId, origin };
    }
    case 'ScheduleTickBuffered':
      forward(fact.data.tick);
      row.buffered_tick = new Date(fact.data.tick);
      return { tick: fact.data.tick, outcome: 'buffered', origin: 'schedule' };
    case 'ScheduleTickSkipped': {
      const { tick, reason, origin, through, count } = fact.data;
      if (reason === 'ended' || reason === 'workflow_deleted') {
        row.state = reason;
        row.cursor_at = new Date(tick);
      } else forward(origin === 'schedule' && reason !== 'paused' ? (through ?? tick) : null); // skips while paused are recorded just before the resume
      return { tick, outcome: 'skipped', reason, origin, ...(through ? { through } : {}), ...(count ? { count } : {}) };
    }
    default:
      throw new Error(`${fact.type} is not a tick fact`);
  }
}

function tickValues(event: RecordedEvent, scheduleId: string, entry: TickEntry): unknown[] {
  const { tick, outcome, reason, runId, through, count, origin } = entry;
  return [event.globalPosition, scheduleId, event.organizationId, tick, outcome, reason ?? null, runId ?? null, through ?? null, count ?? 1, origin, event.recordedAt];
}
