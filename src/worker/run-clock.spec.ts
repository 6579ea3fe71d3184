import { RunClock } from './run-clock';
import { READY_LEAD_MS } from './wake-timer';

const START = new Date('2026-12-05T12:00:00.000Z').getTime();

describe('RunClock', () => {
  beforeEach(() => jest.useFakeTimers({ now: START }));
  afterEach(() => jest.useRealTimers());

  it('is the wall clock until a moment is decided as of, then never earlier than it', () => {
    const clock = new RunClock(() => undefined);
    expect(clock.now().getTime()).toBe(START);
    clock.decideAsOf(new Date(START + 8));
    expect(clock.now().getTime()).toBe(START + 8);
    clock.decideAsOf(new Date(START + 2)); // an earlier moment does not move it back
    jest.advanceTimersByTime(5);
    expect(clock.now().getTime()).toBe(START + 8);
    jest.advanceTimersByTime(10);
    expect(clock.now().getTime()).toBe(START + 15);
  });

  it('holds what was decided ahead until the moment, never past it, readying the database just before', async () => {
    const readied: number[] = [];
    const clock = new RunClock(() => readied.push(Date.now()));
    expect(clock.ahead()).toBe(false);
    clock.decideAsOf(new Date(START + 8));
    expect(clock.ahead()).toBe(true);
    let came: number | undefined;
    void clock.untilMoment().then(() => (came = Date.now()));
    await jest.advanceTimersByTimeAsync(7);
    expect(came).toBeUndefined();
    expect(readied).toEqual([START + 8 - READY_LEAD_MS]);
    await jest.advanceTimersByTimeAsync(1);
    expect(came).toBe(START + 8);
    expect(clock.ahead()).toBe(false);
  });
});
