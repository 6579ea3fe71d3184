import { needsLastRunStatus, planDueTicks, type DueSchedule } from './schedule.plan';

const hourly: DueSchedule = {
  spec: { cron: '0 * * * *', timezone: 'UTC' },
  overlap: 'skip',
  catchupWindowSec: 60,
  endAt: null,
  cursor: new Date('2026-05-01T00:00:00Z'),
  bufferedTick: null,
  lastRunActive: false,
  workflow: 'runnable',
};
const t = (hour: number) => new Date(Date.UTC(2026, 4, 1, hour));
const kinds = (steps: ReturnType<typeof planDueTicks>) => steps.map((s) => [s.kind, s.tick.toISOString().slice(11, 16), 'reason' in s ? s.reason : s.kind === 'fire' && s.cancelPrevious ? 'cancel' : null]);

describe('planDueTicks', () => {
  it('fires nothing before the first tick, then exactly the due one', () => {
    expect(planDueTicks(hourly, new Date('2026-05-01T00:59:59Z'))).toEqual([]);
    expect(kinds(planDueTicks(hourly, new Date('2026-05-01T01:00:00Z')))).toEqual([['fire', '01:00', null]]);
  });

  it('records ticks older than the catch-up window as one missed range and fires the rest oldest first', () => {
    const steps = planDueTicks({ ...hourly, overlap: 'allow', catchupWindowSec: 2 * 3600 }, new Date('2026-05-01T05:00:30Z'));
    expect(steps[0]).toEqual({ kind: 'skip', tick: t(1), reason: 'missed', through: t(3), count: 3 });
    expect(kinds(steps.slice(1))).toEqual([
      ['fire', '04:00', null],
      ['fire', '05:00', null],
    ]);
  });

  it('applies the overlap policy to an active run and to runs fired earlier in the same pass', () => {
    const now = new Date('2026-05-01T03:00:00Z');
    const catchUp = { ...hourly, catchupWindowSec: 4 * 3600 };
    expect(kinds(planDueTicks({ ...catchUp, overlap: 'skip' }, now))).toEqual([
      ['fire', '01:00', null],
      ['skip', '02:00', 'overlap'],
      ['skip', '03:00', 'overlap'],
    ]);
    expect(kinds(planDueTicks({ ...catchUp, overlap: 'buffer_one', lastRunActive: true }, now))).toEqual([
      ['buffer', '01:00', null],
      ['skip', '02:00', 'overlap'],
      ['skip', '03:00', 'overlap'],
    ]);
    expect(kinds(planDueTicks({ ...catchUp, overlap: 'cancel_other', lastRunActive: true }, now))).toEqual([
      ['fire', '01:00', 'cancel'],
      ['fire', '02:00', 'cancel'],
      ['fire', '03:00', 'cancel'],
    ]);
  });

  it("reads the last run's status only when the plan depends on it: not under allow without a buffered tick", () => {
    const policies = ['skip', 'allow', 'buffer_one', 'cancel_other'] as const;
    const now = new Date('2026-05-01T03:00:30Z');
    for (const overlap of policies) {
      for (const bufferedTick of [null, t(0)]) {
        const plan = (lastRunActive: boolean) => planDueTicks({ ...hourly, overlap, bufferedTick, catchupWindowSec: 3 * 3600, lastRunActive }, now);
        const depends = JSON.stringify(plan(true)) !== JSON.stringify(plan(false));
        expect({ overlap, bufferedTick, depends }).toEqual({ overlap, bufferedTick, depends: needsLastRunStatus(overlap, bufferedTick) });
      }
    }
  });

  it('fires a buffered tick first once the active run ended, and keeps it while the run is active', () => {
    const buffered = { ...hourly, overlap: 'buffer_one' as const, bufferedTick: t(0), cursor: t(1) };
    expect(planDueTicks({ ...buffered, lastRunActive: true }, new Date('2026-05-01T01:30:00Z'))).toEqual([]);
    expect(kinds(planDueTicks(buffered, new Date('2026-05-01T02:00:10Z')))).toEqual([
      ['fire', '00:00', null],
      ['buffer', '02:00', null],
    ]);
  });

  it('ends at the first tick after endAt, retires on a deleted workflow, and skips while not runnable', () => {
    const now = new Date('2026-05-01T03:00:00Z');
    const catchUp = { ...hourly, overlap: 'allow' as const, catchupWindowSec: 4 * 3600 };
    expect(kinds(planDueTicks({ ...catchUp, endAt: new Date('2026-05-01T01:30:00Z') }, now))).toEqual([
      ['fire', '01:00', null],
      ['skip', '02:00', 'ended'],
    ]);
    expect(kinds(planDueTicks({ ...catchUp, workflow: 'deleted' }, now))).toEqual([['skip', '01:00', 'workflow_deleted']]);
    expect(kinds(planDueTicks({ ...catchUp, workflow: 'not_runnable' }, now)).map((k) => k[2])).toEqual(['not_runnable', 'not_runnable', 'not_runnable']);
  });
});
