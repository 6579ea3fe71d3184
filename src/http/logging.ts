import { randomUUID } from 'node:crypto';
import type { DestinationStream, LoggerOptions } from 'pino';

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
