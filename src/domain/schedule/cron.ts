import { CronExpressionParser } from 'cron-parser';
import { nearestName } from '../connectors/edit-distance';
import { compile, nextWall, PARSE_OPTIONS, type CompiledCron } from './cron-compile';
import { checkTimezone, zoneDay, type ZoneDay } from './time-zone';

/**
 * Cron schedules read in an IANA time zone: validation with a suggested fix, and the fire times
 * ("ticks") after an instant. Pure: time comes in as arguments; the module-level maps below only
 * memoize (parsed crons, `Intl` formatters, per-day zone offsets), so answers never depend on them.
 *
 * Syntax: 5 fields (minute hour day-of-month month day-of-week) or 6 with a leading seconds
 * field, as cron-parser reads them (`L`, `#`, names such as `MON-FRI`; day-of-month and
 * day-of-week both restricted means either matches), plus its macros (`@daily`, `@hourly`, …).
 * Rejected although cron-parser takes them: Quartz `?` and a 7th (year) field, which mean
 * something else where they come from, `H` (random jitter would make ticks non-deterministic),
 * and fewer than 5 fields (cron-parser silently pads them).
 *
 * Ticks are computed here, not by cron-parser's iterator (5.10): on DST days its answer depends on
 * where iteration started — `30 2 * * *` in Europe/Rome asked after 01:03Z on 2025-10-26 fires
 * 02:30 a second time, asked after 01:03Z on 2025-03-30 skips that day; on Lord Howe's
 * 30-minute change `0 * * * *` returns a time before the start, then throws — and it costs
 * 20-50 µs a tick. cron-parser parses; this module lists the matching local wall-clock times
 * (integer calendar arithmetic) and maps each to an instant with these rules, pinned by tests:
 *
 * - Spring-forward gap (a local time that does not exist that day): it fires once, shifted
 *   forward by the gap length — `30 2 * * *` in Europe/Rome on 2025-03-30 fires at 03:30 CEST
 *   (01:30Z), the instant the clock would have shown 02:30 had it not jumped. A shifted time
 *   equal to a real matching time fires once.
 * - Fall-back overlap (a local time that occurs twice): it fires once, at its first occurrence
 *   (the daylight-time one) — `30 1 * * *` in America/New_York on 2026-11-01 fires at 05:30Z.
 * - Exception, for crons whose hour field covers all 24 hours (`*`, `0-23`): they follow
 *   elapsed time, as Vixie cron runs wildcard jobs — in the overlap they fire in both passes
 *   (`0 * * * *` fires 25 times on a 25-hour day) and times inside a gap are skipped, not
 *   shifted (`0 * * * *` fires 23 times on a 23-hour day; nothing fires at an odd minute in a
 *   30-minute gap).
 *
 * Assumes a zone changes its UTC offset at most once in any 54 hours (DST changes are months apart).
 */

/** A checked cron: expression trimmed with single spaces (macros lower-cased), canonical IANA zone. */
export interface CronSpec {
  readonly cron: string;
  readonly timezone: string;
}

export type CronCheck =
  | { ok: true; spec: CronSpec }
  | { ok: false; field: 'cron' | 'timezone'; message: string; suggestion?: string };

type Failure = Extract<CronCheck, { ok: false }>;

/** Thrown by `ticksAfter`/`nextTick` for a spec `checkCron` rejects: store only checked specs. */
export class InvalidCronSpec extends Error {
  readonly code = 'invalid_cron_spec';
  constructor(spec: CronSpec, reason: string) {
    super(`Invalid cron spec "${spec.cron}" (${spec.timezone}): ${reason}`);
    this.name = new.target.name;
  }
}

