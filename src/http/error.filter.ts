import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger, Optional } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DatabaseAvailability } from '../database/database-availability';
import { classifyDatabaseError } from '../database/pg-errors';
import { AppError } from '../errors';
import { ERROR_STATUS } from './error-status';

interface ErrorBody {
  error: string;
  message: string;
  [detail: string]: unknown;
}

/**
 * Every error leaves as `{error, message, ...details}` with the status of its code. Unknown
 * errors become 500 `internal_error` without leaking their message.
 */
@Catch()
export class ErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  constructor(@Optional() private readonly database?: DatabaseAvailability) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    if (isDatabaseUnavailable(exception)) {
      // Every route, auth included, says the same; the outage is logged once, not per request.
      this.database?.report(exception);
      void reply.header('retry-after', DATABASE_RETRY_AFTER_S).status(ERROR_STATUS.database_unavailable ?? 503);
      void reply.send({ error: 'database_unavailable', message: 'the database is unavailable or not answering; retry shortly' });
      return;
    }
    const { status, body, headers } = this.describe(exception);
    if (status >= 500) this.logger.error({ err: exception }, 'request failed');
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
    void reply.status(status).send(body);
  }

  private describe(exception: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
    if (exception instanceof AppError || hasStableCode(exception)) {
      const { code, message, details } = exception as AppError;
      const status = ERROR_STATUS[code] ?? 500;
      const headers: Record<string, string> =
        (status === 429 || status === 503) && typeof details?.retryAfterMs === 'number' ? { 'retry-after': String(Math.ceil(details.retryAfterMs / 1000)) } : {};
      return { status, body: { error: status === 500 ? 'internal_error' : code, message, ...(details ?? {}) }, headers };
    }
    const fastify = fastifyError(exception);
    if (fastify) return { status: fastify.status, body: fastify.body, headers: {} };
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = HTTP_CODES[status] ?? (status === 400 && /json/i.test(exception.message) ? 'invalid_json' : `http_${status}`);
      return { status, body: { error: code, message: exception.message }, headers: {} };
    }
    return { status: 500, body: { error: 'internal_error', message: 'internal error' }, headers: {} };
  }
}

/** Seconds a client is asked to wait while the database is away. */
const DATABASE_RETRY_AFTER_S = '2';

/** A database that is down, unreachable or timing out (never one of our own coded errors). */
function isDatabaseUnavailable(e: unknown): boolean {
  return !(e instanceof AppError) && !(e instanceof HttpException) && classifyDatabaseError(e) === 'unavailable';
}

/** Codes for HttpExceptions raised by Nest or Fastify themselves (not by our handlers). */
const HTTP_CODES: Record<number, string> = {
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'rate_limited',
};

function hasStableCode(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && typeof code === 'string' && code in ERROR_STATUS;
}

/** Errors Fastify raises before a route runs: body too large, bad JSON, wrong content type. */
function fastifyError(e: unknown): { status: number; body: ErrorBody } | undefined {
  const code = (e as { code?: unknown })?.code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { error: 'payload_too_large', message: 'request body is larger than the limit' } };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: { error: 'unsupported_media_type', message: 'send JSON (content-type: application/json)' } };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: { error: 'invalid_json', message: 'the JSON body is empty' } };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, body: { error: 'invalid_json', message: 'the body is not valid JSON' } };
    default:
      if (e instanceof SyntaxError && (e as { statusCode?: number }).statusCode === 400) {
        return { status: 400, body: { error: 'invalid_json', message: `the body is not acceptable JSON: ${e.message}` } };
      }
      return undefined;
  }
}
