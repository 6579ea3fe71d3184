/**
 * A failed step attempt, as recorded. `code` is stable snake_case (a connector's own code, or one
 * of {@link STEP_ERROR_CODES}); `retryable: false` fails the block at once.
 */
export interface StepError {
  code: string;
  message: string;
  retryable: boolean;
}

/** What one executed attempt came back with; the shell builds it around the connector call. */
export type StepOutcome = { ok: true; output: unknown } | { ok: false; error: StepError };

/** The result of one attempt, reported by the worker to `onStepResult`. */
export interface StepReport {
  blockId: string;
  attempt: number;
  outcome: StepOutcome;
}

/** Error codes the runtime itself assigns to step failures. */
export const STEP_ERROR_CODES = {
  /** The connector threw something without a code of its own. */
  failed: 'step_failed',
  /** The attempt ran past its `timeoutMs` and was aborted (retryable). */
  timeout: 'step_timeout',
  /** The output is larger than `maxPayloadBytes` (never retried). */
  payloadTooLarge: 'payload_too_large',
  /** The output cannot be stored as JSON (BigInt, cycles; never retried). */
  invalidOutput: 'invalid_output',
  /** A wait block's resolved params do not fit its shape (never retried). */
  invalidWaitParams: 'invalid_wait_params',
  /** The output holds text Postgres cannot store (NUL, a lone surrogate; never retried). */
  valueNotStorable: 'value_not_storable',
} as const;

/**
 * Turns whatever a connector threw — an `Error`, a string, `null`, `undefined`, an object with a
 * `code` — into a {@link StepError}, never throwing itself: a thrown object's fields are read
 * guarded, since a getter or a `Proxy` may throw too (and one that does must fail the step, not
 * leave its run waiting for a result that never comes). Unknown failures are retryable.
 */
export function normalizeStepError(thrown: unknown): StepError {
  if (thrown === null || thrown === undefined) {
    return {
      code: STEP_ERROR_CODES.failed,
      message: `The step threw ${String(thrown)}`,
      retryable: true,
    };
  }
  if (typeof thrown !== 'object') {
    return { code: STEP_ERROR_CODES.failed, message: safeString(thrown), retryable: true };
  }
  const name = field(thrown, 'name', 'string') ?? '';
  const fallbackCode = name === 'TimeoutError' ? STEP_ERROR_CODES.timeout : STEP_ERROR_CODES.failed;
  const code = field(thrown, 'code', 'string') || fallbackCode;
  const message = field(thrown, 'message', 'string') ?? safeString(thrown);
  const retryable = field(thrown, 'retryable', 'boolean') ?? true;
  return { code, message, retryable };
}

/** The thrown object's own or inherited `key` when it is of `type`; undefined when it is not, or reading it throws. */
function field<T extends 'string' | 'boolean'>(thrown: object, key: string, type: T): (T extends 'string' ? string : boolean) | undefined {
  try {
    const value: unknown = (thrown as Record<string, unknown>)[key];
    return typeof value === type ? (value as T extends 'string' ? string : boolean) : undefined;
  } catch {
    return undefined;
  }
}

/** The output a block gets when its terminal failure takes its `error` edge: the error itself. */
export function errorOutput(error: StepError): StepError {
  return { code: error.code, message: error.message, retryable: error.retryable };
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'The step failed with an unprintable value';
  }
}
