import type { FastifyInstance } from 'fastify';
import { AppError } from '../errors';
import { MAX_BODY_DEPTH, nestsDeeperThan } from '../domain/json-depth';

/** Refuses, on every route, a parsed body nested deeper than `MAX_BODY_DEPTH`: 400 `invalid_body`. */
export function refuseDeepBodies(instance: FastifyInstance): void {
  instance.addHook('preValidation', (request, _reply, done) => {
    if (!nestsDeeperThan(request.body, MAX_BODY_DEPTH)) return done();
    done(new AppError('invalid_body', `the body nests objects and arrays deeper than ${MAX_BODY_DEPTH} levels`));
  });
}
