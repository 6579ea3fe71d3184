import { block, chain, edge, ok, ports, run, started, T0, workflow } from './run.spec-fixtures';
import type { RunEvent } from './run.events';

describe('run cost stays linear', () => {
  it('plays, folds and decides a 1,000-block chain well under a second', () => {
    const begin = performance.now();
    let t = run.react(run.fold([started(chain(1000))]), ports());
    const log: RunEvent[] = [started(chain(1000)), ...t.events];
    for (let i = 1; i <= 1000; i += 1) {
      t = run.onStepResult(t.state, ok(`b${i}`, i), ports());
      log.push(...t.events);
    }
    const refolded = run.fold(log);
    run.decide(refolded, T0);
    const elapsedMs = performance.now() - begin;

    expect(t.state.status).toBe('completed');
    expect(refolded.status).toBe('completed');
    expect(log).toHaveLength(1 + 2 * 1000 + 1);
    expect(elapsedMs).toBeLessThan(1000);
  });

  it('costs about the same per block for 4,000 blocks as for 1,000 (no quadratic term)', () => {
    const timeChain = (n: number): number => {
      const begin = performance.now();
      let t = run.react(run.fold([started(chain(n))]), ports());
      for (let i = 1; i <= n; i += 1) t = run.onStepResult(t.state, ok(`b${i}`), ports());
      return performance.now() - begin;
    };
    timeChain(1000);
    const small = Math.min(timeChain(1000), timeChain(1000));
    const large = Math.min(timeChain(4000), timeChain(4000));

    expect(large).toBeLessThan(small * 4 * 3 + 20);
  });

  it('runs a 100-way fan-out and its join', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `f${i}`);
    const wf = workflow(
      [block('trigger', 'trigger_manual'), ...ids.map((id) => block(id)), block('join')],
      [...ids.map((id) => edge('trigger', id)), ...ids.map((id) => edge(id, 'join'))],
    );
    let t = run.react(run.fold([started(wf)]), ports());
    expect(t.execute).toHaveLength(100);
    for (const id of ids) t = run.onStepResult(t.state, ok(id), ports());
    t = run.onStepResult(t.state, ok('join'), ports());

    expect(t.state.status).toBe('completed');
    expect(Object.keys(t.events.at(-1)?.data ?? {})).toEqual(['outputs', 'at']);
  });
});
