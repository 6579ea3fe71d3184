import { decideApproval, receiveSignal } from './run.commands';
import { DEFAULT_RUN_LIMITS } from './run.bounds';
import type { RunEvent } from './run.events';
import type { RunState } from './run.state';
import { waitingFor } from './run.view';
import {
  at,
  block,
  edge,
  kinds,
  ports,
  run,
  signal,
  started,
  summarize,
  T0,
  workflow,
} from './run.spec-fixtures';

const waitThen = (type: string, params: Record<string, unknown>) =>
  workflow(
    [block('trigger', 'trigger_manual'), block('w', type, params), block('after')],
    [edge('trigger', 'w'), edge('w', 'after')],
  );

/** Folds `events` after the start, then lets the worker play the run at `now`. */
function play(wf: ReturnType<typeof waitThen>, now = T0, events: RunEvent[] = [], runId = 'r1') {
  return run.react(run.fold([started(wf, {}, runId), ...events]), ports(now));
}

function evolveAll(state: RunState, events: RunEvent[]): RunState {
  return run.fold(events, state);
}

describe('wait_duration', () => {
  it('sleeps, tells the worker when to come back, and resumes once due', () => {
    let t = play(waitThen('wait_duration', { durationMs: 60_000 }));

    expect(kinds(t.events)).toEqual(['RunSleeping:w']);
    expect(t.wakeAt).toEqual(at(60_000));
    expect(t.state.status).toBe('sleeping');
    expect(waitingFor(t.state)).toEqual({
      kind: 'wait_duration',
      blockId: 'w',
      until: at(60_000).toISOString(),
    });
    expect(run.react(t.state, ports(at(59_999))).events).toEqual([]);

    t = run.react(t.state, ports(at(60_000)));
    expect(kinds(t.events)).toEqual(['WaitCompleted:w', 'StepAttemptStarted:after']);
    expect(t.state.outputs['w']).toEqual({ sleptUntil: at(60_000).toISOString(), resumedAt: expect.any(String) });
  });

  it('accepts seconds', () => {
    expect(play(waitThen('wait_duration', { seconds: 2 })).wakeAt).toEqual(at(2000));
  });

  it('fails the block when its params do not fit', () => {
    const t = play(waitThen('wait_duration', { durationMs: -5 }));

    expect(t.state.error).toMatchObject({ code: 'invalid_wait_params', blockId: 'w' });
  });
});

describe('wait_for_event', () => {
  const waitForPaid = (params: Record<string, unknown> = {}) =>
    waitThen('wait_for_event', { eventName: 'paid', ...params });

  it('waits, then consumes a signal that arrives later', () => {
    let t = play(waitForPaid());
    expect(t.state.status).toBe('waiting');
    expect(waitingFor(t.state)).toEqual({
      kind: 'wait_for_event',
      blockId: 'w',
      eventName: 'paid',
    });

    const state = evolveAll(t.state, [
      signal('paid', { amount: 5 }, { signalId: 's1', at: at(10) }),
    ]);
    expect(state.status).toBe('running');
    t = run.react(state, ports(at(20)));

    expect(kinds(t.events)).toEqual(['WaitCompleted:w', 'StepAttemptStarted:after']);
    expect(t.events[0]?.data).toMatchObject({
      reason: 'signal',
      signalId: 's1',
      output: { data: { amount: 5 }, timedOut: false },
    });
  });

  it('delivers a signal that arrived before the wait began (no lost emits)', () => {
    const t = play(waitForPaid(), T0, [signal('paid', { early: true })]);

    expect(kinds(t.events)).toEqual([
      'RunWaitingForEvent:w',
      'WaitCompleted:w',
      'StepAttemptStarted:after',
    ]);
    expect(t.state.outputs['w']).toEqual({ data: { early: true }, timedOut: false });
    expect(t.state.signals.size).toBe(0);
  });

  it('keeps runs apart by correlation key', () => {
    const wf = waitForPaid({ correlationKey: 'order-A' });
    const events = [
      signal('paid', 'for B', { scope: 'organization', correlationKey: 'order-B', signalId: 'eB' }),
      signal('paid', 'for A', { scope: 'organization', correlationKey: 'order-A', signalId: 'eA' }),
    ];
    const runA = play(wf, T0, events, 'rA');
    const runB = play(waitForPaid({ correlationKey: 'order-B' }), T0, events, 'rB');

    expect(runA.state.outputs['w']).toEqual({ data: 'for A', timedOut: false });
    expect(runB.state.outputs['w']).toEqual({ data: 'for B', timedOut: false });
    expect([...runA.state.signals.keys()]).toEqual(['eB']);
  });

  it('lets a signal addressed to the run ignore the correlation key', () => {
    const t = play(waitForPaid({ correlationKey: 'k' }), T0, [signal('paid', 1, { scope: 'run' })]);

    expect(t.state.outputs['w']).toEqual({ data: 1, timedOut: false });
  });

  it('times out with {data: null, timedOut: true} and continues', () => {
    let t = play(waitForPaid({ timeoutMs: 5000 }));
    expect(t.wakeAt).toEqual(at(5000));

    t = run.react(t.state, ports(at(5000)));
    expect(kinds(t.events)).toEqual(['WaitCompleted:w', 'StepAttemptStarted:after']);
    expect(t.events[0]?.data).toMatchObject({
      reason: 'timeout',
      output: { data: null, timedOut: true },
    });
  });

  it('leaves a signal that came after the deadline for a later wait', () => {
    let t = play(waitForPaid({ timeoutMs: 5000 }));
    const state = evolveAll(t.state, [signal('paid', 'late', { signalId: 'late', at: at(6000) })]);
    t = run.react(state, ports(at(6000)));

    expect(t.state.outputs['w']).toEqual({ data: null, timedOut: true });
    expect([...t.state.signals.keys()]).toEqual(['late']);
  });

  it('lets each signal end one wait only, and ignores a repeated signal id', () => {
    const wf = workflow(
      [
        block('trigger', 'trigger_manual'),
        block('w1', 'wait_for_event', { eventName: 'tick' }),
        block('w2', 'wait_for_event', { eventName: 'tick' }),
      ],
      [edge('trigger', 'w1'), edge('w1', 'w2')],
    );
    const t = play(wf, T0, [
      signal('tick', 1, { signalId: 'x' }),
      signal('tick', 1, { signalId: 'x' }),
    ]);

    expect(t.state.outputs['w1']).toEqual({ data: 1, timedOut: false });
    expect(t.state.blocks.get('w2')?.phase.kind).toBe('waiting');
    expect(t.state.status).toBe('waiting');
  });

  it('records a published event with receiveSignal even when nothing waits', () => {
    const state = run.fold([started(waitForPaid())]);
    const events = receiveSignal(
      state,
      { signalId: 'e1', name: 'paid', scope: 'organization', now: T0 },
      DEFAULT_RUN_LIMITS,
    );

    expect(events).toEqual([
      {
        type: 'SignalReceived',
        data: {
          signalId: 'e1',
          name: 'paid',
          scope: 'organization',
          payload: null,
          receivedAt: T0.toISOString(),
        },
      },
    ]);
    expect(
      receiveSignal(
        evolveAll(state, events),
        { signalId: 'e1', name: 'paid', scope: 'organization', now: T0 },
        DEFAULT_RUN_LIMITS,
      ),
    ).toEqual([]);
  });
});

