import { errorCodes, type FastifyInstance, type FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';

const RAW_BODY = Symbol('thodare.rawBody');
type WithRawBody = FastifyRequest & { [RAW_BODY]?: Buffer };

/**
 * Keeps the exact bytes of request bodies under `prefix` (webhook signatures are computed over
 * them, never over re-serialised JSON), then hands the same bytes to the normal JSON parser.
 * The route's body limit applies while the bytes are kept: a body announced or grown past it is
 * 413 at once, and nothing more of it is kept (`dropUnreadBodies` bounds what is then dropped), so
 * an endless body on a public, tokened URL cannot make the process hold more than the limit. A
 * callback hook: every request with a body passes here, and an async one costs a promise each.
 */
export function keepRawBodies(instance: FastifyInstance, prefix: string): void {
  instance.addHook('preParsing', (request, _reply, payload, done) => {
    if (!request.url.startsWith(prefix)) return done(null, payload);
    const limit = request.routeOptions.bodyLimit;
    const tooLarge = () => done(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE());
    if (Number(request.headers['content-length']) > limit) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      payload.off('data', kept);
      payload.off('end', ended);
      payload.off('error', failed);
    };
    const kept = (chunk: Buffer | string) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size <= limit) return void chunks.push(bytes);
      stop();
      tooLarge();
    };
    const ended = () => {
      stop();
      const raw = Buffer.concat(chunks);
      (request as WithRawBody)[RAW_BODY] = raw;
      const replay = Readable.from([raw]) as Readable & { receivedEncodedLength?: number };
      replay.receivedEncodedLength = raw.length;
      done(null, replay);
    };
    const failed = (error: Error) => {
      stop();
      done(error);
    };
    payload.on('data', kept);
    payload.on('end', ended);
    payload.on('error', failed);
  });
}

/** The bytes `keepRawBodies` kept (empty when the request had no body). */
export function rawBodyOf(request: FastifyRequest): Buffer {
  return (request as WithRawBody)[RAW_BODY] ?? Buffer.alloc(0);
}
