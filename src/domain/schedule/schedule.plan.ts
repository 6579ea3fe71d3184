import { ticksAfter, type CronSpec } from './cron';
import type { OverlapPolicy, SkipReason } from './schedule.events';

/** Ticks a single pass considers per schedule; a longer backlog continues on the next pass. */
export const MAX_TICKS_PER_PASS = 1000;
/** Missed ticks counted into one skipped range per pass (a per-second cron down for a week continues next pass). */
export const MAX_MISSED_PER_PASS = 10_000;

/** What the scheduler knows of a schedule when it is due (its row, plus the world around it). */
export interface DueSchedule {
  spec: CronSpec;
  overlap: OverlapPolicy;
  catchupWindowSec: number;
  endAt: Date | null;
  /** Every tick up to here has its fate recorded. */
  cursor: Date;
  /** `buffer_one`: the tick waiting for the active run to end. */
  bufferedTick: Date | null;
  /** This schedule's last run is still queued, running, sleeping or waiting. */
  lastRunActive: boolean;
  workflow: 'runnable' | 'not_runnable' | 'deleted';
}

/** One tick's fate. `cancelPrevious`: `cancel_other` asks the active run to stop first. */
export type TickStep =
  | { kind: 'fire'; tick: Date; cancelPrevious: boolean }
  | { kind: 'buffer'; tick: Date }
  | { kind: 'skip'; tick: Date; reason: SkipReason; through?: Date; count?: number };

/**
 * The fate of every tick of `schedule` due by `now`, oldest first (pure). Ticks older than the
 * catch-up window are one `missed` range; the rest fire one by one under the overlap policy (a
 * run fired earlier in the same pass counts as active); a waiting buffered tick fires first
 * once the active run ended; the first tick after `endAt` ends the schedule; a deleted workflow
 * retires it; a workflow that is not runnable skips each tick (it may be repaired).
 */
export function planDueTicks(schedule: DueSchedule, now: Date): TickStep[] {
  const steps: TickStep[] = [];
  let active = schedule.lastRunActive;
  let buffered = schedule.bufferedTick;
  if (buffered && !active && schedule.workflow === 'runnable') {
    steps.push({ kind: 'fire', tick: buffered, cancelPrevious: false });
    active = true;
    buffered = null;
  }
  let cursor = schedule.cursor;
  const windowStart = new Date(now.getTime() - schedule.catchupWindowSec * 1000);
  const missed = ticksAfter(schedule.spec, cursor, MAX_MISSED_PER_PASS, endOf(schedule, new Date(windowStart.getTime() - 1)));
  if (missed.length > 0) {
    const first = missed[0]!;
    const last = missed[missed.length - 1]!;
    steps.push({ kind: 'skip', tick: first, reason: 'missed', ...(missed.length > 1 ? { through: last, count: missed.length } : {}) });
    if (missed.length === MAX_MISSED_PER_PASS) return steps;
    cursor = last;
  }
  const due = ticksAfter(schedule.spec, cursor, MAX_TICKS_PER_PASS, now);
  for (const tick of due) {
    if (schedule.endAt && tick > schedule.endAt) {
      steps.push({ kind: 'skip', tick, reason: 'ended' });
      break;
    }
    if (schedule.workflow === 'deleted') {
      steps.push({ kind: 'skip', tick, reason: 'workflow_deleted' });
      break;
    }
    if (schedule.workflow === 'not_runnable') {
      steps.push({ kind: 'skip', tick, reason: 'not_runnable' });
      continue;
    }
    const step = underOverlap(schedule.overlap, tick, active, buffered !== null);
    steps.push(step);
    if (step.kind === 'fire') active = true;
    if (step.kind === 'buffer') buffered = tick;
  }
  return steps;
}

/**
 * Whether `planDueTicks` needs to know if the schedule's last run is still active: not under
 * `allow` (a tick fires whatever that run is doing) unless a tick waits in the buffer (left there
 * under `buffer_one`, it fires once that run ended).
 */
export function needsLastRunStatus(overlap: OverlapPolicy, bufferedTick: Date | null): boolean {
  return overlap !== 'allow' || bufferedTick !== null;
}

/** A tick due while a run of the schedule is active, under each overlap policy. */
export function underOverlap(policy: OverlapPolicy, tick: Date, active: boolean, alreadyBuffered: boolean): TickStep {
  if (!active) return { kind: 'fire', tick, cancelPrevious: false };
  switch (policy) {
    case 'allow':
      return { kind: 'fire', tick, cancelPrevious: false };
    case 'cancel_other':
      return { kind: 'fire', tick, cancelPrevious: true };
    case 'buffer_one':
      return alreadyBuffered ? { kind: 'skip', tick, reason: 'overlap' } : { kind: 'buffer', tick };
    case 'skip':
      return { kind: 'skip', tick, reason: 'overlap' };
  }
}

/** The latest tick a range may reach: `until`, or the end of the schedule when that is sooner. */
function endOf(schedule: DueSchedule, until: Date): Date {
  return schedule.endAt && schedule.endAt < until ? schedule.endAt : until;
}
