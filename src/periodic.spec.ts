import { everyPeriod, phaseOf } from './periodic';

describe('phaseOf', () => {
  it('gives every task of a period its own phase, each at least a tenth of the period from every other among the first five', () => {
    const phases = [0, 1, 2, 3, 4].map((k) => phaseOf(k, 1000));
    expect(phases).toEqual([1000, 618, 236, 854, 472]);
    for (const [i, a] of phases.entries()) for (const b of phases.slice(i + 1)) expect(Math.abs(a - b)).toBeGreaterThanOrEqual(100);
  });

  it('never comes later than a plain interval would, nor at once', () => {
    for (let k = 0; k < 50; k++) {
      const phase = phaseOf(k, 250);
      expect(phase).toBeGreaterThanOrEqual(1);
      expect(phase).toBeLessThanOrEqual(250);
    }
  });
});

describe('everyPeriod', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('runs the task first at its phase, then every period, until stopped', () => {
    const runs: number[] = [];
    const started = Date.now();
    const periodic = everyPeriod(1000, () => runs.push(Date.now() - started));
    jest.advanceTimersByTime(3500);
    expect(runs.length).toBe(3);
    expect(runs[1]! - runs[0]!).toBe(1000);
    expect(runs[2]! - runs[1]!).toBe(1000);
    expect(runs[0]).toBeLessThanOrEqual(1000);
    periodic.stop();
    jest.advanceTimersByTime(5000);
    expect(runs.length).toBe(3);
  });

  it('stopped before its first run, never runs', () => {
    const task = jest.fn();
    everyPeriod(1000, task).stop();
    jest.advanceTimersByTime(5000);
    expect(task).not.toHaveBeenCalled();
  });

  it('two tasks of one period started together do not run in the same moment', () => {
    const at: Record<string, number[]> = { a: [], b: [] };
    const started = Date.now();
    const a = everyPeriod(1000, () => at.a!.push(Date.now() - started));
    const b = everyPeriod(1000, () => at.b!.push(Date.now() - started));
    jest.advanceTimersByTime(3000);
    a.stop();
    b.stop();
    expect(at.a!.length).toBeGreaterThan(1);
    expect(at.b!.length).toBeGreaterThan(1);
    for (const t of at.a!) expect(at.b).not.toContain(t);
  });
});
