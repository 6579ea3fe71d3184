import { initialRunState, type RunState } from '../domain/run/run.state';
import { FoldedRuns, weightOf } from './run-reads';

/** A state whose outputs weigh `bytes` (and nothing else does: no run, no blocks). */
function weighing(bytes: number): RunState {
  const state = initialRunState();
  state.outputBytes = bytes;
  return state;
}

describe('FoldedRuns', () => {
  it('gives a kept state back only to the organization that read it', () => {
    const runs = new FoldedRuns(1000);
    const state = weighing(10);
    runs.keep('run-1', 'org-a', state);
    expect(runs.get('run-1', 'org-a')).toBe(state);
    expect(runs.get('run-1', 'org-b')).toBeUndefined();
    expect(runs.get('run-2', 'org-a')).toBeUndefined();
  });

  it('lets the least recently read states go once the rest would pass the budget', () => {
    const runs = new FoldedRuns(1000);
    runs.keep('a', 'org', weighing(100));
    runs.keep('b', 'org', weighing(100));
    runs.keep('c', 'org', weighing(100));
    runs.get('a', 'org'); // read again: now b is the least recently read
    runs.keep('d', 'org', weighing(120));
    runs.keep('e', 'org', weighing(120));
    runs.keep('f', 'org', weighing(120));
    runs.keep('g', 'org', weighing(120));
    runs.keep('h', 'org', weighing(120));
    expect(runs.size).toEqual({ runs: 8, bytes: 900 });
    runs.keep('i', 'org', weighing(120)); // 1,020 bytes: b goes
    expect(runs.get('b', 'org')).toBeUndefined();
    expect(runs.get('a', 'org')).toBeDefined();
    expect(runs.get('c', 'org')).toBeDefined();
    expect(runs.size).toEqual({ runs: 8, bytes: 920 });
  });

  it('weighs a state again when it is kept again, and never keeps one heavier than an eighth of the budget', () => {
    const runs = new FoldedRuns(800);
    const state = weighing(50);
    runs.keep('a', 'org', state);
    state.outputBytes = 90;
    runs.keep('a', 'org', state);
    expect(runs.size).toEqual({ runs: 1, bytes: 90 });
    // Grown past an eighth: no longer kept, and its weight goes with it.
    state.outputBytes = 101;
    runs.keep('a', 'org', state);
    expect(runs.size).toEqual({ runs: 0, bytes: 0 });
    expect(runs.get('a', 'org')).toBeUndefined();
  });

  it('keeps nothing with a budget of 0', () => {
    const runs = new FoldedRuns(0);
    runs.keep('a', 'org', weighing(0));
    expect(runs.get('a', 'org')).toBeUndefined();
    expect(runs.size).toEqual({ runs: 0, bytes: 0 });
  });

  it('counts outputs, the input and every block in a weight', () => {
    const state = weighing(300);
    expect(weightOf(state)).toBe(300);
    state.run = { input: { name: 'x'.repeat(1000) } } as RunState['run'];
    state.graph = { ...state.graph, blocks: new Map([['a', {}], ['b', {}]]) } as unknown as RunState['graph'];
    // The input's JSON is at least its string and key; each block adds a kilobyte.
    expect(weightOf(state)).toBeGreaterThanOrEqual(300 + 1000 + 2 * 1024);
    expect(weightOf(state)).toBeLessThan(300 + 1100 + 2 * 1024);
  });
});
