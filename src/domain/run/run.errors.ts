import { sizeText, type PayloadSize } from '../json-size';
/** Codes of `RunFailed.error` the runtime assigns itself (a block's own failure keeps its code). */
export const RUN_FAILURE_CODES = {
  /** The run reached `maxEventsPerRun`. */
  tooLong: 'run_too_long',
  /** Blocks remain that can never become ready (a cycle slipped past validation). */
  stuck: 'run_stuck',
  /** A block's type is unknown to the lookup. */
  typeNotRegistered: 'block_type_not_registered',
  /** A block the lookup calls a wait is none of the built-in waits. */
  unsupportedWait: 'unsupported_wait_type',
  /** The store refused what the run had to record next, for its content (it would on every try). */
  unrecordable: 'append_rejected',
  /** The run reached its workflow's `timeoutMs` before it ended. */
  timedOut: 'run_timed_out',
} as const;

/**
 * Errors the run domain throws at the API's commands. Each has a stable `code` the exception
 * filter maps to an HTTP status and `{error, message}` body.
 */
export class RunRuleError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Thrown when a command needs a live run but it has ended (409 `run_finished`). */
export class RunFinished extends RunRuleError {
  constructor(status: string) {
    super('run_finished', `The run has already ended (${status})`);
  }
}

/** Thrown when an input or signal payload exceeds its byte limit (413 `payload_too_large`). */
export class PayloadTooLarge extends RunRuleError {
  constructor(what: string, size: PayloadSize, limit: number) {
    super('payload_too_large', `The ${what} is ${sizeText(size)} bytes; the limit is ${limit}`);
  }
}

/** Thrown when a payload cannot be stored as JSON (400 `invalid_payload`). */
export class PayloadNotJson extends RunRuleError {
  constructor(what: string) {
    super('invalid_payload', `The ${what} cannot be stored as JSON`);
  }
}

/** Thrown when a run has used up its event budget (409 `run_too_long`). */
export class RunTooLong extends RunRuleError {
  constructor(limit: number) {
    super('run_too_long', `The run has reached its limit of ${limit} events`);
  }
}

/** Thrown when no open approval has this token in the run (404 `not_found`). */
export class ApprovalNotFound extends RunRuleError {
  constructor() {
    super('not_found', 'No approval with this token');
  }
}

/** Thrown on a second decision, or one after the approval timed out (409 `approval_decided`). */
export class ApprovalAlreadyDecided extends RunRuleError {
  constructor(timedOut: boolean) {
    super(
      'approval_decided',
      timedOut ? 'The approval timed out before a decision' : 'The approval was already decided',
    );
  }
}
