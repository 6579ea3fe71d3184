import fc from 'fast-check';
import { budgetState, gcraParams, gcraStep, type BucketRow } from './gcra';

/** Runs `count` requests at the given times (µs) through the reference model. */
function run(times: number[], limit: number, windowMs: number): BucketRow[] {
  const params = gcraParams(limit, windowMs);
  const rows: BucketRow[] = [];
  let tat: number | undefined;
  for (const now of times) {
    const row = gcraStep(tat, now, params);
    tat = row.tat;
    rows.push(row);
  }
  return rows;
}

const T0 = 1_700_000_000_000_000;

describe('gcra', () => {
  it('admits exactly `limit` requests in a burst, whatever the division leaves over', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 1, max: 3_600_000 }), (limit, windowMs) => {
        const rows = run(Array.from({ length: limit + 3 }, () => T0), limit, windowMs);
        expect(rows.filter((r) => r.admitted)).toHaveLength(limit);
        expect(rows.slice(limit).every((r) => !r.admitted)).toBe(true);
      }),
    );
  });

  it('counts remaining down from limit-1 to 0 and refuses with a positive retry delay', () => {
    const params = gcraParams(3, 60_000);
    const rows = run([T0, T0, T0, T0], 3, 60_000);
    expect(rows.map((r) => budgetState(r, params).remaining)).toEqual([2, 1, 0, 0]);
    const refused = budgetState(rows[3]!, params);
    expect(refused.admitted).toBe(false);
    expect(refused.retryAfterMs).toBe(20_000);
    expect(refused.resetMs).toBe(60_000);
    expect(budgetState(rows[0]!, params)).toEqual({ admitted: true, remaining: 2, resetMs: 20_000, retryAfterMs: 0 });
  });

  it('earns one request back every window/limit and the whole budget after one window', () => {
    const params = gcraParams(10, 60_000);
    const burst = run(Array.from({ length: 10 }, () => T0), 10, 60_000);
    const tat = burst[9]!.tat;
    expect(gcraStep(tat, T0 + 5_999_000, params).admitted).toBe(false);
    const later = gcraStep(tat, T0 + 6_000_000, params);
    expect(later.admitted).toBe(true);
    expect(budgetState(later, params).remaining).toBe(0);
    expect(budgetState(gcraStep(tat, T0 + 60_000_000, params), params).remaining).toBe(9);
  });

  it('refused requests do not spend budget: a client hammering still gets the steady rate', () => {
    const params = gcraParams(2, 1000);
    let tat: number | undefined;
    let admitted = 0;
    for (let t = 0; t < 10_000_000; t += 1000) {
      const row = gcraStep(tat, T0 + t, params);
      tat = row.tat;
      if (row.admitted) admitted++;
    }
    // 2 in the first burst, then one per 500 ms over the remaining ~10 s.
    expect(admitted).toBe(2 + 19);
  });

  it('never admits more than limit + elapsed/emission requests over any run', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(fc.integer({ min: 0, max: 2_000_000 }), { minLength: 1, maxLength: 200 }), (limit, gaps) => {
        const params = gcraParams(limit, 1000);
        const times = gaps.reduce<number[]>((acc, gap) => [...acc, (acc.at(-1) ?? T0) + gap], []);
        const rows = run(times, limit, 1000);
        const elapsed = times.at(-1)! - times[0]!;
        expect(rows.filter((r) => r.admitted).length).toBeLessThanOrEqual(limit + Math.floor(elapsed / params.emissionUs));
      }),
    );
  });

  it('rejects a limit below one', () => {
    expect(() => gcraParams(0, 60_000)).toThrow(RangeError);
  });
});
