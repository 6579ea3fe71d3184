import { payloadSize, sizeText } from '../json-size';
import { outputBytesOf } from './run-flow';
import type { RunLimits } from './run.bounds';
import { firstUnstorablePath, storableText } from './storable';
import type { RunEvent } from './run.events';
import { nextRetryDelay, shouldRetry } from './retry-policy';
import type { RunState } from './run.state';
import { STEP_ERROR_CODES, type StepError, type StepReport } from './step-result';

/**
 * The facts recording one attempt's result at `ports.now`: `StepAttemptSucceeded` (an `undefined`
 * output is stored as `null`), or `StepAttemptFailed` — followed by `StepRetryScheduled` when the
 * block's policy grants another attempt, its delay spread by `jitter01`. An output that is too
 * large (alone, or with the outputs the run already holds) or not JSON fails the attempt
 * (`payload_too_large`, `invalid_output`; never retried).
 */
export function stepResultEvents(
  state: RunState,
  report: StepReport,
  startedAtMs: number,
  ports: { now: Date; jitter01: number },
  limits: RunLimits,
): RunEvent[] {
  const { blockId, attempt, outcome } = report;
  const at = ports.now.toISOString();
  const durationMs = Math.max(0, ports.now.getTime() - startedAtMs) || 0;
  const error = outcome.ok ? outputProblem(state, blockId, outcome.output, limits) : outcome.error;
  if (outcome.ok && !error) {
    const output = outcome.output ?? null;
    return [{ type: 'StepAttemptSucceeded', data: { blockId, attempt, output, at, durationMs } }];
  }
  const failure = storableError(error as StepError);
  const policy = state.graph.blocks.get(blockId)?.retry;
  const retry = policy !== undefined && shouldRetry(policy, attempt, failure);
  const failed: RunEvent = {
    type: 'StepAttemptFailed',
    data: { blockId, attempt, error: failure, terminal: !retry, at, durationMs },
  };
  if (!retry) return [failed];
  const availableAtMs = ports.now.getTime() + nextRetryDelay(policy, attempt, ports.jitter01);
  const availableAt = new Date(availableAtMs).toISOString();
  return [
    failed,
    { type: 'StepRetryScheduled', data: { blockId, nextAttempt: attempt + 1, availableAt } },
  ];
}

/** The longest error code recorded, in UTF-16 units; a longer one is cut. */
export const MAX_ERROR_CODE_LENGTH = 100;
/** The longest error message recorded, in UTF-16 units; a longer one is cut, saying so. */
export const MAX_ERROR_MESSAGE_LENGTH = 8_192;

/**
 * An error as recorded. A connector may quote text Postgres cannot store in its message, or a
 * whole response body: the message is copied into the attempt, the run's error, its log and the
 * audit trail, at every attempt, so it is cut to `MAX_ERROR_MESSAGE_LENGTH`.
 */
function storableError(error: StepError): StepError {
  return { ...error, code: storableText(cut(error.code, MAX_ERROR_CODE_LENGTH, '')), message: storableText(cut(error.message, MAX_ERROR_MESSAGE_LENGTH, '… (cut)')) };
}

/** `text` cut to at most `max` units, `marker` included, never between the two halves of a surrogate pair. */
function cut(text: string, max: number, marker: string): string {
  if (text.length <= max) return text;
  let end = max - marker.length;
  if (/[\ud800-\udbff]/.test(text.charAt(end - 1))) end -= 1;
  return text.slice(0, end) + marker;
}

function outputProblem(state: RunState, blockId: string, output: unknown, limits: RunLimits): StepError | undefined {
  const size = payloadSize(output, limits.maxPayloadBytes);
  if (size === undefined) {
    return {
      code: STEP_ERROR_CODES.invalidOutput,
      message: 'The step output is not JSON',
      retryable: false,
    };
  }
  if (size.bytes > limits.maxPayloadBytes) {
    const message = `The step output is ${sizeText(size)} bytes; the limit is ${limits.maxPayloadBytes}`;
    return { code: STEP_ERROR_CODES.payloadTooLarge, message, retryable: false };
  }
  const held = state.outputBytes - outputBytesOf(state, blockId);
  if (held + size.bytes > limits.maxRunOutputBytes) {
    const message = `The step output is ${size.bytes} bytes, and the run already holds at least ${held} bytes of outputs; together they pass the run's limit of ${limits.maxRunOutputBytes}`;
    return { code: STEP_ERROR_CODES.payloadTooLarge, message, retryable: false };
  }
  const path = firstUnstorablePath(output);
  if (path === undefined) return undefined;
  const message = `The step output cannot be stored: ${path} holds a NUL character or a lone UTF-16 surrogate`;
  return { code: STEP_ERROR_CODES.valueNotStorable, message, retryable: false };
}

