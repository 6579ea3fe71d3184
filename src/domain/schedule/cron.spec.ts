import { CronExpressionParser } from 'cron-parser';
import { checkCron, InvalidCronSpec, nextTick, ticksAfter, type CronSpec } from './cron';

const spec = (cron: string, timezone = 'UTC'): CronSpec => ({ cron, timezone });
const at = (iso: string) => new Date(iso);
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());
/** Every tick in (after, until]. */
const between = (s: CronSpec, after: string, until: string) => ticksAfter(s, at(after), Number.POSITIVE_INFINITY, at(until));
const localDate = (timezone: string) => {
  const dtf = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return (d: Date) => dtf.format(d);
};
const gaps = (dates: Date[]) => dates.slice(1).map((d, i) => d.getTime() - (dates[i] as Date).getTime());

describe('checkCron: expressions', () => {
  it('normalizes whitespace and defaults the time zone to UTC', () => {
    expect(checkCron('  0   8 * *\t1-5 ')).toEqual({ ok: true, spec: { cron: '0 8 * * 1-5', timezone: 'UTC' } });
    expect(checkCron('*/15 * * * * *', 'UTC')).toEqual({ ok: true, spec: { cron: '*/15 * * * * *', timezone: 'UTC' } });
    expect(checkCron('0 0 * * THU')).toMatchObject({ ok: true });
    expect(checkCron('0 0 L * *')).toMatchObject({ ok: true });
    expect(checkCron('0 9 * * 1#2')).toMatchObject({ ok: true });
  });

  it("accepts cron-parser's macros, lower-cased, and suggests the nearest for a typo", () => {
    expect(checkCron('@Daily')).toEqual({ ok: true, spec: { cron: '@daily', timezone: 'UTC' } });
    expect(checkCron('@hourly')).toMatchObject({ ok: true });
    expect(checkCron('@dayly')).toMatchObject({ ok: false, field: 'cron', suggestion: '@daily' });
    expect(checkCron('@reboot')).toMatchObject({ ok: false, field: 'cron' });
  });

  it('rejects a Quartz year field, suggesting the expression without it', () => {
    expect(checkCron('0 0 12 * * MON-FRI 2026')).toMatchObject({ ok: false, field: 'cron', suggestion: '0 0 12 * * MON-FRI' });
    expect(checkCron('0 0 12 ? * MON-FRI 2026')).toMatchObject({ ok: false, field: 'cron', suggestion: '0 0 12 * * MON-FRI' });
    expect(checkCron('0 0 61 * * * 2026')).toEqual({ ok: false, field: 'cron', message: expect.stringContaining('7 fields') });
  });

  it('rejects Quartz "?", suggesting "*" (and warning when a numeric weekday changes meaning)', () => {
    expect(checkCron('0 12 ? * MON')).toMatchObject({ ok: false, field: 'cron', suggestion: '0 12 * * MON' });
    const numeric = checkCron('0 12 ? * 2');
    expect(numeric).toMatchObject({ ok: false, suggestion: '0 12 * * 2', message: expect.stringContaining('1 is Monday') });
  });

  it('rejects the wrong number of fields, H jitter and non-strings', () => {
    expect(checkCron('* * *')).toMatchObject({ ok: false, field: 'cron', message: expect.stringContaining('has 3 fields') });
    expect(checkCron('')).toMatchObject({ ok: false, field: 'cron', message: expect.stringContaining('empty') });
    expect(checkCron('* * * * * * * *')).toMatchObject({ ok: false, field: 'cron', message: expect.stringContaining('has 8 fields') });
    expect(checkCron('H * * * *')).toEqual({ ok: false, field: 'cron', message: expect.stringContaining('"H"') });
    expect(checkCron(42)).toMatchObject({ ok: false, field: 'cron' });
  });

  it("names the field cron-parser's error is about", () => {
    expect(checkCron('61 * * * *')).toEqual({ ok: false, field: 'cron', message: 'minute field "61": 61 is outside 0-59' });
    expect(checkCron('0 25 * * *')).toMatchObject({ message: 'hour field "25": 25 is outside 0-23' });
    expect(checkCron('0 0 * * 8')).toMatchObject({ message: 'day-of-week field "8": 8 is outside 0-7' });
    expect(checkCron('*/0 * * * *')).toMatchObject({ message: 'minute field "*/0": step 0 must be a positive number' });
    expect(checkCron('0 0 * * xyz')).toMatchObject({ message: 'day-of-week field "xyz": unknown name "xyz"' });
    expect(checkCron('0 0 * * 1#6')).toMatchObject({ message: 'day-of-week field "1#6": the number after # must be 1-5' });
    expect(checkCron('70 * * * * *')).toMatchObject({ message: 'second field "70": 70 is outside 0-59' });
  });

  it('rejects a cron that never fires', () => {
    for (const cron of ['0 0 30 2 *', '0 0 31 4,6,9,11 *']) {
      expect(checkCron(cron)).toEqual({ ok: false, field: 'cron', message: `"${cron}" never fires: no calendar date matches its day-of-month, month and day-of-week` });
    }
    // Rare is not never: the fifth Monday of February needs a Monday 29 February.
    expect(checkCron('0 0 * 2 1#5')).toMatchObject({ ok: true });
    expect(iso(ticksAfter(spec('0 0 * 2 1#5'), at('2017-01-01T00:00:00Z'), 2))).toEqual(['2044-02-29T00:00:00.000Z', '2072-02-29T00:00:00.000Z']);
  });
});

