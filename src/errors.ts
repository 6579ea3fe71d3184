/**
 * An expected failure with a stable, machine-readable `code` (the `error` field of an HTTP
 * error body). Thrown by handlers and domain code; `src/http/error.filter.ts` maps the code to
 * a status. `details` are extra fields of the body (e.g. `current`, `validation_errors`).
 */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class NotFound extends AppError {
  constructor(what = 'resource') {
    super('not_found', `${what} not found`);
  }
}
