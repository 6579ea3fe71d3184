import type { ServerResponse } from 'node:http';

/**
 * Resolves once `raw` can take more (drained), or never will (closed): what a streamed answer
 * awaits when `write` returns false, so a client that reads slowly holds a bounded amount of the
 * process's memory.
 */
export function drained(raw: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      raw.off('drain', done);
      raw.off('close', done);
      resolve();
    };
    raw.on('drain', done);
    raw.on('close', done);
  });
}
