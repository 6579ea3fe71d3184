import { block, chain, edge, ok, ports, run, started, T0, workflow } from './run.spec-fixtures';
import type { RunEvent } from './run.events';

// How the cost grows with the run is a benchmark figure (`npm run bench -- runtime`: C100,
// C1000 and their ratio), not a timed test; these play long runs through for correctness.
describe('long runs', () => {
  it('plays, folds and decides a 1,000-block chain', () => {
    let t = run.react(run.fold([started(chain(1000))]), ports());
    const log: RunEvent[] = [started(chain(1000)), ...t.events];
    for (let i = 1; i <= 1000; i += 1) {
      t = run.onStepResult(t.state, ok(`b${i}`, i), ports());
      log.push(...t.events);
    }
    const refolded = run.fold(log);


    expect(t.state.status).toBe('completed');
    expect(refolded.status).toBe('completed');
    expect(log).toHaveLength(1 + 2 * 1000 + 1);
    expect(run.decide(refolded, T0).actions).toEqual([]);
  });

  it('plays a 4,000-block chain to the same end, one attempt per block', () => {
    let t = run.react(run.fold([started(chain(4000))]), ports());
    let attempts = t.execute.length;
    for (let i = 1; i <= 4000; i += 1) {
      t = run.onStepResult(t.state, ok(`b${i}`), ports());
      attempts += t.execute.length;
    }

    expect(t.state.status).toBe('completed');
    expect(attempts).toBe(4000);
    expect(t.state.version).toBe(1 + 2 * 4000 + 1);
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
