import { CronExpressionParser } from 'cron-parser';
import { nearestName } from '../connectors/edit-distance';

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

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** The Gregorian calendar repeats every 400 years: a cron that matches no day in them never fires. */
const CYCLE_DAYS = 146_097;
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

// ---- time zones -------------------------------------------------------------------------------

/** Common abbreviations: only ever a suggestion, since they are ambiguous and ignore DST. */
const ABBREVIATIONS: ReadonlyMap<string, string> = new Map([
  ['EST', 'America/New_York'], ['EDT', 'America/New_York'], ['CST', 'America/Chicago'], ['CDT', 'America/Chicago'],
  ['MST', 'America/Denver'], ['MDT', 'America/Denver'], ['PST', 'America/Los_Angeles'], ['PDT', 'America/Los_Angeles'],
  ['AKST', 'America/Anchorage'], ['AKDT', 'America/Anchorage'], ['HST', 'Pacific/Honolulu'], ['GMT', 'UTC'],
  ['BST', 'Europe/London'], ['WET', 'Europe/Lisbon'], ['WEST', 'Europe/Lisbon'], ['CET', 'Europe/Paris'],
  ['CEST', 'Europe/Paris'], ['MET', 'Europe/Paris'], ['EET', 'Europe/Athens'], ['EEST', 'Europe/Athens'],
  ['MSK', 'Europe/Moscow'], ['IST', 'Asia/Kolkata'], ['JST', 'Asia/Tokyo'], ['KST', 'Asia/Seoul'],
  ['AEST', 'Australia/Sydney'], ['AEDT', 'Australia/Sydney'], ['NZST', 'Pacific/Auckland'], ['NZDT', 'Pacific/Auckland'],
]);
/**
 * Geographic IANA areas. Node's ICU lists some zones under their old names (Asia/Calcutta,
 * Europe/Kiev), so a name Intl accepts in one of these areas is accepted as written; legacy
 * aliases outside them (US/Eastern, EST5EDT) get the canonical name as a suggestion instead.
 */
const AREA = /^(Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific)\/[^/]/i;

let zoneIndex: { names: readonly string[]; byLowerCase: ReadonlyMap<string, string> } | undefined;

function knownZones(): NonNullable<typeof zoneIndex> {
  if (zoneIndex === undefined) {
    const names = [...Intl.supportedValuesOf('timeZone'), 'UTC'];
    zoneIndex = { names, byLowerCase: new Map(names.map((name) => [name.toLowerCase(), name])) };
  }
  return zoneIndex;
}

/** The zone Intl resolves `name` to, or undefined when Intl rejects it. */
function intlZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