describe('human_approval', () => {
  const approval = waitThen('human_approval', { prompt: 'Ship it?', timeoutMs: 60_000 });
  const decided = (approved: boolean, state: RunState, now = at(10)) =>
    decideApproval(state, { token: 'tok-w', approved, by: 'u1', note: 'ok', now });

  it('requests an approval with a token and waits for it', () => {
    const t = play(approval);

    expect(t.events[0]).toEqual({
      type: 'ApprovalRequested',
      data: {
        blockId: 'w',
        token: 'tok-w',
        prompt: 'Ship it?',
        at: T0.toISOString(),
        until: at(60_000).toISOString(),
      },
    });
    expect(waitingFor(t.state)).toMatchObject({ kind: 'human_approval', approvalToken: 'tok-w' });
  });

  it.each([true, false])('continues with approved=%p and the approver', (approved) => {
    let t = play(approval);
    const state = evolveAll(t.state, decided(approved, t.state));
    t = run.react(state, ports(at(20)));

    expect(t.state.outputs['w']).toEqual({ approved, by: 'u1', note: 'ok', timedOut: false });
    expect(summarize(t.execute)).toEqual(['ExecuteStep:after']);
  });

  it('refuses a second decision with approval_decided', () => {
    const t = play(approval);
    const state = evolveAll(t.state, decided(true, t.state));

    expect(() => decided(false, state)).toThrow(
      expect.objectContaining({ code: 'approval_decided' }),
    );
  });

  it('times out unanswered, then refuses a late decision', () => {
    let t = play(approval);
    t = run.react(t.state, ports(at(60_000)));

    expect(t.state.outputs['w']).toEqual({
      approved: false,
      by: null,
      note: null,
      timedOut: true,
    });
    expect(() => decided(true, t.state, at(60_001))).toThrow(
      expect.objectContaining({ code: 'approval_decided' }),
    );
    expect(() => decideApproval(t.state, { token: 'nope', approved: true, now: T0 })).toThrow(
      expect.objectContaining({ code: 'not_found' }),
    );
  });
});

describe('several waits at once', () => {
  it('reports waiting (not sleeping) while one branch sleeps and another waits for an event', () => {
    const wf = workflow(
      [
        block('trigger', 'trigger_manual'),
        block('nap', 'wait_duration', { durationMs: 1000 }),
        block('ev', 'wait_for_event', { eventName: 'go', timeoutMs: 500 }),
      ],
      [edge('trigger', 'nap'), edge('trigger', 'ev')],
    );
    const t = play(wf);

    expect(t.state.status).toBe('waiting');
    expect(t.wakeAt).toEqual(at(500));
    expect(waitingFor(t.state)).toEqual({
      kind: 'wait_for_event',
      blockId: 'ev',
      eventName: 'go',
      until: at(500).toISOString(),
    });
  });

  it('fails the run on a wait type it does not know', () => {
    const t = play(waitThen('mystery_wait', {}));

    expect(t.state.error).toMatchObject({ code: 'unsupported_wait_type', blockId: 'w' });
  });
});
