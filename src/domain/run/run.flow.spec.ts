import {
  block,
  chain,
  edge,
  kinds,
  ok,
  ports,
  run,
  started,
  summarize,
  T0,
  workflow,
} from './run.spec-fixtures';

describe('run flow: which blocks run, which are skipped', () => {
  it('runs a linear chain one block at a time and completes with every output', () => {
    const state = run.fold([started(chain(3), { n: 7 })]);
    expect(state.status).toBe('queued');

    let t = run.react(state, ports());
    expect(summarize(t.execute)).toEqual(['ExecuteStep:b1']);
    expect(kinds(t.events)).toEqual(['StepAttemptStarted:b1']);
    expect(t.state.status).toBe('running');

    t = run.onStepResult(t.state, ok('b1'), ports());
    expect(summarize(t.execute)).toEqual(['ExecuteStep:b2']);
    t = run.onStepResult(t.state, ok('b2'), ports());
    t = run.onStepResult(t.state, ok('b3', { last: true }), ports());

    expect(kinds(t.events)).toEqual(['StepAttemptSucceeded:b3', 'RunCompleted']);
    expect(t.state.status).toBe('completed');
    expect(t.events[1]?.data).toEqual({
      outputs: { trigger: { n: 7 }, b1: { from: 'b1' }, b2: { from: 'b2' }, b3: { last: true } },
      at: T0.toISOString(),
    });
  });

  it('runs both branches of a fork before the join, and the join once', () => {
    const forkJoin = workflow(
      [block('trigger', 'trigger_manual'), block('a'), block('b'), block('join')],
      [edge('trigger', 'a'), edge('trigger', 'b'), edge('a', 'join'), edge('b', 'join')],
    );
    let state = run.fold([started(forkJoin)]);
    expect(summarize(run.decide(state, T0).actions)).toEqual(['ExecuteStep:a', 'ExecuteStep:b']);

    state = run.react(state, ports()).state;
    const afterA = run.onStepResult(state, ok('a'), ports());
    expect(afterA.execute).toEqual([]);

    const afterB = run.onStepResult(afterA.state, ok('b'), ports());
    expect(summarize(afterB.execute)).toEqual(['ExecuteStep:join']);
  });

  it('takes the true branch of a condition, skips the false one, and still runs the shared join', () => {
    const wf = workflow(
      [
        block('trigger', 'trigger_manual'),
        block('cond', 'condition'),
        block('yes'),
        block('no'),
        block('no2'),
        block('join'),
      ],
      [
        edge('trigger', 'cond'),
        edge('cond', 'yes', 'true'),
        edge('cond', 'no', 'false'),
        edge('no', 'no2'),
        edge('yes', 'join'),
        edge('no2', 'join'),
      ],
    );
    let t = run.react(run.fold([started(wf)]), ports());
    t = run.onStepResult(t.state, ok('cond', { result: true }), ports());

    expect(kinds(t.events)).toEqual([
      'StepAttemptSucceeded:cond',
      'StepSkipped:no',
      'StepAttemptStarted:yes',
      'StepSkipped:no2',
    ]);
    expect(summarize(t.execute)).toEqual(['ExecuteStep:yes']);

    t = run.onStepResult(t.state, ok('yes'), ports());
    expect(summarize(t.execute)).toEqual(['ExecuteStep:join']);
    t = run.onStepResult(t.state, ok('join'), ports());
    expect(t.state.status).toBe('completed');
    expect(t.state.blocks.get('no')?.phase).toEqual({
      kind: 'skipped',
      reason: 'branch_not_taken',
    });
  });

  it('skips a join only when every parent is skipped', () => {
    const wf = workflow(
      [
        block('trigger', 'trigger_manual'),
        block('cond', 'condition'),
        block('a'),
        block('b'),
        block('join'),
        block('tail'),
      ],
      [
        edge('trigger', 'cond'),
        edge('cond', 'a', 'true'),
        edge('cond', 'b', 'true'),
        edge('a', 'join'),
        edge('b', 'join'),
        edge('cond', 'tail', 'false'),
      ],
    );
    let t = run.react(run.fold([started(wf)]), ports());
    t = run.onStepResult(t.state, ok('cond', { result: false }), ports());

    expect(kinds(t.events)).toEqual([
      'StepAttemptSucceeded:cond',
      'StepSkipped:a',
      'StepSkipped:b',
      'StepAttemptStarted:tail',
      'StepSkipped:join',
    ]);
  });

  it('passes through a disabled block: it is skipped and its successors run', () => {
    const wf = workflow(
      [block('trigger', 'trigger_manual'), block('off', 'action', {}, false), block('after')],
      [edge('trigger', 'off'), edge('off', 'after')],
    );
    const t = run.react(run.fold([started(wf)]), ports());

    expect(kinds(t.events)).toEqual(['StepSkipped:off', 'StepAttemptStarted:after']);
    expect('off' in t.state.outputs).toBe(false);
  });

  it('routes nowhere from a disabled condition: both branches are skipped, default edges pass', () => {
    const wf = workflow(
      [
        block('trigger', 'trigger_manual'),
        block('cond', 'condition', {}, false),
        block('yes'),
        block('no'),
        block('always'),
      ],
      [
        edge('trigger', 'cond'),
        edge('cond', 'yes', 'true'),
        edge('cond', 'no', 'false'),
        edge('cond', 'always'),
      ],
    );
    const t = run.react(run.fold([started(wf)]), ports());

    expect(kinds(t.events)).toEqual([
      'StepSkipped:cond',
      'StepSkipped:yes',
      'StepSkipped:no',
      'StepAttemptStarted:always',
    ]);
  });

  it('returns 100 ExecuteStep actions at once for a 100-way fan-out', () => {
    const ids = Array.from({ length: 100 }, (_, i) => `f${i}`);
    const wf = workflow(
      [block('trigger', 'trigger_manual'), ...ids.map((id) => block(id))],
      ids.map((id) => edge('trigger', id)),
    );
    const state = run.fold([started(wf)]);

    const decision = run.decide(state, T0);

    expect(decision.actions).toHaveLength(100);
    expect(decision.actions.every((a) => a.type === 'ExecuteStep' && a.attempt === 1)).toBe(true);
    expect(run.react(state, ports()).execute).toHaveLength(100);
  });

  it('gives each attempt the idempotency key runId:blockId:attempt and the connector timeout', () => {
    const wf = workflow(
      [block('trigger', 'trigger_manual'), block('s', 'slow')],
      [edge('trigger', 's')],
    );
    const [action] = run.decide(run.fold([started(wf)]), T0).actions;

    expect(action).toEqual({
      type: 'ExecuteStep',
      blockId: 's',
      blockType: 'slow',
      attempt: 1,
      idempotencyKey: 'r1:s:1',
      timeoutMs: 5000,
    });
  });

  it('fails the run when a block type is not registered', () => {
    const wf = workflow(
      [block('trigger', 'trigger_manual'), block('x', 'nope')],
      [edge('trigger', 'x')],
    );
    const t = run.react(run.fold([started(wf)]), ports());

    expect(t.state.status).toBe('failed');
    expect(t.state.error).toEqual({
      code: 'block_type_not_registered',
      message: 'Block type "nope" is not registered',
      blockId: 'x',
    });
  });

  it('completes a run whose workflow is only a trigger, with the input as its output', () => {
    const wf = workflow([block('trigger', 'trigger_manual')], []);
    const t = run.react(run.fold([started(wf, { hello: 'world' })]), ports());

    expect(kinds(t.events)).toEqual(['RunCompleted']);
    expect(t.state.outputs['trigger']).toEqual({ hello: 'world' });
  });

  it('fails a run that can never finish (a cycle) instead of hanging', () => {
    const wf = workflow(
      [block('trigger', 'trigger_manual'), block('a'), block('b')],
      [edge('trigger', 'a'), edge('a', 'b'), edge('b', 'a')],
    );
    const t = run.react(run.fold([started(wf)]), ports());

    expect(t.state.error?.code).toBe('run_stuck');
  });
});
