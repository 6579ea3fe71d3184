import { Injectable, type LoggerService } from '@nestjs/common';
import { Logger } from 'nestjs-pino';

/** Nest's start-up chatter: one line per module and route. Useful when debugging, noise otherwise. */
const BOOT_CONTEXTS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory']);

/**
 * Nest's logger for the whole process: nestjs-pino, except that Nest's own start-up lines are
 * logged at debug, so `npm start` shows what matters (where the API and database are, warnings).
 */
@Injectable()
export class AppLogger extends Logger implements LoggerService {
  override log(message: unknown, ...optionalParams: unknown[]): void {
    const context = optionalParams.at(-1);
    if (typeof context === 'string' && BOOT_CONTEXTS.has(context)) return super.debug(message, ...optionalParams);
    return super.log(message, ...optionalParams);
  }
}
