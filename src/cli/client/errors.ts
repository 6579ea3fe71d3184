/** Exit codes of the client commands (README, "Client CLI"). */
export const EXIT = { ok: 0, runUnsuccessful: 1, usage: 2, api: 3, notFound: 4 } as const;

/** Bad flags, arguments or local files: exit 2. */
export class UsageError extends Error {}

/** The server answered an error, or could not be reached: exit 3, or 4 for `not_found`. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A run the command waited for failed, was cancelled, or did not end in time: exit 1. */
export class RunUnsuccessful extends Error {}
