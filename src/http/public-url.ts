import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/config';

/** The base URL clients reach this service at: `THODARE_PUBLIC_URL`, else the request's own origin. */
export function publicBaseUrl(config: Pick<Config, 'publicUrl'>, request: FastifyRequest): string {
  return config.publicUrl ?? `${request.protocol}://${request.headers.host ?? 'localhost'}`;
}
