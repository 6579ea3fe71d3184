import { CronExpressionParser } from 'cron-parser';

// A cron expression compiled to lookup tables, and the next matching local wall-clock time after
// another (calendar arithmetic without time zones: cron.ts maps walls to instants).

const SECOND = 1000;
const DAY = 86_400_000;
/** The Gregorian calendar repeats every 400 years: a cron that matches no day in them never fires. */
export const CYCLE_DAYS = 146_097;


/** A fixed seed, so cron-parser never reaches for Math.random (`H` is rejected anyway). */
export const PARSE_OPTIONS = { tz: 'UTC', currentDate: 0, hashSeed: 'thodare' } as const;

/** Lookup tables for one cron; `dom`/`months` indexed by calendar number, `dow` by 0 = Sunday. */
export interface CompiledCron {
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
export function compile(cron: string): CompiledCron {
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
export function nextWall(c: CompiledCron, after: number, bound: number): number | null {
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