function checkTimezone(timezone: unknown): string | Failure {
  if (timezone === undefined || timezone === null) return 'UTC';
  const fail = (message: string, suggestion?: string): Failure =>
    suggestion === undefined ? { ok: false, field: 'timezone', message } : { ok: false, field: 'timezone', message, suggestion };
  if (typeof timezone !== 'string') return fail('timezone must be an IANA time zone name such as "Europe/Rome"');
  const name = timezone.trim();
  if (name === '') return fail('timezone is empty: omit it for UTC or give an IANA name such as "Europe/Rome"', 'UTC');
  const known = knownZones().byLowerCase.get(name.toLowerCase());
  if (known !== undefined) return known;
  const resolved = intlZone(name);
  if (resolved !== undefined && /^etc\//i.test(name)) return resolved;
  if (resolved !== undefined && AREA.test(name)) return name === name.toLowerCase() || name === name.toUpperCase() ? titleCase(name) : name;
  const abbreviation = ABBREVIATIONS.get(name.toUpperCase());
  if (abbreviation !== undefined) {
    return fail(`"${name}" is an abbreviation, not an IANA time zone: abbreviations are ambiguous and ignore daylight saving`, abbreviation);
  }
  if (resolved !== undefined && knownZones().byLowerCase.has(resolved.toLowerCase())) {
    return fail(`"${name}" is a legacy alias; use the IANA name`, resolved);
  }
  const guess = /^[A-Z]{2,5}\d?$/.test(name) ? undefined : nearestName(name, knownZones().names);
  return fail(`unknown time zone "${name}": use an IANA name such as "Europe/Rome"`, guess);
}

function titleCase(name: string): string {
  return name.toLowerCase().replace(/(^|[/_-])([a-z])/g, (_match, separator: string, letter: string) => separator + letter.toUpperCase());
}

// ---- compiled crons ---------------------------------------------------------------------------

/** A fixed seed, so cron-parser never reaches for Math.random (`H` is rejected anyway). */
const PARSE_OPTIONS = { tz: 'UTC', currentDate: 0, hashSeed: 'thodare' } as const;

/** Lookup tables for one cron; `dom`/`months` indexed by calendar number, `dow` by 0 = Sunday. */
interface CompiledCron {
  readonly seconds: readonly number[];
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  /** `secondFrom[s]`: index in `seconds` of the first value >= s (length when none); same for the others. */
  readonly secondFrom: readonly number[];
  readonly minuteFrom: readonly number[];
  readonly hourFrom: readonly number[];
  readonly months: readonly boolean[];
  readonly dom: readonly boolean[];
  readonly domLast: boolean;
  readonly domAny: boolean;
  readonly dow: readonly boolean[];
  /** Weekdays that match in the last 7 days of a month (`5L`). */
  readonly dowLast: readonly boolean[];
  /** 1-5 for `#n`, 0 when absent. */
  readonly dowNth: number;
  readonly dowAny: boolean;
  /** Hour field covers all 24 hours: the cron follows elapsed time across DST changes (module comment). */
  readonly everyHour: boolean;
}

const COMPILED_CAPACITY = 2048;
const compiled = new Map<string, CompiledCron>();

/** Parsing costs ~25 µs; a scheduler pass asks about the same crons over and over (LRU). */
function compile(cron: string): CompiledCron {
  const hit = compiled.get(cron);
  if (hit !== undefined) {
    compiled.delete(cron);
    compiled.set(cron, hit);
    return hit;
  }
  const { fields } = CronExpressionParser.parse(cron, PARSE_OPTIONS);
  const flags = (size: number, values: readonly (number | string)[], map: (v: number) => number = (v) => v) => {
    const table = new Array<boolean>(size).fill(false);
    for (const value of values) if (typeof value === 'number') table[map(value)] = true;
    return table;
  };
  const dowLast = new Array<boolean>(7).fill(false);
  if (fields.dayOfWeek.hasLastChar) {
    // As cron-parser matches `nL`: the leading digit names the weekday.
    for (const value of fields.dayOfWeek.values) {
      const day = Number.parseInt(String(value).charAt(0), 10);
      if (!Number.isNaN(day)) dowLast[day % 7] = true;
    }
  }
  const [seconds, minutes, hours] = [fields.second.values.map(Number), fields.minute.values.map(Number), fields.hour.values.map(Number)];
  const indexFrom = (values: readonly number[], size: number) =>
    Array.from({ length: size }, (_, v) => {
      const index = values.findIndex((value) => value >= v);
      return index === -1 ? values.length : index;
    });
  const result: CompiledCron = {
    seconds,
    minutes,
    hours,
    secondFrom: indexFrom(seconds, 60),
    minuteFrom: indexFrom(minutes, 60),
    hourFrom: indexFrom(hours, 24),
    months: flags(13, fields.month.values),
    dom: flags(32, fields.dayOfMonth.values),
    domLast: fields.dayOfMonth.hasLastChar,
    domAny: fields.dayOfMonth.isWildcard,
    dow: flags(7, fields.dayOfWeek.values, (v) => v % 7),
    dowLast,
    dowNth: fields.dayOfWeek.nthDay,
    dowAny: fields.dayOfWeek.isWildcard,
    everyHour: fields.hour.values.length === 24,
  };
  compiled.set(cron, result);
  if (compiled.size > COMPILED_CAPACITY) compiled.delete(compiled.keys().next().value as string);
  return result;
}

// ---- wall-clock iteration ---------------------------------------------------------------------
// A "wall" is a local date-time encoded as the UTC milliseconds of the same digits: calendar
// arithmetic on it has no DST, which is what lets the cron fields be matched exactly.

/** Mirrors cron-parser's day rule: both fields restricted means either matches. */
function dayMatches(c: CompiledCron, date: number, weekday: number, monthLength: number): boolean {
  const domHit = c.dom[date] === true || (c.domLast && date === monthLength);
  const dowHit =
    (c.dow[weekday] === true && (c.dowNth === 0 || Math.ceil(date / 7) === c.dowNth)) ||
    (c.dowLast[weekday] === true && date > monthLength - 7);
  if (c.dowAny) return domHit;
  if (c.domAny) return dowHit;
  return domHit || dowHit;
}

/** The first matching time of day at or after `from` (ms into the day, whole seconds), or null. */
function firstTimeOfDay(c: CompiledCron, from: number): number | null {
  const s0 = from / SECOND;
  const [h0, m0, sec0] = [Math.floor(s0 / 3600), Math.floor(s0 / 60) % 60, s0 % 60];
  for (let i = c.hourFrom[h0] as number; i < c.hours.length; i += 1) {
    const h = c.hours[i] as number;
    for (let j = h === h0 ? (c.minuteFrom[m0] as number) : 0; j < c.minutes.length; j += 1) {
      const m = c.minutes[j] as number;
      const k = h === h0 && m === m0 ? (c.secondFrom[sec0] as number) : 0;
      if (k < c.seconds.length) return ((h * 60 + m) * 60 + (c.seconds[k] as number)) * SECOND;
    }
  }
  return null;
}

const MONTH_LENGTHS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function monthLength(year: number, month: number): number {
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return (MONTH_LENGTHS[month - 1] as number) + (leap ? 1 : 0);
}

/** Year, month (1-12) and date of a day number (days since 1970-01-01); Hinnant's civil_from_days. */
function civil(day: number): { year: number; month: number; date: number } {
  const z = day + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, date: doy - Math.floor((153 * mp + 2) / 5) + 1 };
}

