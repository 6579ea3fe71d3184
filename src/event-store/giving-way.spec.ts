import { GivingWay } from './giving-way';
import type { Projection } from './projection';

const projection = (name: string, extra: Partial<Projection> = {}): Projection => ({ name, mode: 'async', handles: 'all', tables: [], apply: async () => undefined, ...extra });

const sealer = projection('sealer', { maxYieldMs: 800, pollIntervalMs: 250 });
const counts = projection('counts');
const logs = projection('logs');

/** A hot path busy or quiet on demand. */
const hotPath = { busy: true, quietForMs: () => (hotPath.busy ? 0 : 60_000) };

function givingWay(projections: Projection[] = [counts, sealer, logs]) {
  hotPath.busy = true;
  return new GivingWay(projections, hotPath, { pollIntervalMs: 1_000 });
}

const names = (due: { projections: readonly Projection[] }) => due.projections.map((p) => p.name);

describe('GivingWay', () => {
  it('holds every projection while the hot path is busy and no bound is up', () => {
    const way = givingWay();
    way.heard(0);
    expect(names(way.due(false, 250, 500))).toEqual([]);
    expect(way.yieldMs(500)).toBeGreaterThan(0);
  });

  it('applies, once a bound is up, only the projections whose bound is up or comes within the gap, in slices', () => {
    const way = givingWay();
    way.heard(0);
    // The sealer's 800 ms are up; the others' 2 s (two polls of 1 s) are not, nor within 250 ms.
    expect(way.due(false, 250, 800)).toEqual({ projections: [sealer], maxBatch: 100 });
    // At 1.8 s the others' bound is 200 ms away: within the gap, they go along.
    expect(names(way.due(false, 250, 1_800))).toEqual(['counts', 'sealer', 'logs']);
  });

  it('applies everything in full batches when the hot path is quiet or a reader asks', () => {
    const way = givingWay();
    way.heard(0);
    expect(way.due(true, 250, 10)).toEqual({ projections: [counts, sealer, logs], maxBatch: Infinity });
    hotPath.busy = false;
    expect(way.due(false, 250, 10)).toEqual({ projections: [counts, sealer, logs], maxBatch: Infinity });
    expect(way.yieldMs(10)).toBeLessThanOrEqual(0);
  });

  it('after a pass, a projection left behind keeps its oldest change waiting; one caught up waits from the change heard during the pass', () => {
    const way = givingWay();
    way.heard(0);
    way.settle(new Set([sealer]), 900);
    // The sealer now waits from 900 ms: its bound is up at 1.7 s, not before.
    expect(names(way.due(false, 0, 1_650))).toEqual([]);
    expect(names(way.due(false, 0, 1_700))).toEqual(['sealer']);
    // The others still wait from 0: their bound is up at 2 s.
    expect(names(way.due(false, 0, 2_000))).toEqual(['counts', 'sealer', 'logs']);
    expect(way.oldestWaiting(2_000)).toBe(0);
    way.settle(new Set([counts, sealer, logs]), undefined);
    expect(way.anyWaiting).toBe(false);
  });

  it('takes a bound given to the runner for every projection, over their own', () => {
    const way = new GivingWay([counts, sealer], hotPath, { pollIntervalMs: 1_000, maxYieldMs: 100 });
    hotPath.busy = true;
    way.heard(0);
    expect(names(way.due(false, 0, 100))).toEqual(['counts', 'sealer']);
  });

  it('spaces the slices of a forced pass by four times their time at the bound, less as the bound is overrun, none at twice it or once the hot path is quiet', () => {
    const way = givingWay();
    way.heard(0);
    // The sealer's bound (800 ms) is up: a 10 ms slice leaves 40 ms to the hot path.
    expect(way.pauseAfterSlice(10, 800)).toBe(40);
    // Overrun by half its bound: half that; by the whole of it (and the others' 2 s bound by 0.2 s): none.
    expect(way.pauseAfterSlice(10, 1_200)).toBe(20);
    expect(way.pauseAfterSlice(10, 1_600)).toBe(0);
    expect(way.pauseAfterSlice(10, 2_400)).toBe(0);
    hotPath.busy = false;
    expect(way.pauseAfterSlice(10, 800)).toBe(0);
  });
});