describe('checkCron: time zones', () => {
  const zone = (timezone: unknown) => checkCron('0 8 * * *', timezone);

  it('accepts IANA names in canonical case, UTC and Etc/*', () => {
    expect(zone('america/new_york')).toEqual({ ok: true, spec: { cron: '0 8 * * *', timezone: 'America/New_York' } });
    expect(zone(' Europe/Rome ')).toMatchObject({ spec: { timezone: 'Europe/Rome' } });
    expect(zone('utc')).toMatchObject({ spec: { timezone: 'UTC' } });
    expect(zone(undefined)).toMatchObject({ spec: { timezone: 'UTC' } });
    expect(zone('etc/gmt+5')).toMatchObject({ spec: { timezone: 'Etc/GMT+5' } });
    expect(zone('Etc/UTC')).toMatchObject({ spec: { timezone: 'UTC' } });
  });

  it("accepts current IANA names Node's ICU lists under older ones", () => {
    expect(zone('Asia/Kolkata')).toMatchObject({ spec: { timezone: 'Asia/Kolkata' } });
    expect(zone('asia/kolkata')).toMatchObject({ spec: { timezone: 'Asia/Kolkata' } });
    expect(zone('Europe/Kyiv')).toMatchObject({ spec: { timezone: 'Europe/Kyiv' } });
  });

  it('suggests the nearest name for a typo', () => {
    expect(zone('America/Chicgo')).toMatchObject({ ok: false, field: 'timezone', suggestion: 'America/Chicago' });
    expect(zone('Europe/Roma')).toMatchObject({ ok: false, field: 'timezone', suggestion: 'Europe/Rome' });
    expect(zone('new york')).toMatchObject({ ok: false, field: 'timezone', suggestion: 'America/New_York' });
    expect(zone('Mars/Olympus_Mons')).toEqual({ ok: false, field: 'timezone', message: expect.stringContaining('unknown time zone') });
  });

  it('suggests, never accepts, abbreviations and legacy aliases', () => {
    const cases: [string, string][] = [
      ['EST', 'America/New_York'],
      ['EDT', 'America/New_York'],
      ['CET', 'Europe/Paris'],
      ['PST', 'America/Los_Angeles'],
      ['gmt', 'UTC'],
      ['US/Eastern', 'America/New_York'],
    ];
    for (const [name, suggestion] of cases) expect(zone(name)).toMatchObject({ ok: false, field: 'timezone', suggestion });
    expect(zone('EST')).toMatchObject({ message: expect.stringContaining('abbreviation') });
  });

  it('rejects non-strings and empty names', () => {
    expect(zone(3)).toMatchObject({ ok: false, field: 'timezone' });
    expect(zone('  ')).toMatchObject({ ok: false, field: 'timezone', suggestion: 'UTC' });
  });
});

