import { z } from 'zod';
import { createConnectorCatalog } from '../domain/connectors/connector-catalog';
import type { Connector } from '../domain/connectors/connector';
import { defineConnector } from '../domain/connectors/define-connector';
import { hidden } from '../domain/connectors/visibility';
import type { ExecuteStep } from '../domain/run/run.actions';
import { DEFAULT_RUN_LIMITS } from '../domain/run/run.bounds';
import { AttemptStop } from './attempt-stop';
import { StepExecutor } from './step-executor';

const action = (type: string, run: (params: Record<string, unknown>, ctx: { signal: AbortSignal; secrets: Readonly<Record<string, string>> }) => Promise<unknown>, extra: Partial<Connector> = {}) =>
  defineConnector({
    type,
    name: type,
    description: type,
    category: 'test',
    kind: 'action',
    params: z.object({ n: z.number().default(1), token: hidden(z.string()).optional() }),
    outputs: z.object({}),
    run: run as never,
    ...(extra as object),
  }) as Connector;

const heard: string[] = [];
const catalog = createConnectorCatalog([
  action('echo', async (params, ctx) => ({ params, secretCount: Object.keys(ctx.secrets).length })),
  action('throws_null', async () => {
    throw null;
  }),
  action('hangs', () => new Promise(() => undefined)),
  // Never settles: records the reason its signal was aborted with.
  action('listens', (_params, ctx) => new Promise(() => ctx.signal.addEventListener('abort', () => heard.push(String((ctx.signal.reason as Error).message))))),
  action('late_reader', async (_params, ctx) => {
    await new Promise((resolve) => setTimeout(resolve, 40));
    heard.push(`aborted=${ctx.signal.aborted}`);
  }),
  action('leaky', async (params) => ({ said: `token is ${String(params.token)}` }), { secrets: { token: 'API_TOKEN' } } as Partial<Connector>),
  // One 100 KB string 100,000 times over: 10 GB as JSON.
  action('swollen', async () => ({ items: new Array<string>(100_000).fill('x'.repeat(100_000)) }), { secrets: { token: 'API_TOKEN' } } as Partial<Connector>),
]);
const secrets = { resolveSecrets: async (_org: string, names: readonly string[]) => Object.fromEntries(names.map((n) => [n, 's3cr3t-value'])) };
const executor = new StepExecutor(catalog, secrets, () => undefined, DEFAULT_RUN_LIMITS.maxPayloadBytes);
const run = { runId: 'r1', organizationId: 'o1' };
const step = (blockType: string, timeoutMs?: number): ExecuteStep => ({
  type: 'ExecuteStep',
  blockId: 'b',
  blockType,
  attempt: 1,
  idempotencyKey: 'r1:b:1',
  ...(timeoutMs !== undefined ? { timeoutMs } : {}),
});
const live = () => new AttemptStop();

describe('StepExecutor', () => {
  it('parses params with the connector schema (defaults applied) before the call', async () => {
    expect(await executor.execute(run, step('echo'), {}, live())).toEqual({ ok: true, output: { params: { n: 1 }, secretCount: 0 } });
  });

  it('fails without retry when the params do not fit', async () => {
    const outcome = await executor.execute(run, step('echo'), { n: 'one' }, live());
    expect(outcome).toEqual({ ok: false, error: expect.objectContaining({ code: 'invalid_params', retryable: false }) });
  });

  it('turns a thrown null into a retryable step error', async () => {
    expect(await executor.execute(run, step('throws_null'), {}, live())).toEqual({
      ok: false,
      error: { code: 'step_failed', message: 'The step threw null', retryable: true },
    });
  });

  it('aborts a call past its timeout and reports step_timeout, even if the connector ignores its signal', async () => {
    const outcome = await executor.execute(run, step('hangs', 20), {}, live());
    expect(outcome).toEqual({ ok: false, error: expect.objectContaining({ code: 'step_timeout', retryable: true }) });
  });

  it('times out a call made without a stop (an inline step) all the same', async () => {
    const outcome = await executor.execute(run, step('hangs', 20), {}, undefined);
    expect(outcome).toEqual({ ok: false, error: expect.objectContaining({ code: 'step_timeout', retryable: true }) });
  });

  it('stops waiting for a call once the run aborts it', async () => {
    const stop = new AttemptStop();
    const pending = executor.execute(run, step('hangs'), {}, stop);
    stop.abort(new Error('cancelled'));
    expect(await pending).toEqual({ ok: false, error: expect.objectContaining({ message: 'cancelled' }) });
  });

  it("aborts the connector's own signal when the run aborts the call, and when it times out", async () => {
    heard.length = 0;
    const stop = new AttemptStop();
    const cancelled = executor.execute(run, step('listens'), {}, stop);
    await new Promise((resolve) => setTimeout(resolve, 5)); // the connector is listening by now
    stop.abort(new Error('cancelled'));
    await cancelled;
    await executor.execute(run, step('listens', 20), {}, undefined);
    expect(heard).toEqual(['cancelled', 'step timed out']);
  });

  it('hands a connector that reads its signal only after the stop an already aborted one', async () => {
    heard.length = 0;
    expect(await executor.execute(run, step('late_reader', 10), {}, live())).toEqual({ ok: false, error: expect.objectContaining({ code: 'step_timeout' }) });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(heard).toEqual(['aborted=true']);
  });

  it('fills hidden params from secrets and never lets their values back out', async () => {
    const outcome = await executor.execute(run, step('leaky'), {}, live());
    expect(outcome).toEqual({ ok: true, output: { said: 'token is [hidden]' } });
  });

  it('does not serialise an output plainly past the payload limit to redact it (the run refuses it)', async () => {
    const outcome = await executor.execute(run, step('swollen'), {}, live());
    expect(outcome.ok && (outcome.output as { items: string[] }).items).toHaveLength(100_000);
  });

  it('refuses a type that has no connector', async () => {
    expect(await executor.execute(run, step('nope'), {}, live())).toEqual({ ok: false, error: expect.objectContaining({ code: 'block_type_not_registered', retryable: false }) });
  });
});
