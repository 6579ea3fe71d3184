import { initialRunState, type RunState } from '../domain/run/run.state';
import type { ExecuteStep } from '../domain/run/run.actions';
import { createRunHooks } from './hook-runner';
import { loadOpenTelemetry, type ModuleLoader } from './tracer';
import { tracingHooks } from './tracing-hooks';

/** `require` in an install without the optional peer dependency. */
const withoutApi: ModuleLoader = (id) => {
  throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
};

const state: RunState = { ...initialRunState(), run: { runId: 'r1', organizationId: 'o1', workflowId: 'w1', workflowVersion: 1, input: {}, variables: {}, startedAt: '2025-01-01T00:00:00.000Z' } };
const step: ExecuteStep = { type: 'ExecuteStep', blockId: 'b1', blockType: 'transform', attempt: 1, idempotencyKey: 'r1:b1:1' };

describe('tracing without @opentelemetry/api', () => {
  it('loads nothing and adds no hooks', () => {
    expect(loadOpenTelemetry(withoutApi)).toBeUndefined();
    expect(tracingHooks(withoutApi)).toBeUndefined();
    expect(loadOpenTelemetry(() => ({}))).toBeUndefined(); // something else under that name
  });

  it('runs steps and the embedder hooks as usual', async () => {
    const started: string[] = [];
    const hooks = createRunHooks([{ onStepAttemptStarted: (s) => started.push(s.blockId) }], { warn: () => undefined }, withoutApi);
    const ok = { ok: true as const, output: 1 };

    expect(await hooks.stepAttempt('r1', step, state, () => Promise.resolve(ok))).toBe(ok);
    hooks.released('r1', 'ended');
    expect(started).toEqual(['b1']);
  });
});

describe('tracing with the API but no SDK registered', () => {
  it('loads the API; its spans record nothing and nothing throws', async () => {
    const warnings: unknown[] = [];
    const hooks = createRunHooks(undefined, { warn: (data) => warnings.push(data) });
    const ok = { ok: true as const, output: 1 };

    expect(loadOpenTelemetry()).toBeDefined();
    hooks.recorded('r1', state, [{ type: 'RunCompleted', data: { outputs: {}, at: '2025-01-01T00:00:01.000Z' } }]);
    expect(await hooks.stepAttempt('r1', step, state, () => Promise.resolve(ok))).toBe(ok);
    hooks.released('r1', 'ended');
    expect(warnings).toEqual([]);
  });
});

describe('tracing hooks and the registered provider', () => {
  const run = { runId: 'r1', organizationId: 'o1', workflowId: 'w1', workflowVersion: 1 };
  const fakeApi = (delegate: unknown) => {
    const startSpan = jest.fn(() => ({ end: () => undefined, setAttribute: () => undefined, setStatus: () => undefined, spanContext: () => ({}) }));
    const api = {
      trace: { getTracer: () => ({ startSpan }), getTracerProvider: () => ({ getDelegateTracer: () => delegate }), setSpan: (c: unknown) => c },
      context: { active: () => ({}) },
      SpanKind: { INTERNAL: 0 },
      SpanStatusCode: { ERROR: 2 },
    };
    return { load: (() => api) as ModuleLoader, startSpan };
  };

  it('starts no span while no SDK is registered (the API would only hand out no-ops)', () => {
    const { load, startSpan } = fakeApi(undefined);
    const hooks = tracingHooks(load)!;
    hooks.onRunSegmentStarted!(run);
    hooks.onStepAttemptStarted!({ run, blockId: 'b1', connector: 'transform', attempt: 1, idempotencyKey: 'r1:b1:1' });
    expect(startSpan).not.toHaveBeenCalled();
  });

  it('starts the run and step spans once one is', () => {
    const { load, startSpan } = fakeApi({});
    const hooks = tracingHooks(load)!;
    hooks.onRunSegmentStarted!(run);
    hooks.onStepAttemptStarted!({ run, blockId: 'b1', connector: 'transform', attempt: 1, idempotencyKey: 'r1:b1:1' });
    expect(startSpan).toHaveBeenCalledTimes(2);
  });
});