/**
 * The first matching wall strictly after `after` and not after `bound`; null past 400 years.
 * Walks month by month and day by day with integer arithmetic: this loop is the hot path.
 */
function nextWall(c: CompiledCron, after: number, bound: number): number | null {
  const start = Math.floor(after / SECOND) * SECOND + SECOND;
  let day = Math.floor(start / DAY);
  let from = start - day * DAY;
  const lastDay = Math.min(Math.floor(bound / DAY), day + CYCLE_DAYS);
  let { year, month, date } = civil(day);
  while (day <= lastDay) {
    const length = monthLength(year, month);
    if (c.months[month] === true) {
      // 1970-01-01 (day 0) was a Thursday.
      for (let weekday = (((day + 4) % 7) + 7) % 7; date <= length && day <= lastDay; date += 1, day += 1, weekday = (weekday + 1) % 7) {
        if (dayMatches(c, date, weekday, length)) {
          const time = firstTimeOfDay(c, from);
          if (time !== null) return day * DAY + time <= bound ? day * DAY + time : null;
        }
        from = 0;
      }
    } else {
      day += length - date + 1;
    }
    from = 0;
    date = 1;
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
  return null;
}

// ---- zone offsets -----------------------------------------------------------------------------

/** A zone around one wall day: offset before and after its change, `at` the change (or Infinity). */
interface ZoneDay {
  readonly before: number;
  readonly after: number;
  readonly at: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const zoneDays = new Map<string, Map<number, ZoneDay>>();
const ZONE_DAYS_CAPACITY = 4096;
/** Walls of one day map to instants within 14 h before to 12 h after it; look a bit wider. */
const ZONE_MARGIN = 15 * HOUR;

function formatter(timezone: string): Intl.DateTimeFormat {
  let dtf = formatters.get(timezone);
  if (dtf === undefined) {
    if (formatters.size >= 1024) formatters.clear();
    const parts = { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' } as const;
    dtf = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', ...parts });
    formatters.set(timezone, dtf);
  }
  return dtf;
}

/** UTC offset (ms) of `timezone` at the instant `at` (whole seconds). */
function offsetAt(timezone: string, at: number): number {
  const p: Record<string, number> = {};
  for (const part of formatter(timezone).formatToParts(at)) p[part.type] = Number(part.value);
  const wall = Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, (p.hour ?? 0) % 24, p.minute ?? 0, p.second ?? 0);
  return wall - at;
}

/** Offsets around wall day `day`, with the change instant found by bisection to the second. */
function zoneDay(timezone: string, day: number): ZoneDay {
  let days = zoneDays.get(timezone);
  const hit = days?.get(day);
  if (hit !== undefined) return hit;
  let lo = day * DAY - ZONE_MARGIN;
  let hi = (day + 1) * DAY + ZONE_MARGIN;
  const before = offsetAt(timezone, lo);
  const after = offsetAt(timezone, hi);
  if (before !== after) {
    while (hi - lo > SECOND) {
      const mid = lo + Math.floor((hi - lo) / (2 * SECOND)) * SECOND;
      if (offsetAt(timezone, mid) === before) lo = mid;
      else hi = mid;
    }
  }
  const result: ZoneDay = { before, after, at: before === after ? Number.POSITIVE_INFINITY : hi };
  if (days === undefined) zoneDays.set(timezone, (days = new Map()));
  if (days.size >= ZONE_DAYS_CAPACITY) days.delete(days.keys().next().value as number);
  days.set(day, result);
  return result;
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
