import { randomUUID } from 'node:crypto';
import { Global, Inject, Injectable, Module, type DynamicModule, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
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

type RequestLogger = (req: IncomingMessage, res: ServerResponse, id: string, next: () => void) => void;

/**
 * One line per HTTP request once it is answered (`request completed`; a 5xx `request errored` at
 * `error`; a client gone first `request aborted`), with the request's id, method and redacted URL,
 * the status and the response time in ms. It binds nothing per request: pino-http's child logger
 * per request serialised and redacted the request on every call, ~0.09 ms of a serial start's
 * ~3 ms, even when the level dropped the line.
 */
export function requestLogger(log: Logger): RequestLogger {
  return (req, res, id, next) => {
    const started = performance.now();
    const answered = () => {
      res.off('finish', answered);
      res.off('close', answered);
      const failed = res.statusCode >= 500;
      const level = failed ? 'error' : 'info';
      if (!log.isLevelEnabled(level)) return;
      const line = {
        req: { id, method: req.method, url: redactUrl(req.url ?? '') },
        res: { statusCode: res.statusCode },
        responseTime: Math.round(performance.now() - started),
      };
      log[level](line, !res.writableFinished ? 'request aborted' : failed ? 'request errored' : 'request completed');
    };
    res.on('finish', answered);
    res.on('close', answered);
    next();
  };
}

/**
 * Logs one line per HTTP request (`requestLogger`), on every route, 404s included: a Fastify hook
 * at the root. As a Nest middleware it went through @fastify/middie, which sanitised, normalised
 * and matched every request's URL before the logger's few lines ran: ~80 µs of the ~0.5 ms a
 * serial start's request costs the server (`docs/benchmark-history.md`, thirty-sixth session).
 * A worker without the HTTP API has no adapter, and nothing to log.
 */
@Injectable()
class RequestLogging implements OnModuleInit {
  constructor(
    @Inject(HttpAdapterHost) private readonly host: HttpAdapterHost,
    @Inject(REQUEST_LOGGER) private readonly requests: RequestLogger,
  ) {}

  onModuleInit(): void {
    const fastify = this.host.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    fastify.addHook('onRequest', (request, reply, done) => this.requests(request.raw, reply.raw, request.id, done));
  }
}

@Global()
@Module({})
class LoggingModule {}

/**
 * The process's pino logging: Nest's own messages and our services' logs (`AppLogger`) and one
 * line per HTTP request (`requestLogger`, with Fastify's request id) all go to `stream` (stdout by
 * default, a capture buffer in tests).
 */
export function loggerModule(level: string, stream?: DestinationStream): DynamicModule {
  const { stream: destination, ...options } = loggerOptions(level, stream);
  const root = destination ? pino(options, destination) : pino(options);
  return {
    module: LoggingModule,
    providers: [
      { provide: AppLogger, useValue: new AppLogger(root) },
      { provide: REQUEST_LOGGER, useValue: requestLogger(root) },
      RequestLogging,
    ],
    exports: [AppLogger],
  };
}
