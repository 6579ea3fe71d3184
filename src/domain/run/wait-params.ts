import { z } from 'zod';
import type { WaitType } from './block-spec';

const MAX_WAIT_MS = 366 * 24 * 60 * 60 * 1000;
const ms = z.number().finite().min(0).max(MAX_WAIT_MS);

const durationParams = z
  .object({ durationMs: ms.optional(), seconds: ms.optional() })
  .refine((p) => p.durationMs !== undefined || p.seconds !== undefined, {
    message: 'wait_duration needs durationMs or seconds',
  });

/**
 * The longest correlation key a published event may carry (`POST /api/events`): a longer one,
 * resolved from run data, could never match, and past the waits' index row limit the store
 * refused the run's batch.
 */
const MAX_CORRELATION_KEY = 500;

const eventParams = z.object({
  eventName: z.string().min(1).max(200),
  correlationKey: z.union([z.string().max(MAX_CORRELATION_KEY), z.number()]).optional(),
  timeoutMs: ms.optional(),
});

const approvalParams = z.object({ prompt: z.string().max(10_000), timeoutMs: ms.optional() });

/** A wait block's resolved params, normalised. Durations are milliseconds. */
export type WaitParams =
  | { type: 'wait_duration'; durationMs: number }
  | { type: 'wait_for_event'; eventName: string; correlationKey?: string; timeoutMs?: number }
  | { type: 'human_approval'; prompt: string; timeoutMs?: number };

/** The outcome of {@link parseWaitParams}: the params, or a sentence saying what is wrong. */
export type WaitParamsResult = { ok: true; params: WaitParams } | { ok: false; message: string };

/**
 * Reads a wait block's params after the shell resolved their templates. `wait_duration` takes
 * `durationMs` or `seconds`; `wait_for_event` takes `eventName`, an optional `correlationKey`
 * (a number becomes its decimal string) and `timeoutMs`; `human_approval` takes `prompt` and
 * `timeoutMs`. Unknown keys are ignored; durations are capped at a year.
 */
export function parseWaitParams(type: WaitType, params: unknown): WaitParamsResult {
  switch (type) {
    case 'wait_duration': {
      const parsed = durationParams.safeParse(params);
      if (!parsed.success) return invalid(type, parsed.error);
      const durationMs = parsed.data.durationMs ?? (parsed.data.seconds ?? 0) * 1000;
      return { ok: true, params: { type, durationMs: Math.min(durationMs, MAX_WAIT_MS) } };
    }
    case 'wait_for_event': {
      const parsed = eventParams.safeParse(params);
      if (!parsed.success) return invalid(type, parsed.error);
      const { eventName, correlationKey, timeoutMs } = parsed.data;
      return {
        ok: true,
        params: {
          type,
          eventName,
          ...(correlationKey !== undefined ? { correlationKey: String(correlationKey) } : {}),
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        },
      };
    }
    case 'human_approval': {
      const parsed = approvalParams.safeParse(params);
      if (!parsed.success) return invalid(type, parsed.error);
      const { prompt, timeoutMs } = parsed.data;
      return {
        ok: true,
        params: { type, prompt, ...(timeoutMs !== undefined ? { timeoutMs } : {}) },
      };
    }
  }
}

function invalid(type: WaitType, error: z.ZodError): WaitParamsResult {
  const issues = error.issues.map((i) => `${i.path.join('.') || 'params'}: ${i.message}`);
  return { ok: false, message: `Invalid ${type} params — ${issues.join('; ')}` };
}
