import fc from 'fast-check';
import type { WorkflowBlock, WorkflowConnection } from '../workflow/workflow';
import type { RunEvent } from './run.events';
import { runView } from './run.view';
import { block, edge, ports, run, started, T0, workflow } from './run.spec-fixtures';

const HANDLES = [undefined, undefined, 'true', 'false', 'error'] as const;
const TYPES = ['action', 'flaky', 'condition', 'wait_duration'] as const;

/** A random DAG: edges only go from a lower to a higher index, so it is acyclic. */
const dag = fc.integer({ min: 1, max: 12 }).chain((n) =>
  fc.record({
    types: fc.array(fc.constantFrom(...TYPES), { minLength: n, maxLength: n }),
    disabled: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
    edges: fc.array(fc.tuple(fc.nat(n), fc.nat(n - 1), fc.constantFrom(...HANDLES)), {
      maxLength: 3 * n,
    }),
    outcomes: fc.array(fc.constantFrom('ok-true', 'ok-false', 'fail', 'fail-hard'), {
      minLength: 4 * n,
      maxLength: 4 * n,
    }),
  }),
);

describe('run properties', () => {
  it('always ends, runs each attempt once, never re-runs a recorded block, and refolds identically', () => {
    fc.assert(
      fc.property(dag, ({ types, disabled, edges, outcomes }) => {
        const blocks: WorkflowBlock[] = [block('trigger', 'trigger_manual')];
        types.forEach((type, i) => {
          const params = type === 'wait_duration' ? { durationMs: 1000 } : {};
          blocks.push(block(`n${i + 1}`, type, params, !(disabled[i] ?? false)));
        });
        const connections: WorkflowConnection[] = [];
        for (const [a, b, handle] of edges) {
          if (a >= b + 1) continue;
          const source = a === 0 ? 'trigger' : `n${a}`;
          connections.push(edge(source, `n${b + 1}`, handle));
        }
        const start = started(workflow(blocks, connections));
        let now = T0;
        let t = run.react(run.fold([start]), ports(now));
        const log: RunEvent[] = [start, ...t.events];
        const queue = [...t.execute];
        const executed = new Set<string>();
        let next = 0;
        while (!run.isTerminal(t.state)) {
          const step = queue.shift();
          if (!step) {
            if (!t.wakeAt) throw new Error('run parked with nothing to wake it');
            now = t.wakeAt;
            t = run.react(t.state, ports(now));
          } else {
            const key = `${step.blockId}:${step.attempt}`;
            expect(executed.has(key)).toBe(false);
            expect(t.state.blocks.get(step.blockId)?.phase.kind).toBe('running');
            executed.add(key);
            const pick = outcomes[next++ % outcomes.length] ?? 'ok-true';
            const outcome = pick.startsWith('ok')
              ? { ok: true as const, output: { result: pick === 'ok-true' } }
              : {
                  ok: false as const,
                  error: { code: 'x', message: 'x', retryable: pick === 'fail' },
                };
            t = run.onStepResult(
              t.state,
              { blockId: step.blockId, attempt: step.attempt, outcome },
              ports(now),
            );
          }
          log.push(...t.events);
          queue.push(...t.execute);
        }
        const refolded = run.fold(log);
        expect(runView(refolded)).toEqual(runView(t.state));
        if (t.state.status === 'completed') expect(t.state.open).toBe(0);
        expect(['completed', 'failed']).toContain(t.state.status);
      }),
      { numRuns: 300 },
    );
  });
});
