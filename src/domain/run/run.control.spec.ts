import { payloadSize } from '../json-size';
import { DEFAULT_RUN_LIMITS } from './run.bounds';
import { endUnrecordable, receiveSignal, requestCancel, startRun } from './run.commands';
import { createRunDecider } from './run.decider';
import type { RunEvent } from './run.events';
import { runView } from './run.view';
import {
  at,
  block,
  chain,
  edge,
  kinds,
  ok,
  ports,
  run,
  specOf,
  started,
  summarize,
  T0,
  workflow,
} from './run.spec-fixtures';

const cancel = (reason = 'user asked'): RunEvent => ({
  type: 'RunCancelRequested',
  data: { reason, by: 'u1', at: T0.toISOString() },
});

describe('cancellation', () => {
  it('cancels a run during a wait', () => {
    const wf = workflow(
      [
        block('trigger', 'trigger_manual'),
        block('w', 'wait_for_event', { eventName: 'e' }),
        block('after'),
      ],
      [edge('trigger', 'w'), edge('w', 'after')],
    );
    let t = run.react(run.fold([started(wf)]), ports());
    const state = run.fold(requestCancel(t.state, { reason: 'stop', now: at(5) }), t.state);
    t = run.react(state, ports(at(6)));

    expect(kinds(t.events)).toEqual(['RunCancelled']);
    expect(t.state.status).toBe('cancelled');
    expect(run.isTerminal(t.state)).toBe(true);
  });

  it('cancels during a step: nothing downstream runs and a late result is not recorded', () => {
    let t = run.react(run.fold([started(chain(3))]), ports());
    let state = run.fold([cancel()], t.state);
    expect(run.decide(state, T0).actions).toEqual([
      { type: 'CancelRun', reason: 'user asked', by: 'u1' },
    ]);

    t = run.react(state, ports());
    state = t.state;
    expect(kinds(t.events)).toEqual(['RunCancelled']);
    expect(run.onStepResult(state, ok('b1'), ports()).events).toEqual([]);
    expect(run.decide(state, at(1)).actions).toEqual([]);
    expect(run.resume(state)).toEqual([]);
  });

  it('refuses to cancel a finished run with run_finished', () => {
    const t = run.react(
      run.fold([started(workflow([block('trigger', 'trigger_manual')], []))]),
      ports(),
    );

    expect(() => requestCancel(t.state, { now: T0 })).toThrow(
      expect.objectContaining({ code: 'run_finished' }),
    );
  });
});

describe('crash recovery', () => {
  it('re-executes an attempt that started without a result, with the same idempotency key', () => {
    const first = run.react(run.fold([started(chain(2))]), ports());
    const log = [started(chain(2)), ...first.events];

    const refolded = run.fold(log);

    expect(run.resume(refolded)).toEqual([first.execute[0]]);
    expect(run.decide(refolded, T0).actions).toEqual([]);
  });

  it('never executes a block with a recorded result again', () => {
    let t = run.react(run.fold([started(chain(3))]), ports());
    const log: RunEvent[] = [started(chain(3)), ...t.events];
    t = run.onStepResult(t.state, ok('b1'), ports());
    log.push(...t.events);

    const refolded = run.fold(log);
    const owed = [...run.resume(refolded), ...run.decide(refolded, at(1)).actions];

    expect(summarize(owed)).toEqual(['ExecuteStep:b2']);
    expect(refolded.blocks.get('b1')?.phase).toEqual({ kind: 'succeeded', output: { from: 'b1' } });
    expect(run.onStepResult(refolded, ok('b1', 'again'), ports()).events).toEqual([]);
    expect(
      run.fold(
        [
          {
            type: 'StepAttemptSucceeded',
            data: { blockId: 'b1', attempt: 1, output: 'x', at: T0.toISOString(), durationMs: 0 },
          },
        ],
        refolded,
      ).outputs['b1'],
    ).toEqual({ from: 'b1' });
  });

  it('folds the recorded stream into the state the worker held', () => {
    let t = run.react(run.fold([started(chain(4))]), ports());
    const log: RunEvent[] = [started(chain(4)), ...t.events];
    for (const id of ['b1', 'b2', 'b3']) {
      t = run.onStepResult(t.state, ok(id), ports());
      log.push(...t.events);
    }

    const refolded = run.fold(log);

    expect(runView(refolded)).toEqual(runView(t.state));
    expect(refolded.version).toBe(log.length);
  });
});

