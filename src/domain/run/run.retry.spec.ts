import { DEFAULT_RETRY_POLICY, nextRetryDelay, retryPolicyOf } from './retry-policy';
import { waitingFor } from './run.view';
import { createRunDecider } from './run.decider';
import type { RunEvent } from './run.events';
import {
  at,
  block,
  chain,
  edge,
  failed,
  kinds,
  ok,
  ports,
  run,
  started,
  summarize,
  workflow,
} from './run.spec-fixtures';
import { MAX_ERROR_CODE_LENGTH, MAX_ERROR_MESSAGE_LENGTH } from './step-result.events';
import { normalizeStepError } from './step-result';

const single = (type: string) =>
  workflow(
    [block('trigger', 'trigger_manual'), block('s', type), block('next')],
    [edge('trigger', 's'), edge('s', 'next')],
  );

describe('nextRetryDelay', () => {
  const policy = retryPolicyOf({
    initialIntervalMs: 1000,
    backoffCoefficient: 2,
    maxIntervalMs: 10_000,
    jitter: 0.2,
  });

  it('grows exponentially and is capped at maxIntervalMs', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => nextRetryDelay(policy, n, 0.5))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it('spreads the delay by ±jitter and never exceeds the cap', () => {
    expect(nextRetryDelay(policy, 1, 0)).toBe(800);
    expect(nextRetryDelay(policy, 1, 1)).toBe(1200);
    expect(nextRetryDelay(policy, 10, 1)).toBe(10_000);
    expect(nextRetryDelay(policy, 1, Number.NaN)).toBe(1000);
  });

  it('falls back to defaults for nonsensical or missing overrides', () => {
    expect(retryPolicyOf({ maxAttempts: 0, backoffCoefficient: -1 })).toEqual(DEFAULT_RETRY_POLICY);
    expect(retryPolicyOf({ nonRetryableErrors: undefined } as never)).toEqual(DEFAULT_RETRY_POLICY);
  });
});

