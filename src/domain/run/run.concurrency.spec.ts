import { concurrencyLineOf } from './concurrency-line';
import { decide } from './run.decide';
import { admitRun, startRun } from './run.commands';
import type { RunEvent } from './run.events';
import { at, chain, kinds, ports, run, specOf, summarize, T0 } from './run.spec-fixtures';
import type { SerializedWorkflow, WorkflowConcurrency } from '../workflow/workflow';

const limits = { maxEventsPerRun: 1000, maxPayloadBytes: 1_000_000, maxRunOutputBytes: 1_000_000 };

/** `chain(1)` with a concurrency limit (and a timeout when given), started with `input`. */
function limited(concurrency: WorkflowConcurrency, input: unknown = {}, timeoutMs?: number): RunEvent[] {
  const wf: SerializedWorkflow = { ...chain(1), metadata: { name: 'c', description: '', concurrency, ...(timeoutMs ? { timeoutMs } : {}) } };
  return startRun({ runId: 'r1', organizationId: 'o1', workflowId: 'w1', workflowVersion: 1, workflow: wf, input, now: T0 }, specOf, limits);
}

describe('a run of a concurrency line', () => {
  it('pins its line at the start: the value at keyPath in the input, "" without one', () => {
    const line = (input: unknown, keyPath?: string) => concurrencyLineOf({ limit: 2, ...(keyPath ? { keyPath } : {}) }, input);
    expect(line({ customer: { id: 'c-7' } }, 'customer.id')).toEqual({ key: 'c-7', limit: 2 });
    expect(line({ n: 42 }, 'n')).toEqual({ key: '42', limit: 2 });
    expect(line({ n: { deep: 1 } }, 'n')).toEqual({ key: '', limit: 2 });
    expect(line({}, 'missing.path')).toEqual({ key: '', limit: 2 });
    expect(line({ n: 'x' })).toEqual({ key: '', limit: 2 });
    expect(concurrencyLineOf(undefined, { n: 1 })).toBeUndefined();
    // Long keys stay short enough for an index, and two that differ only at the end stay apart.
    const long = (last: string) => line({ k: 'k'.repeat(500) + last }, 'k')!.key;
    expect(long('a').length).toBeLessThanOrEqual(200);
    expect(long('a')).not.toBe(long('b'));
    expect(long('a')).toBe(long('a'));
    expect((limited({ limit: 1, keyPath: 'who' }, { who: 'ann' })[0]!.data as { concurrency: unknown }).concurrency).toEqual({ key: 'ann', limit: 1 });
    expect(limited({ limit: 1 }).length).toBe(1);
  });

  it('asks for a place before anything else, stays queued and due until admitted, then plays as any run', () => {
    const state = run.fold(limited({ limit: 1 }));
    const asking = run.react(state, ports());
    expect(asking).toMatchObject({ events: [], execute: [], admit: true });
    expect(state.status).toBe('queued');

    const admitted = run.fold(admitRun(state, at(10)), state);
    expect(admitted).toMatchObject({ status: 'running', admitted: true });
    expect(admitRun(admitted, at(11))).toEqual([]);
    const playing = run.react(admitted, ports(at(10)));
    expect(summarize(playing.execute)).toEqual(['ExecuteStep:b1']);
    expect(playing.admit).toBeUndefined();
  });

  it('can be cancelled or time out while queued, without a place', () => {
    const queued = run.fold(limited({ limit: 1 }, {}, 5000));
    expect(decide(queued, at(4999))).toEqual({ actions: [], admit: true, wakeAt: at(5000) });
    expect(kinds(run.react(queued, ports(at(5000))).events)).toEqual(['RunFailed']);

    const again = run.fold(limited({ limit: 1 }));
    const cancel: RunEvent = { type: 'RunCancelRequested', data: { at: at(10).toISOString() } };
    expect(kinds(run.react(run.fold([cancel], again), ports(at(10))).events)).toEqual(['RunCancelled']);
    // A run with no line never asks.
    expect(run.react(run.fold(limited({ limit: 1 }).map((e) => ({ ...e, data: { ...(e.data as object), concurrency: undefined } }) as RunEvent)), ports()).admit).toBeUndefined();
  });
});
