import type { LoggerService } from '@nestjs/common';
import type { Level, Logger as Pino } from 'pino';

/** Nest's start-up chatter: one line per module and route. Useful when debugging, noise otherwise. */
const BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/**
 * Nest's logger for the whole process, over the process's one pino logger. A call as Nest's
 * `Logger` makes it — `log(message | fields | error, ...params, context)` — is one pino line:
 * the context (the last parameter) in `context`, an object's fields merged in, an error under
 * `err`. Nest's own start-up lines go out at debug, so `npm start` shows what matters.
 *
 * No per-request logger rides an async context (nestjs-pino's `AsyncLocalStorage` did): an
 * enabled `AsyncLocalStorage` hooks every promise of the process, the worker's included (10-15 %
 * of an HTTP burst's throughput here). A line that must name its request carries `requestId`.
 */
export class AppLogger implements LoggerService {
  constructor(private readonly pino: Pino) {}

  log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams.at(-1);
    this.write(typeof context === 'string' && BOOT_CONTEXTS.has(context) ? 'debug' : 'info', message, optionalParams);
  }
  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams);
  }
  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }
  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }
  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('trace', message, optionalParams);
  }
  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams);
  }

  private write(level: Level, message: unknown, optionalParams: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = {};
    const params = optionalParams.slice(0, -1);
    if (optionalParams.length > 0) fields.context = optionalParams.at(-1);
    if (message instanceof Error) {
      fields.err = message;
      this.pino[level](fields, ...(params as [string?]));
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level](Object.assign(fields, message), ...(params as [string?]));
    } else if (level === 'error' && typeof message === 'string' && params.length === 1 && typeof params[0] === 'string' && /\n\s*at /.test(params[0])) {
      // Nest's exception handlers call error(message, stack): one error with that stack.
      const err = new Error(message);
      err.stack = params[0];
      this.pino.error({ ...fields, err });
    } else {
      this.pino[level](fields, String(message), ...(params as []));
    }
  }
}
