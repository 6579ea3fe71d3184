import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors';

/**
 * How deep a request body may nest objects and arrays. `JSON.parse` reads any depth, but the
 * code a body then meets (validation, canonical JSON, templates, `JSON.stringify` itself, which
 * overflows the stack near 10,000 levels) recurses: at 5,000 levels every route that takes free
 * JSON (run input, signal and event payloads, block params, webhook deliveries) answered 500.
 * Real payloads nest a dozen levels; a hundred leaves room for any of them.
 */
export const MAX_BODY_DEPTH = 100;

/** Whether `value` nests objects or arrays deeper than `limit` levels (read without recursion). */
export function nestsDeeperThan(value: unknown, limit: number): boolean {
  const nodes: unknown[] = [value];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop();
    const depth = depths.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

/** Refuses, on every route, a parsed body nested deeper than `MAX_BODY_DEPTH`: 400 `invalid_body`. */
export function refuseDeepBodies(instance: FastifyInstance): void {
  instance.addHook('preValidation', (request, _reply, done) => {
    if (!nestsDeeperThan(request.body, MAX_BODY_DEPTH)) return done();
    done(new AppError('invalid_body', `the body nests objects and arrays deeper than ${MAX_BODY_DEPTH} levels`));
  });
}
