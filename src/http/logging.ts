import { randomUUID } from 'node:crypto';
import { Global, Inject, Module, RequestMethod, type DynamicModule, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type DestinationStream, type LoggerOptions } from 'pino';
import { pinoHttp, type HttpLogger } from 'pino-http';
import { AppLogger } from './app-logger';

/** Path segments that are credentials in our public URLs (approval, hook, invitation tokens). */
const TOKEN_IN_PATH = /(\/(?:approvals|hooks|invitations)\/)[^/?#]+/g;

export function redactUrl(url: string): string {
  return url.replace(TOKEN_IN_PATH, '$1[redacted]').replace(/([?&](?:token|key|api_key)=)[^&#]*/gi, '$1[redacted]');
}

/**
 * pino options for the whole process: secrets in headers, bodies and token-bearing URLs are
 * never written, whatever the log level.
 */
export function loggerOptions(level: string, stream?: DestinationStream): LoggerOptions & { stream?: DestinationStream } {
  return {
    level,
    ...(stream ? { stream } : {}),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-api-key"]',
        'res.headers["set-cookie"]',
        '*.password',
        '*.token',
        '*.key',
        '*.secret',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (req: { id?: unknown; method?: string; url?: string }) => ({ id: req.id, method: req.method, url: redactUrl(req.url ?? '') }),
    },
  };
}

const VALID_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Honour a sane client `x-request-id`; otherwise mint one. */
export function requestId(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && VALID_REQUEST_ID.test(value) ? value : randomUUID();
}

const REQUEST_LOGGER = Symbol('REQUEST_LOGGER');

/** Logs one line per HTTP request (pino-http), on every route. */
@Global()
@Module({})
class LoggingModule implements NestModule {
  constructor(@Inject(REQUEST_LOGGER) private readonly requests: HttpLogger) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(this.requests).forRoutes({ path: '*', method: RequestMethod.ALL });
  }
}

/**
 * The process's pino logging: Nest's own messages and our services' logs (`AppLogger`) and one
 * line per HTTP request (pino-http, with Fastify's request id) all go to `stream` (stdout by
 * default, a capture buffer in tests).
 */
export function loggerModule(level: string, stream?: DestinationStream): DynamicModule {
  const { stream: destination, ...options } = loggerOptions(level, stream);
  const root = destination ? pino(options, destination) : pino(options);
  const requests = pinoHttp(
    {
      ...options,
      genReqId: (req: IncomingMessage) => (req as IncomingMessage & { id?: string }).id ?? requestId(req.headers['x-request-id']),
      customErrorObject: withoutInventedError,
    },
    destination,
  );
  return {
    module: LoggingModule,
    providers: [
      { provide: AppLogger, useValue: new AppLogger(root) },
      { provide: REQUEST_LOGGER, useValue: requests },
    ],
    exports: [AppLogger],
  };
}

/**
 * A 5xx answered on purpose (503 `database_unavailable`, logged once per outage by the filter)
 * has no error of its own; pino-http would invent one, with a stack trace, on every request.
 */
function withoutInventedError(_req: IncomingMessage, res: ServerResponse, error: Error, value: Record<string, unknown>): Record<string, unknown> {
  if (error.message !== `failed with status code ${res.statusCode}`) return value;
  const { err: _invented, ...rest } = value;
  return rest;
}