describe('a batch the store refused for its content', () => {
  it('ends the run as failed with append_rejected, or as cancelled when a cancel was asked for', () => {
    const running = run.react(run.fold([started(chain(2))]), ports()).state;
    expect(endUnrecordable(running, 'invalid input syntax \u0000', T0)).toEqual([
      { type: 'RunFailed', data: { error: { code: 'append_rejected', message: "The run's next step could not be recorded: invalid input syntax \ufffd" }, at: T0.toISOString() } },
    ]);

    const cancelling = run.fold([{ type: 'RunCancelRequested', data: { by: 'user:u1', at: T0.toISOString() } }], running);
    expect(endUnrecordable(cancelling, 'refused', T0)).toEqual([{ type: 'RunCancelled', data: { by: 'user:u1', at: T0.toISOString() } }]);
    expect(endUnrecordable(run.fold(endUnrecordable(cancelling, 'refused', T0), cancelling), 'again', T0)).toEqual([]);
  });
});

describe('bounds', () => {
  it('fails a run past maxEventsPerRun with run_too_long', () => {
    const tight = createRunDecider({ maxEventsPerRun: 6 });
    let t = tight.react(tight.fold([started(chain(10))]), ports());
    for (let i = 1; t.execute.length > 0; i += 1)
      t = tight.onStepResult(t.state, ok(`b${i}`), ports());

    expect(t.state.error).toMatchObject({ code: 'run_too_long' });
    expect(t.state.version).toBeLessThanOrEqual(7);
  });

  it('refuses oversized inputs and signals with payload_too_large, and signals past the budget with run_too_long', () => {
    const limits = { maxEventsPerRun: 2, maxPayloadBytes: 10, maxRunOutputBytes: 1000 };
    const request = {
      runId: 'r',
      organizationId: 'o',
      workflowId: 'w',
      workflowVersion: 1,
      workflow: chain(1),
      now: T0,
    };
    expect(() => startRun({ ...request, input: 'x'.repeat(20) }, specOf, limits)).toThrow(
      expect.objectContaining({ code: 'payload_too_large' }),
    );

    const state = run.fold(startRun({ ...request, input: null }, specOf, limits));
    const send = (signalId: string, payload: unknown) =>
      receiveSignal(state, { signalId, name: 'n', payload, scope: 'run', now: T0 }, limits);
    expect(() => send('a', 'y'.repeat(20))).toThrow(
      expect.objectContaining({ code: 'payload_too_large' }),
    );
    const next = run.fold(send('b', 1), state);
    expect(() =>
      receiveSignal(next, { signalId: 'c', name: 'n', scope: 'run', now: T0 }, limits),
    ).toThrow(expect.objectContaining({ code: 'run_too_long' }));
  });

  it('measures payloads as UTF-8 JSON', () => {
    const exact = (value: unknown) => payloadSize(value, DEFAULT_RUN_LIMITS.maxPayloadBytes);
    expect(exact({ a: 'é' })).toEqual({ bytes: 10, exact: true });
    expect(exact('😀')).toEqual({ bytes: 6, exact: true });
    expect(exact(undefined)).toEqual({ bytes: 4, exact: true });
    expect(exact({ gone: undefined, f: () => 1, kept: [undefined] })).toEqual({ bytes: 15, exact: true });
    expect(exact({ n: BigInt(1) })).toBeUndefined();
    expect(exact({ get boom() { throw new Error('getter'); } })).toBeUndefined();
    expect(DEFAULT_RUN_LIMITS.maxPayloadBytes).toBe(262_144);
  });

  it('measures a payload whose JSON would be huge without building it', () => {
    // One 100 KB string 100,000 times over: 10 GB of JSON. Serialising it exhausted the heap.
    const big = 'x'.repeat(100_000);
    const repeated = { items: Array.from({ length: 100_000 }, () => big) };
    const size = payloadSize(repeated, DEFAULT_RUN_LIMITS.maxPayloadBytes);
    expect(size?.exact).toBe(false);
    expect(size!.bytes).toBeGreaterThan(DEFAULT_RUN_LIMITS.maxPayloadBytes);
    expect(size!.bytes).toBeLessThan(DEFAULT_RUN_LIMITS.maxPayloadBytes + 300_000);
    // A DAG that doubles at every level: 2^60 leaves, each visited at most once before the bound passes.
    let doubling: unknown = 'leaf';
    for (let i = 0; i < 60; i += 1) doubling = [doubling, doubling];
    expect(payloadSize(doubling, DEFAULT_RUN_LIMITS.maxPayloadBytes)?.exact).toBe(false);
  });

  it('never counts a payload under the limit as over it', () => {
    const values: unknown[] = [
      { a: 'é', b: [1, null, true, { c: '\u0000"\\' }], d: new Date(0), e: { f: undefined } },
      Array.from({ length: 1000 }, (_, i) => ({ ['k' + i]: 'v'.repeat(i % 50), n: i / 3 })),
      'x'.repeat(DEFAULT_RUN_LIMITS.maxPayloadBytes - 2),
    ];
    for (const value of values) {
      const size = payloadSize(value, DEFAULT_RUN_LIMITS.maxPayloadBytes);
      expect(size).toEqual({ bytes: Buffer.byteLength(JSON.stringify(value)), exact: true });
    }
  });
});
