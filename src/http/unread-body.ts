import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/** What is dropped of a body after its answer, at most, before the connection is closed. */
export const UNREAD_BODY_DROP_BYTES = 8 * 2 ** 20;
/** How long after its answer the rest of a body is dropped, at most, before the connection is closed. */
export const UNREAD_BODY_DROP_MS = 5_000;

/**
 * A request answered before its body was read to the end (413 past the body limit, 404 for no
 * route) keeps its connection for a while, and what still arrives of the body is dropped. Closing
 * at once (Fastify asks for it after a body it could not parse) would lose the answer: the close
 * of a socket with unread bytes sends a reset, and a reset throws away what waits unread in the
 * client's buffer — the whole answer, for a client that writes its body before reading. What is
 * dropped is bounded: past `UNREAD_BODY_DROP_BYTES`, or `UNREAD_BODY_DROP_MS` after the answer, the
 * connection is closed; nothing dropped is held. A callback hook: every answer passes here.
 */
export function dropUnreadBodies(instance: FastifyInstance): void {
  instance.addHook('onSend', (request, reply, payload, done) => {
    const socket = request.raw.socket;
    // Only a body still arriving on a connection: not one answered in process (`inject`, as the
    // MCP tools call routes), whose stand-in socket has nothing to drop or close.
    if (!request.raw.complete && !request.raw.destroyed && socket instanceof Socket) {
      reply.removeHeader('connection');
      dropRest(request.raw, socket);
    }
    done(null, payload);
  });
}

function dropRest(body: IncomingMessage, socket: Socket): void {
  let dropped = 0;
  const stop = () => {
    clearTimeout(timer);
    socket.off('close', stop); // a kept-alive connection serves many requests: no listener left behind
  };
  const close = () => {
    stop();
    socket.destroy();
  };
  const timer = setTimeout(close, UNREAD_BODY_DROP_MS);
  timer.unref();
  body.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > UNREAD_BODY_DROP_BYTES) close();
  });
  // Not the message's own 'close': it comes with the end of the answer, and more of the body may follow.
  body.once('end', stop);
  socket.once('close', stop);
  body.resume();
}
