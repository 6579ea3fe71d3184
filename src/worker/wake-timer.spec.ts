import { READY_LEAD_MS, WakeTimer } from './wake-timer';

const START = new Date('2026-12-05T12:00:00.000Z').getTime();
const DAY_MS = 24 * 60 * 60 * 1000;

/** A timer whose callbacks record the clock they ran at. */
function recordedTimer() {
  const seen: { ready: number[]; fired: number[] } = { ready: [], fired: [] };
  const timer = new WakeTimer(() => seen.ready.push(Date.now()));
  const set = (at: number, aheadMs?: number) => timer.set(new Date(at), () => seen.fired.push(Date.now()), aheadMs);
  return { timer, seen, set };
}

describe('WakeTimer', () => {
  beforeEach(() => jest.useFakeTimers({ now: START }));
  afterEach(() => jest.useRealTimers());

  it('readies the machine the lead ahead of the moment, then fires at the moment', () => {
    const { seen, set } = recordedTimer();
    set(START + 1000);

    jest.advanceTimersByTime(1000 - READY_LEAD_MS - 1);
    expect(seen).toEqual({ ready: [], fired: [] });
    jest.advanceTimersByTime(1);
    expect(seen).toEqual({ ready: [START + 1000 - READY_LEAD_MS], fired: [] });
    jest.advanceTimersByTime(READY_LEAD_MS);
    expect(seen).toEqual({ ready: [START + 1000 - READY_LEAD_MS], fired: [START + 1000] });
  });

  it('fires a moment closer than the lead without readying anything', () => {
    const { seen, set } = recordedTimer();
    set(START + READY_LEAD_MS);
    jest.advanceTimersByTime(READY_LEAD_MS);
    expect(seen).toEqual({ ready: [], fired: [START + READY_LEAD_MS] });
  });

  it('never fires before the moment, even when the clock says a timer came early', () => {
    const { seen, set } = recordedTimer();
    set(START + 100);
    jest.advanceTimersByTime(100 - READY_LEAD_MS);
    jest.setSystemTime(Date.now() - 2); // the wall clock stepped back under the timer
    jest.advanceTimersByTime(READY_LEAD_MS);
    expect(seen.fired).toEqual([]);
    jest.advanceTimersByTime(2);
    expect(seen.fired).toEqual([START + 100]);
  });

  it('reaches a moment further out than a Node timer holds without firing early or often', () => {
    const { seen, set } = recordedTimer();
    set(START + 40 * DAY_MS);
    jest.advanceTimersByTime(30 * DAY_MS);
    expect(seen).toEqual({ ready: [], fired: [] });
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(10 * DAY_MS);
    expect(seen).toEqual({ ready: [START + 40 * DAY_MS - READY_LEAD_MS], fired: [START + 40 * DAY_MS] });
  });

  it('is cancelled by clear and by setting it again, before or after it readied', () => {
    const { timer, seen, set } = recordedTimer();
    set(START + 1000);
    timer.clear();
    jest.advanceTimersByTime(2000);
    expect(seen).toEqual({ ready: [], fired: [] });

    set(START + 3000);
    jest.advanceTimersByTime(1000 - READY_LEAD_MS); // readied
    set(START + 4000);
    jest.advanceTimersByTime(2000);
    expect(seen).toEqual({ ready: [START + 3000 - READY_LEAD_MS, START + 4000 - READY_LEAD_MS], fired: [START + 4000] });
    expect(jest.getTimerCount()).toBe(0);
  });

  it('fires `aheadMs` early when asked, readied the lead before that', () => {
    const { seen, set } = recordedTimer();
    set(START + 1000, 8);
    jest.advanceTimersByTime(1000 - 8 - READY_LEAD_MS);
    expect(seen).toEqual({ ready: [START + 1000 - 8 - READY_LEAD_MS], fired: [] });
    jest.advanceTimersByTime(READY_LEAD_MS - 1);
    expect(seen.fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(seen.fired).toEqual([START + 1000 - 8]);
  });
});