describe('run retries', () => {
  it('retries after a back-off, sleeping meanwhile, then succeeds', () => {
    let t = run.react(run.fold([started(single('flaky'))]), ports());
    t = run.onStepResult(t.state, failed('s'), ports());

    expect(kinds(t.events)).toEqual(['StepAttemptFailed:s', 'StepRetryScheduled:s']);
    expect(t.events[1]?.data).toEqual({
      blockId: 's',
      nextAttempt: 2,
      availableAt: at(1000).toISOString(),
    });
    expect(t.wakeAt).toEqual(at(1000));
    expect(t.state.status).toBe('sleeping');
    expect(waitingFor(t.state)).toEqual({
      kind: 'retry',
      blockId: 's',
      until: at(1000).toISOString(),
    });
    expect(run.decide(t.state, at(999)).actions).toEqual([]);

    t = run.react(t.state, ports(at(1000)));
    expect(summarize(t.execute)).toEqual(['ExecuteStep:s']);
    expect(t.execute[0]).toMatchObject({ attempt: 2, idempotencyKey: 'r1:s:2' });

    t = run.onStepResult(t.state, ok('s', { fine: true }, 2), ports(at(1100)));
    expect(kinds(t.events)).toEqual(['StepAttemptSucceeded:s', 'StepAttemptStarted:next']);
    expect(t.events[0]?.data).toMatchObject({ attempt: 2, durationMs: 100 });
  });

  it('fails the run in the same batch once the attempts are exhausted', () => {
    let t = run.react(run.fold([started(single('flaky'))]), ports());
    t = run.onStepResult(t.state, failed('s'), ports());
    t = run.onStepResult(
      run.react(t.state, ports(at(1000))).state,
      failed('s', {}, 2),
      ports(at(1000)),
    );
    expect(t.events[1]?.data).toMatchObject({
      nextAttempt: 3,
      availableAt: at(3000).toISOString(),
    });
    t = run.onStepResult(
      run.react(t.state, ports(at(3000))).state,
      failed('s', {}, 3),
      ports(at(3000)),
    );

    expect(kinds(t.events)).toEqual(['StepAttemptFailed:s', 'RunFailed']);
    expect(t.events[0]?.data).toMatchObject({ attempt: 3, terminal: true });
    expect(t.state.status).toBe('failed');
    expect(t.state.error).toEqual({ code: 'boom', message: 's failed', blockId: 's' });
  });

  it('fails at once on an error the connector marks non-retryable', () => {
    let t = run.react(run.fold([started(single('flaky'))]), ports());
    t = run.onStepResult(t.state, failed('s', { code: 'denied', retryable: false }), ports());

    expect(kinds(t.events)).toEqual(['StepAttemptFailed:s', 'RunFailed']);
  });

  it('fails at once on an error code the policy lists as non-retryable', () => {
    let t = run.react(run.fold([started(single('strict'))]), ports());
    t = run.onStepResult(t.state, failed('s', { code: 'bad_request' }), ports());

    expect(t.state.error?.code).toBe('bad_request');
  });

  it('takes the error edge on terminal failure, with the error as the block output', () => {
    const wf = workflow(
      [
        block('trigger', 'trigger_manual'),
        block('s', 'condition'),
        block('happy'),
        block('rescue'),
        block('end'),
      ],
      [
        edge('trigger', 's'),
        edge('s', 'happy'),
        edge('s', 'rescue', 'error'),
        edge('happy', 'end'),
      ],
    );
    let t = run.react(run.fold([started(wf)]), ports());
    t = run.onStepResult(t.state, failed('s', { code: 'http_500' }), ports());

    expect(kinds(t.events)).toEqual([
      'StepAttemptFailed:s',
      'StepSkipped:happy',
      'StepAttemptStarted:rescue',
      'StepSkipped:end',
    ]);
    expect(t.state.outputs['s']).toEqual({
      code: 'http_500',
      message: 's failed',
      retryable: true,
    });
    t = run.onStepResult(t.state, ok('rescue'), ports());
    expect(t.state.status).toBe('completed');
  });

  it('skips the error branch when the block succeeds', () => {
    const wf = workflow(
      [block('trigger', 'trigger_manual'), block('s'), block('rescue')],
      [edge('trigger', 's'), edge('s', 'rescue', 'error')],
    );
    let t = run.react(run.fold([started(wf)]), ports());
    t = run.onStepResult(t.state, ok('s'), ports());

    expect(kinds(t.events)).toEqual([
      'StepAttemptSucceeded:s',
      'StepSkipped:rescue',
      'RunCompleted',
    ]);
  });

  it('fails the step without retry when its output exceeds the payload limit', () => {
    let t = run.react(run.fold([started(single('flaky'))]), ports());
    t = run.onStepResult(t.state, ok('s', { big: 'x'.repeat(300_000) }), ports());

    expect(t.events[0]?.data).toMatchObject({
      error: { code: 'payload_too_large', retryable: false },
    });
    expect(t.state.status).toBe('failed');
  });

  it("fails a step whose output would take the run past its outputs budget, counting the input and every output held", () => {
    // 500 blocks of 256 KiB once made a 128 MB RunCompleted, copied again into every read of the run.
    const bounded = createRunDecider({ maxRunOutputBytes: 1_000 });
    const recorded: RunEvent[] = [started(chain(3), { text: 'i'.repeat(100) })];
    let t = bounded.react(bounded.fold(recorded), ports());
    recorded.push(...t.events);
    for (const id of ['b1', 'b2']) {
      t = bounded.onStepResult(t.state, ok(id, { text: id.repeat(200) }), ports());
      recorded.push(...t.events);
      expect(t.events[0]?.type).toBe('StepAttemptSucceeded');
    }
    expect(t.state.outputBytes).toBeGreaterThan(900);
    t = bounded.onStepResult(t.state, ok('b3', { text: 'x'.repeat(200) }), ports());
    recorded.push(...t.events);
    expect(t.events[0]).toMatchObject({ type: 'StepAttemptFailed', data: { blockId: 'b3', error: { code: 'payload_too_large', retryable: false }, terminal: true } });
    expect((t.events[0]?.data as { error: { message: string } }).error.message).toContain("the run's limit of 1000");
    expect(t.state.status).toBe('failed');
    expect(t.state.outputs['b3']).toBeUndefined();
    // A replay counts the same.
    expect(bounded.fold(recorded).outputBytes).toBe(t.state.outputBytes);
  });

  it.each([
    ['a NUL character', { body: { text: 'a\u0000b' } }, '$.body.text'],
    ['a lone high surrogate', { items: ['ok', '\ud800'] }, '$.items[1]'],
    ['a lone low surrogate in a key', { 'k\udc00': 1 }, '$["k\ufffd"]'],
  ])('fails the step without retry with value_not_storable when its output holds %s', (_what, output, path) => {
    let t = run.react(run.fold([started(single('flaky'))]), ports());
    t = run.onStepResult(t.state, ok('s', output), ports());

    expect(t.events[0]?.data).toMatchObject({
      error: { code: 'value_not_storable', retryable: false },
      terminal: true,
    });
    expect((t.events[0]?.data as { error: { message: string } }).error.message).toContain(path);
    expect(t.state.status).toBe('failed');
  });

  it('records a failure whose message quotes unstorable text with the text made storable', () => {
    let t = run.react(run.fold([started(single('action'))]), ports());
    t = run.onStepResult(t.state, failed('s', { message: 'bad \u0000 body \ud800', retryable: false }), ports());

    expect(t.events[0]?.data).toMatchObject({ error: { message: 'bad \ufffd body \ufffd' } });
  });

  it('keeps paired surrogates (emoji) as they are', () => {
    let t = run.react(run.fold([started(single('action'))]), ports());
    t = run.onStepResult(t.state, ok('s', { text: 'ok \ud83d\ude00' }), ports());

    expect(t.events[0]).toMatchObject({ type: 'StepAttemptSucceeded', data: { output: { text: 'ok \ud83d\ude00' } } });
  });

  it('records null for a step that returned undefined', () => {
    let t = run.react(run.fold([started(single('action'))]), ports());
    t = run.onStepResult(
      t.state,
      { blockId: 's', attempt: 1, outcome: { ok: true, output: undefined } },
      ports(),
    );

    expect(t.state.outputs['s']).toBeNull();
  });
});