describe('ticksAfter: DST golden cases', () => {
  it('fires at 08:00 CDT on the spring-forward Sunday in Chicago', () => {
    expect(nextTick(spec('0 8 * * 0', 'America/Chicago'), at('2026-03-08T05:45:00Z'))).toEqual(at('2026-03-08T13:00:00Z'));
  });

  it('fires a repeated 01:30 once, at its first (EDT) occurrence, in New York', () => {
    const s = spec('30 1 * * *', 'America/New_York');
    expect(iso(between(s, '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z'))).toEqual([
      '2026-10-31T05:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
    // From inside the overlap, the second 01:30 (06:30Z) is not owed.
    expect(nextTick(s, at('2026-11-01T05:30:00Z'))).toEqual(at('2026-11-02T06:30:00Z'));
    expect(nextTick(s, at('2026-11-01T06:10:00Z'))).toEqual(at('2026-11-02T06:30:00Z'));
  });

  it('fires a missing 02:30 once, shifted to 03:30 CEST, in Rome', () => {
    const s = spec('30 2 * * 0', 'Europe/Rome');
    expect(iso(ticksAfter(s, at('2025-03-22T00:00:00Z'), 3))).toEqual([
      '2025-03-23T01:30:00.000Z',
      '2025-03-30T01:30:00.000Z',
      '2025-04-06T00:30:00.000Z',
    ]);
    // After the jump but before 03:30 CEST, the shifted tick is still ahead.
    expect(nextTick(s, at('2025-03-30T01:00:00Z'))).toEqual(at('2025-03-30T01:30:00Z'));
    expect(nextTick(s, at('2025-03-30T01:30:00Z'))).toEqual(at('2025-04-06T00:30:00Z'));
  });

  it('dedupes and orders shifted times that land on real ones', () => {
    expect(iso(between(spec('10,45 2,3 * * *', 'Europe/Rome'), '2025-03-29T22:00:00Z', '2025-03-30T21:59:59Z'))).toEqual([
      '2025-03-30T01:10:00.000Z',
      '2025-03-30T01:45:00.000Z',
    ]);
  });

  it('counts a shifted time that repeats a real one once towards the limit', () => {
    expect(iso(ticksAfter(spec('10,45 2,3 * * *', 'Europe/Rome'), at('2025-03-29T22:00:00Z'), 3))).toEqual([
      '2025-03-30T01:10:00.000Z',
      '2025-03-30T01:45:00.000Z',
      '2025-03-31T00:10:00.000Z',
    ]);
  });

  it('gives the same ticks whichever instant near a DST change it starts from', () => {
    const transitions: [string, string][] = [
      ['Europe/Rome', '2025-03-30T01:00:00Z'],
      ['Europe/Rome', '2025-10-26T01:00:00Z'],
      ['America/New_York', '2025-03-09T07:00:00Z'],
      ['America/New_York', '2025-11-02T06:00:00Z'],
      ['Australia/Lord_Howe', '2025-04-05T15:00:00Z'],
      ['Australia/Lord_Howe', '2025-10-04T15:30:00Z'],
      ['America/Santiago', '2025-04-06T03:00:00Z'],
      ['America/Santiago', '2025-09-07T04:00:00Z'],
    ];
    const crons = ['30 2 * * *', '*/20 * * * *', '10,45 2,3 * * *', '0 * * * *', '*/15 1-3 * * *', '0 0 * * *', '59 23 * * *'];
    for (const [timezone, change] of transitions) {
      const t = at(change).getTime();
      for (const cron of crons) {
        const s = spec(cron, timezone);
        const all = ticksAfter(s, new Date(t - 2 * 86_400_000), Number.POSITIVE_INFINITY, new Date(t + 6 * 86_400_000)).map((d) => d.getTime());
        expect(gaps(all.map((ms) => new Date(ms))).every((gap) => gap > 0)).toBe(true);
        for (let after = t - 86_400_000; after <= t + 86_400_000; after += 13 * 60_000) {
          const expected = all.filter((ms) => ms > after).slice(0, 3);
          const actual = ticksAfter(s, new Date(after), 3).map((d) => d.getTime());
          if (actual.join() !== expected.join()) expect({ timezone, cron, after: new Date(after), actual }).toEqual({ timezone, cron, after: new Date(after), actual: expected });
        }
      }
    }
  });

  it('fires pinned times in the repeated hour once', () => {
    expect(iso(between(spec('15,45 2 * * *', 'Europe/Rome'), '2025-10-25T22:00:00Z', '2025-10-26T22:59:59Z'))).toEqual([
      '2025-10-26T00:15:00.000Z',
      '2025-10-26T00:45:00.000Z',
    ]);
  });

  it('follows elapsed time when the hour field is *: 25 hourly ticks on the fall-back day, 23 on the spring one', () => {
    const hourly = spec('0 * * * *', 'Europe/Rome');
    const fallBack = between(hourly, '2025-10-25T21:59:59Z', '2025-10-26T22:59:59Z');
    expect(fallBack).toHaveLength(25);
    expect(new Set(fallBack.map(localDate('Europe/Rome')))).toEqual(new Set(['2025-10-26']));
    expect(new Set(gaps(fallBack))).toEqual(new Set([3_600_000]));
    expect(between(hourly, '2025-03-29T22:59:59Z', '2025-03-30T21:59:59Z')).toHaveLength(23);
  });

  it('keeps both passes of the overlap in order, even starting inside it', () => {
    expect(iso(ticksAfter(spec('*/20 * * * *', 'Europe/Rome'), at('2025-10-26T00:30:00Z'), 5))).toEqual([
      '2025-10-26T00:40:00.000Z',
      '2025-10-26T01:00:00.000Z',
      '2025-10-26T01:20:00.000Z',
      '2025-10-26T01:40:00.000Z',
      '2025-10-26T02:00:00.000Z',
    ]);
  });

  it('gives strictly increasing, duplicate-free every-minute ticks across both transitions', () => {
    const windows: [string, string, string][] = [
      ['Europe/Rome', '2025-03-29T12:00:00Z', '2025-03-31T00:00:00Z'],
      ['Europe/Rome', '2025-10-25T12:00:00Z', '2025-10-27T00:00:00Z'],
      ['America/New_York', '2026-03-07T12:00:00Z', '2026-03-09T12:00:00Z'],
      ['America/New_York', '2026-10-31T12:00:00Z', '2026-11-02T12:00:00Z'],
    ];
    for (const [timezone, after, until] of windows) {
      const ticks = between(spec('* * * * *', timezone), after, until);
      expect(ticks).toHaveLength((at(until).getTime() - at(after).getTime()) / 60_000);
      expect(new Set(gaps(ticks))).toEqual(new Set([60_000]));
    }
  });

  it('handles a gap at midnight (Santiago) and a 30-minute one (Lord Howe)', () => {
    expect(iso(ticksAfter(spec('0 0 * * *', 'America/Santiago'), at('2025-09-05T12:00:00Z'), 3))).toEqual([
      '2025-09-06T04:00:00.000Z',
      '2025-09-07T04:00:00.000Z', // 00:00 does not exist: 01:00 -03
      '2025-09-08T03:00:00.000Z',
    ]);
    expect(iso(ticksAfter(spec('0 2 * * *', 'Australia/Lord_Howe'), at('2025-10-04T00:00:00Z'), 2))).toEqual([
      '2025-10-04T15:30:00.000Z', // 02:00 does not exist: 02:30 +11
      '2025-10-05T15:00:00.000Z',
    ]);
    expect(iso(ticksAfter(spec('0 * * * *', 'Australia/Lord_Howe'), at('2025-10-04T13:00:00Z'), 3))).toEqual([
      '2025-10-04T13:30:00.000Z',
      '2025-10-04T14:30:00.000Z',
      '2025-10-04T16:00:00.000Z', // no odd 02:30 tick
    ]);
  });

  it('fires a pinned daily cron exactly once on every local day of a year', () => {
    const zones = ['Europe/Rome', 'America/New_York', 'America/Santiago', 'Australia/Lord_Howe', 'Pacific/Chatham', 'Asia/Tehran'];
    for (const timezone of zones) {
      for (const cron of ['0 0 * * *', '30 1 * * *', '30 2 * * *']) {
        const ticks = between(spec(cron, timezone), '2024-12-30T00:00:00Z', '2026-01-03T00:00:00Z');
        const days = ticks.map(localDate(timezone)).filter((day) => day.startsWith('2025-'));
        expect({ timezone, cron, count: days.length, distinct: new Set(days).size }).toEqual({ timezone, cron, count: 365, distinct: 365 });
      }
    }
  });
});

describe('ticksAfter: bounds and shapes', () => {
  it('gives 6-field crons second precision', () => {
    const ticks = ticksAfter(spec('*/15 * * * * *'), at('2026-01-01T00:00:07Z'), 5);
    expect(iso(ticks)).toEqual([
      '2026-01-01T00:00:15.000Z',
      '2026-01-01T00:00:30.000Z',
      '2026-01-01T00:00:45.000Z',
      '2026-01-01T00:01:00.000Z',
      '2026-01-01T00:01:15.000Z',
    ]);
  });

  it('is strictly after `after`, including sub-second instants', () => {
    expect(nextTick(spec('0 * * * *'), at('2026-01-01T10:00:00Z'))).toEqual(at('2026-01-01T11:00:00Z'));
    expect(nextTick(spec('0 * * * *'), at('2026-01-01T09:59:59.999Z'))).toEqual(at('2026-01-01T10:00:00Z'));
    expect(nextTick(spec('* * * * * *'), at('2026-01-01T10:00:00.500Z'))).toEqual(at('2026-01-01T10:00:01Z'));
  });

  it('respects `until` (inclusive) and `limit`', () => {
    const hourly = spec('0 * * * *');
    expect(iso(ticksAfter(hourly, at('2026-01-01T00:00:00Z'), 10, at('2026-01-01T03:00:00Z')))).toEqual([
      '2026-01-01T01:00:00.000Z',
      '2026-01-01T02:00:00.000Z',
      '2026-01-01T03:00:00.000Z',
    ]);
    expect(ticksAfter(hourly, at('2026-01-01T00:00:00Z'), 10, at('2026-01-01T02:59:59Z'))).toHaveLength(2);
    expect(ticksAfter(hourly, at('2026-01-01T00:00:00Z'), 4)).toHaveLength(4);
    expect(ticksAfter(hourly, at('2026-01-01T00:00:00Z'), 0)).toEqual([]);
    expect(ticksAfter(hourly, at('2026-01-01T00:00:00Z'), 5, at('2026-01-01T00:00:00Z'))).toEqual([]);
    expect(nextTick(spec('0 0 1 1 *'), at('2026-01-02T00:00:00Z'), at('2026-12-31T00:00:00Z'))).toBeNull();
    expect(() => ticksAfter(hourly, at('2026-01-01T00:00:00Z'), Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('throws InvalidCronSpec for a spec checkCron rejects', () => {
    expect(() => nextTick(spec('61 * * * *'), at('2026-01-01T00:00:00Z'))).toThrow(InvalidCronSpec);
    expect(() => nextTick(spec('* * * * *', 'Mars/Base'), at('2026-01-01T00:00:00Z'))).toThrow(InvalidCronSpec);
  });

  it("agrees with cron-parser's own iterator in UTC, where DST cannot interfere", () => {
    const crons = [
      '*/7 3-5 * * *',
      '0 0 L * *',
      '0 12 * * 5L',
      '0 9 * * 1#2',
      '0 0 13 * 5',
      '15 10 1,15 */2 *',
      '0 0 29 2 *',
      '30 */5 * * 1-5',
      '5,10 0 0 * * 7',
      '0 0 31 * *',
      '0 0 * JAN,JUL MON-WED',
      '@weekly',
    ];
    const from = at('2023-11-15T10:11:12Z');
    for (const cron of crons) {
      const theirs = CronExpressionParser.parse(cron, { tz: 'UTC', currentDate: from }).take(40).map((d) => d.toISOString());
      expect({ cron, ticks: iso(ticksAfter(spec(cron), from, 40)) }).toEqual({ cron, ticks: theirs });
    }
  });

  it('answers 10,000 schedules asking 1-5 ticks each, each with as many ticks as asked (its speed: npm run bench -- triggers)', () => {
    const zones = ['UTC', 'Europe/Rome', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney'];
    const crons = ['*/5 * * * *', '0 9 * * 1-5', '30 2 * * 0', '0 0 1 * *', '*/15 * * * * *', '@hourly'];
    const schedules = Array.from({ length: 10_000 }, (_, i) => ({
      spec: spec(i % 7 === 0 ? `${i % 60} ${i % 24} * * *` : (crons[i % crons.length] as string), zones[i % zones.length]),
      after: new Date(Date.UTC(2026, 2, 1) + i * 3_600_000),
      limit: 1 + (i % 5),
    }));
    let total = 0;
    for (const s of schedules) total += ticksAfter(s.spec, s.after, s.limit).length;
    expect(total).toBe(schedules.reduce((sum, s) => sum + s.limit, 0));
  });
});
