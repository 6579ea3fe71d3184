import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';

const RAW_BODY = Symbol('thodare.rawBody');
type WithRawBody = FastifyRequest & { [RAW_BODY]?: Buffer };

/**
 * Keeps the exact bytes of request bodies under `prefix` (webhook signatures are computed over
 * them, never over re-serialised JSON), then hands the same bytes to the normal JSON parser.
 * Fastify's body limit still applies: the parser sees the buffered payload as its stream.
 */
export function keepRawBodies(instance: FastifyInstance, prefix: string): void {
  // A callback hook: every request with a body passes here, and an async one costs a promise each.
  instance.addHook('preParsing', (request, _reply, payload, done) => {
    if (!request.url.startsWith(prefix)) return done(null, payload);
    const chunks: Buffer[] = [];
    payload.on('data', (chunk: Buffer | string) => chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk));
    payload.once('error', (error) => done(error));
    payload.once('end', () => {
      const raw = Buffer.concat(chunks);
      (request as WithRawBody)[RAW_BODY] = raw;
      const replay = Readable.from([raw]) as Readable & { receivedEncodedLength?: number };
      replay.receivedEncodedLength = raw.length;
      done(null, replay);
    });
  });
}

/** The bytes `keepRawBodies` kept (empty when the request had no body). */
export function rawBodyOf(request: FastifyRequest): Buffer {
  return (request as WithRawBody)[RAW_BODY] ?? Buffer.alloc(0);
}
