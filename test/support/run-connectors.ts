import type { Pool } from 'pg';
import { z } from 'zod';
import type { Connector } from '../../src/domain/connectors/connector';
import { ConnectorError } from '../../src/domain/connectors/connector-error';
import { defineConnector } from '../../src/domain/connectors/define-connector';

/** The table test connectors write every execution to (created by `createRunTestTables`). */
export const TEST_TABLES = `
CREATE TABLE IF NOT EXISTS test_calls (
  id serial PRIMARY KEY, connector text NOT NULL, run_id text NOT NULL, block_id text NOT NULL,
  attempt integer NOT NULL, idempotency_key text NOT NULL, label text, at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS test_gates (label text PRIMARY KEY);`;

export async function createRunTestTables(pool: Pool): Promise<void> {
  await pool.query(TEST_TABLES);
}

const fast = { maxAttempts: 1, initialIntervalMs: 0, backoffCoefficient: 1, maxIntervalMs: 0 };
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new ConnectorError('aborted', 'aborted'));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort); // a gate polls for long: do not pile listeners up
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Connectors for runtime tests; each execution is a row in `test_calls` (counted across
 * processes, so a crash test can prove that a recorded step never runs again):
 * - `test_count {label?, value?}` → `{value}`;
 * - `test_gate {label}` blocks until a `test_gates` row with that label exists (or it is aborted);
 * - `test_flaky {label?, failures}` fails its first `failures` attempts (retryable, 20 ms back-off);
 * - `test_sleep {ms}` waits `ms`; an abort is recorded as a `test_sleep_aborted` call;
 * - `test_fail {code?, retryable?}` always fails.
 */
export function runTestConnectors(pool: Pool, options: { failAttempts?: number } = {}): Connector[] {
  const record = async (connector: string, ctx: { runId: string; blockId: string; attempt: number; idempotencyKey: string }, label?: string) => {
    await pool.query('INSERT INTO test_calls (connector, run_id, block_id, attempt, idempotency_key, label) VALUES ($1, $2, $3, $4, $5, $6)', [
      connector, ctx.runId, ctx.blockId, ctx.attempt, ctx.idempotencyKey, label ?? null,
    ]);
  };
  return [
    defineConnector({
      type: 'test_count', name: 'Count', description: 'Records a call', category: 'test', kind: 'action', retry: fast,
      params: z.object({ label: z.string().optional(), value: z.unknown().optional() }),
      outputs: z.object({ value: z.unknown() }),
      run: async (params, ctx) => {
        await record('test_count', ctx, params.label);
        return { value: params.value ?? null };
      },
    }),
    defineConnector({
      type: 'test_gate', name: 'Gate', description: 'Blocks until opened', category: 'test', kind: 'action', retry: fast,
      params: z.object({ label: z.string() }),
      outputs: z.object({ opened: z.string() }),
      run: async (params, ctx) => {
        await record('test_gate', ctx, params.label);
        for (;;) {
          const { rowCount } = await pool.query('SELECT 1 FROM test_gates WHERE label = $1', [params.label]);
          if (rowCount) return { opened: params.label };
          await sleep(25, ctx.signal);
        }
      },
    }),
    defineConnector({
      type: 'test_flaky', name: 'Flaky', description: 'Fails its first attempts', category: 'test', kind: 'action',
      retry: { maxAttempts: 3, initialIntervalMs: 20, backoffCoefficient: 1, maxIntervalMs: 20 },
      params: z.object({ label: z.string().optional(), failures: z.number().int() }),
      outputs: z.object({ attempt: z.number() }),
      run: async (params, ctx) => {
        await record('test_flaky', ctx, params.label);
        if (ctx.attempt <= params.failures) throw new ConnectorError('flaky', `attempt ${ctx.attempt} failed`);
        return { attempt: ctx.attempt };
      },
    }),
    defineConnector({
      type: 'test_sleep', name: 'Sleep', description: 'Waits', category: 'test', kind: 'action', retry: fast,
      params: z.object({ ms: z.number().int(), label: z.string().optional() }),
      outputs: z.object({ slept: z.number() }),
      run: async (params, ctx) => {
        await record('test_sleep', ctx, params.label);
        try {
          await sleep(params.ms, ctx.signal);
        } catch (error) {
          await record('test_sleep_aborted', ctx, params.label);
          throw error;
        }
        return { slept: params.ms };
      },
    }),
    defineConnector({
      type: 'test_fail', name: 'Fail', description: 'Always fails', category: 'test', kind: 'action',
      // `failAttempts`: a deployment whose policy differs from the one pinned in a run's start.
      retry: { maxAttempts: options.failAttempts ?? 2, initialIntervalMs: 10, backoffCoefficient: 1, maxIntervalMs: 10 },
      params: z.object({ code: z.string().optional(), retryable: z.boolean().optional() }),
      outputs: z.object({}),
      run: async (params, ctx) => {
        await record('test_fail', ctx);
        throw new ConnectorError(params.code ?? 'always_fails', 'this step always fails', { retryable: params.retryable ?? true });
      },
    }),
  ] as Connector[];
}
