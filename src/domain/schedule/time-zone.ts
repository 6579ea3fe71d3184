import { nearestName } from '../connectors/edit-distance';

// IANA time zones for cron schedules: checking a name (with a suggested fix), and a zone's UTC
// offsets around one local day. Pure; the maps only memoize Intl lookups.

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** A time zone problem, in the shape of a failed cron check. */
export interface ZoneFailure {
  ok: false;
  field: 'timezone';
  message: string;
  suggestion?: string;
}


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

/** The canonical zone name (UTC when absent), or why the name is not a usable IANA zone. */
export function checkTimezone(timezone: unknown): string | ZoneFailure {
  if (timezone === undefined || timezone === null) return 'UTC';
  const fail = (message: string, suggestion?: string): ZoneFailure =>
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


/** A zone around one wall day: offset before and after its change, `at` the change (or Infinity). */
export interface ZoneDay {
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
export function zoneDay(timezone: string, day: number): ZoneDay {
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
