import { BurstWatch } from './burst-watch';

/** A watch over a settable count of runs recording, on a clock the test moves. */
function watch() {
  const hot = { runs: 0, at: 0 };
  return { hot, bursts: new BurstWatch(() => hot.runs, () => hot.at) };
}

/** Looks every `everyMs` for `forMs` with `runs` recording; what the last look said. */
function lookFor(w: ReturnType<typeof watch>, runs: number, forMs: number, everyMs = 20): boolean {
  w.hot.runs = runs;
  let seen = w.bursts.inBurst();
  for (let t = everyMs; t <= forMs; t += everyMs) {
    w.hot.at += everyMs;
    seen = w.bursts.inBurst();
  }
  return seen;
}

describe('BurstWatch', () => {
  it('starts a burst at 16 runs recording, and keeps it while 4 or more are', () => {
    const w = watch();
    expect(lookFor(w, 15, 100)).toBe(false);
    expect(lookFor(w, 16, 20)).toBe(true);
    expect(lookFor(w, 4, 1_000)).toBe(true);
  });

  it('keeps a burst through a lull of fewer runs shorter than 80 ms (its runs end together, the next are being claimed)', () => {
    const w = watch();
    lookFor(w, 64, 40);
    expect(lookFor(w, 1, 60)).toBe(true);
    expect(lookFor(w, 64, 20)).toBe(true);
    expect(lookFor(w, 2, 60)).toBe(true);
  });

  it('ends it once looks have seen fewer than 4 for 80 ms, and says so to changes that waited on it', () => {
    const w = watch();
    w.hot.runs = 64;
    expect(w.bursts.endedSinceWaiting()).toBe(false);
    expect(lookFor(w, 1, 60)).toBe(true);
    expect(w.bursts.endedSinceWaiting()).toBe(false);
    expect(lookFor(w, 1, 20)).toBe(false);
    expect(w.bursts.endedSinceWaiting()).toBe(true);
  });

  it('counts no time between looks further apart than 80 ms: it did not see what came between them', () => {
    const w = watch();
    lookFor(w, 64, 20);
    expect(lookFor(w, 1, 500, 100)).toBe(true);
    expect(lookFor(w, 1, 80, 40)).toBe(false);
  });
});