describe('normalizeStepError', () => {
  it.each([
    [null, { code: 'step_failed', message: 'The step threw null', retryable: true }],
    [undefined, { code: 'step_failed', message: 'The step threw undefined', retryable: true }],
    ['plain text', { code: 'step_failed', message: 'plain text', retryable: true }],
    [new Error('kaput'), { code: 'step_failed', message: 'kaput', retryable: true }],
    [
      { code: 'rate_limited', message: 'slow down', retryable: false },
      { code: 'rate_limited', message: 'slow down', retryable: false },
    ],
    [
      Object.assign(new Error('late'), { name: 'TimeoutError' }),
      { code: 'step_timeout', message: 'late', retryable: true },
    ],
  ])('turns %p into a step error', (thrown, expected) => {
    expect(normalizeStepError(thrown)).toEqual(expected);
  });

  it('never throws, whatever reading the thrown value does', () => {
    const getters = {
      get message(): string {
        throw new Error('message getter');
      },
      get code(): string {
        throw new Error('code getter');
      },
      get retryable(): boolean {
        throw new Error('retryable getter');
      },
    };
    const trap = new Proxy({}, { get: () => { throw new Error('any read'); } });
    const bare = Object.create(null) as object; // no toString either
    for (const thrown of [getters, trap, bare]) {
      expect(normalizeStepError(thrown)).toEqual({ code: 'step_failed', message: expect.any(String), retryable: true });
    }
  });
});

describe('recorded step errors', () => {
  it('cut a long message (saying so) and a long code, so no attempt records megabytes', () => {
    const t = run.react(run.fold([started(single('action'))]), ports());
    const long = failed('s', { code: 'c'.repeat(1_000), message: 'm'.repeat(20 * 2 ** 20), retryable: false });
    const { events } = run.onStepResult(t.state, long, ports());
    const error = (events[0]!.data as { error: { code: string; message: string } }).error;

    expect(events[0]!.type).toBe('StepAttemptFailed');
    expect(error.code).toBe('c'.repeat(MAX_ERROR_CODE_LENGTH));
    expect(error.message).toHaveLength(MAX_ERROR_MESSAGE_LENGTH);
    expect(error.message.endsWith('… (cut)')).toBe(true);
  });

  it('never cut a surrogate pair in two', () => {
    const t = run.react(run.fold([started(single('action'))]), ports());
    const message = 'x'.repeat(MAX_ERROR_MESSAGE_LENGTH - '… (cut)'.length - 1) + '\ud83d\ude00'.repeat(10);
    const { events } = run.onStepResult(t.state, failed('s', { message, retryable: false }), ports());
    const recorded = (events[0]!.data as { error: { message: string } }).error.message;

    expect(recorded).toBe('x'.repeat(MAX_ERROR_MESSAGE_LENGTH - '… (cut)'.length - 1) + '… (cut)');
  });
});
