import type { StepError } from './step-result';

/**
 * How a block's failed attempts are retried: exponential backoff with jitter, capped, with error
 * codes that are never retried. Durations are milliseconds. Field names match the connectors'
 * `RetryPolicy`, so a connector's `retry` can be handed over as the overrides (`jitter` added).
 */
export interface RetryPolicy {
  /** Total attempts, the first included; 1 means never retry. Default 3. */
  maxAttempts: number;
  /** Delay before the second attempt. Default 1000 ms. */
  initialIntervalMs: number;
  /** Factor applied to the delay for every further attempt. Default 2. */
  backoffCoefficient: number;
  /** Upper bound of any delay, jitter included. Default 60000 ms. */
  maxIntervalMs: number;
  /** Share of the delay randomised either way: 0.2 spreads 1 s over 0.8–1.2 s. Default 0.2. */
  jitter: number;
  /** Error codes that fail at once, whatever attempts are left. Default none. */
  nonRetryableErrors: readonly string[];
}

/** The policy of a block whose connector declares none. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maxIntervalMs: 60_000,
  jitter: 0.2,
  nonRetryableErrors: [],
};

/** The default policy with `overrides` applied; nonsensical numbers fall back to the defaults. */
export function retryPolicyOf(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  const d = DEFAULT_RETRY_POLICY;
  const m = { ...d, ...overrides };
  const pick = (n: number, min: number, fallback: number): number =>
    Number.isFinite(n) && n >= min ? n : fallback;
  return {
    maxAttempts: Math.floor(pick(m.maxAttempts, 1, d.maxAttempts)),
    initialIntervalMs: pick(m.initialIntervalMs, 0, d.initialIntervalMs),
    backoffCoefficient: pick(m.backoffCoefficient, 1, d.backoffCoefficient),
    maxIntervalMs: pick(m.maxIntervalMs, 0, d.maxIntervalMs),
    jitter: Math.min(pick(m.jitter, 0, d.jitter), 1),
    nonRetryableErrors: [...(m.nonRetryableErrors ?? d.nonRetryableErrors)],
  };
}

/**
 * Delay in ms before the attempt after `attempt` (1-based), which has just failed:
 * `initial × coefficient^(attempt−1)`, spread by ±`jitter` using `jitter01` ∈ [0, 1) (0.5 = no
 * spread; the shell draws it, the domain never does), then capped at `maxIntervalMs`.
 */
export function nextRetryDelay(policy: RetryPolicy, attempt: number, jitter01: number): number {
  const exponent = Math.max(0, attempt - 1);
  const exponential = policy.initialIntervalMs * policy.backoffCoefficient ** exponent;
  const base = Math.min(exponential, policy.maxIntervalMs);
  const unit = Number.isFinite(jitter01) ? Math.min(Math.max(jitter01, 0), 1) : 0.5;
  const spread = base * (1 + policy.jitter * (2 * unit - 1));
  return Math.round(Math.min(Math.max(spread, 0), policy.maxIntervalMs));
}

/** Whether attempt `attempt` (1-based), failed with `error`, gets another one under `policy`. */
export function shouldRetry(policy: RetryPolicy, attempt: number, error: StepError): boolean {
  if (!error.retryable || policy.nonRetryableErrors.includes(error.code)) return false;
  return attempt < policy.maxAttempts;
}
