/**
 * A connector failure with a stable `code`. The runtime matches `code` against the connector's
 * `retry.nonRetryableErrors`, and `retryable: false` fails the step at once whatever the policy.
 */
export class ConnectorError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown>;

  constructor(
    code: string,
    message: string,
    options: { retryable?: boolean; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConnectorError';
    this.code = code;
    this.retryable = options.retryable ?? true;
    if (options.details) this.details = options.details;
  }
}