const DAY = 86_400_000;
const FIELD_NAMES = ['second', 'minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;
const MAX_LENGTH = 512;
const SHAPE = '5 fields (minute hour day-of-month month day-of-week) or 6 with a leading seconds field';
const MACROS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly', '@minutely', '@secondly', '@weekdays', '@weekends'];
/** `H` as cron-parser reads it, but not the H inside a name such as `THU`. */
const HASHED = /(^|[^A-Za-z])H([^A-Za-z]|$)/;

/** The normalized spec, or the first problem with the field it is in and a fix when one is clear. */
export function checkCron(cron: unknown, timezone?: unknown): CronCheck {
  const expression = checkExpression(cron);
  if (typeof expression !== 'string') return expression;
  const zone = checkTimezone(timezone);
  if (typeof zone !== 'string') return zone;
  return { ok: true, spec: { cron: expression, timezone: zone } };
}

function cronFailure(message: string, suggestion?: string): Failure {
  return suggestion === undefined ? { ok: false, field: 'cron', message } : { ok: false, field: 'cron', message, suggestion };
}

function checkExpression(cron: unknown): string | Failure {
  if (typeof cron !== 'string') return cronFailure(`cron must be a string of ${SHAPE}, e.g. "0 8 * * 1-5"`);
  const text = cron.trim().replace(/\s+/g, ' ');
  if (text === '') return cronFailure(`cron is empty: expected ${SHAPE}`);
  if (text.length > MAX_LENGTH) return cronFailure(`cron is ${text.length} characters long; the limit is ${MAX_LENGTH}`);
  if (text.startsWith('@')) {
    const macro = text.toLowerCase();
    if (MACROS.includes(macro)) return macro;
    return cronFailure(`unknown cron macro "${text}"; known: ${MACROS.join(', ')}`, nearestName(text, MACROS));
  }
  const fields = text.split(' ');
  const anyForQuestion = (list: readonly string[]) => list.map((f) => f.replace(/\?/g, '*')).join(' ');
  if (fields.length === 7) {
    return cronFailure(
      `"${text}" has 7 fields: a Quartz year field is not supported; expected ${SHAPE}${quartzWeekdayNote(fields[5])}`,
      validOrUndefined(anyForQuestion(fields.slice(0, 6))),
    );
  }
  if (fields.length < 5 || fields.length > 7) return cronFailure(`"${text}" has ${fields.length} fields; expected ${SHAPE}`);
  if (text.includes('?')) {
    const note = quartzWeekdayNote(fields[fields.length - 1]);
    return cronFailure(`"?" is Quartz syntax; use "*" for "any"${note}`, validOrUndefined(anyForQuestion(fields)));
  }
  if (fields.some((f) => HASHED.test(f))) return cronFailure('"H" (hashed jitter) is not supported: write a fixed value');
  let compiledCron: CompiledCron;
  try {
    compiledCron = compile(text);
  } catch (error) {
    return cronFailure(explain(text, fields, error instanceof Error ? error.message : String(error)));
  }
  if (nextWall(compiledCron, Date.UTC(2000, 0, 1), Number.POSITIVE_INFINITY) === null) return cronFailure(neverFires(text));
  return text;
}

function validOrUndefined(candidate: string): string | undefined {
  return typeof checkExpression(candidate) === 'string' ? candidate : undefined;
}

/** Quartz counts weekdays 1-7 from Sunday; a numeric day copied over silently moves by one. */
function quartzWeekdayNote(dayOfWeek: string | undefined): string {
  return dayOfWeek !== undefined && /\d/.test(dayOfWeek) ? ' (note: here day-of-week 0 or 7 is Sunday and 1 is Monday; Quartz counts 1 as Sunday)' : '';
}

function neverFires(text: string): string {
  return `"${text}" never fires: no calendar date matches its day-of-month, month and day-of-week`;
}

function parseProblem(text: string): string | undefined {
  try {
    CronExpressionParser.parse(text, PARSE_OPTIONS);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Names the field at fault (cron-parser's messages do not) by parsing each field alone. */
function explain(text: string, fields: readonly string[], problem: string): string {
  const six = fields.length === 5 ? ['0', ...fields] : [...fields];
  for (let i = 0; i < six.length; i += 1) {
    const alone = parseProblem(six.map((f, j) => (j === i ? f : '*')).join(' '));
    if (alone !== undefined) return `${FIELD_NAMES[i]} field "${six[i]}": ${readable(alone)}`;
  }
  if (/explicit day of month/i.test(problem)) return neverFires(text);
  return `invalid cron "${text}": ${readable(problem)}`;
}

function readable(message: string): string {
  return message
    .replace(/^Cron\w+ /, '')
    .replace(/^(Constraint|Validation) error, /, '')
    .replace(/^got value (\S+) expected range (\S+)$/, '$1 is outside $2')
    .replace(/^got range (\S+) expected range (\S+)$/, 'range $1 is outside $2')
    .replace(/^cannot repeat at every (.*) time\.?$/, 'step $1 must be a positive number')
    .replace(/^Invalid characters, got value: (.*)$/, 'unexpected characters in "$1"')
    .replace(/^cannot resolve alias "(.*)"$/, 'unknown name "$1"')
    .replace(/^invalid dayOfWeek occurrence number \(#\)$/, 'the number after # must be 1-5');
}

/**
 * Appends to `out` the instants a wall fires at (see the module comment); returns how far a DST
 * change moved it (0 when none). `out` is reused across walls to spare the hot loop allocations.
 */
function instantsOf(c: CompiledCron, z: ZoneDay, wall: number, out: number[]): number {
  out.length = 0;
  const shift = Math.abs(z.after - z.before);
  const start = z.at + Math.min(z.before, z.after);
  if (z.at === Number.POSITIVE_INFINITY || wall < start) {
    out.push(wall - z.before);
    return 0;
  }
  if (wall >= start + shift) {
    out.push(wall - z.after);
    return 0;
  }
  const gap = z.after > z.before;
  if (!c.everyHour) out.push(wall - z.before);
  else if (!gap) out.push(wall - z.before, wall - z.after);
  return shift;
}

// ---- ticks ------------------------------------------------------------------------------------

/**
 * Fire times strictly after `after`, ascending, at most `limit`, none after `until` (inclusive
 * bound) when given. Forward iteration only (never cron-parser's prev(): it mishandles DST days).
 * `limit` may be Infinity only with `until`. Throws `InvalidCronSpec` for an unchecked bad spec.
 */
export function ticksAfter(spec: CronSpec, after: Date, limit: number, until?: Date): Date[] {
  const count = Math.floor(limit);
  if (!(count > 0)) return [];
  const from = after.getTime();
  const to = until === undefined ? Number.POSITIVE_INFINITY : until.getTime();
  if (count === Number.POSITIVE_INFINITY && to === Number.POSITIVE_INFINITY) throw new RangeError('ticksAfter: an unbounded limit needs `until`');
  if (!(to > from)) return [];
  const [c, here] = prepare(spec, from);
  // A wall a little before `after`'s own can still fire after it when a DST change is near.
  const lookback = here.at === Number.POSITIVE_INFINITY ? 0 : Math.abs(here.after - here.before);
  let cursor = from + (from < here.at ? here.before : here.after) - lookback - 1;
  const bound = to + DAY;
  const found: number[] = [];
  // Set once a DST change is in play: a shifted wall can repeat a real one.
  let seen: Set<number> | undefined;
  // Shifted or twice-fired walls can land after later walls' instants; settle past them first.
  let horizon = Number.NEGATIVE_INFINITY;
  const instants: number[] = [];
  for (;;) {
    const wall = nextWall(c, cursor, bound);
    if (wall === null) break;
    cursor = wall;
    const shift = instantsOf(c, zoneDay(spec.timezone, Math.floor(wall / DAY)), wall, instants);
    if (shift > 0) {
      horizon = Math.max(horizon, wall + shift);
      seen ??= new Set(found);
    }
    for (const instant of instants) {
      if (instant <= from || instant > to || seen?.has(instant)) continue;
      seen?.add(instant);
      found.push(instant);
    }
    const settled = wall >= horizon;
    if (settled && (found.length >= count || (instants[0] ?? Number.NEGATIVE_INFINITY) > to)) break;
  }
  // Without a DST change in play the instants came out strictly ascending already.
  const ordered = seen === undefined ? found : found.sort((a, b) => a - b);
  return ordered.slice(0, count).map((instant) => new Date(instant));
}

/** The first tick strictly after `after` (not after `until`), or null when there is none. */
export function nextTick(spec: CronSpec, after: Date, until?: Date): Date | null {
  return ticksAfter(spec, after, 1, until)[0] ?? null;
}

function prepare(spec: CronSpec, from: number): [CompiledCron, ZoneDay] {
  try {
    return [compile(spec.cron), zoneDay(spec.timezone, Math.floor(from / DAY))];
  } catch (error) {
    throw new InvalidCronSpec(spec, error instanceof Error ? error.message : String(error));
  }
}
