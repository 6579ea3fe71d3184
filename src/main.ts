import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { INestApplicationContext } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { AppModule, keepsReadModels, type Roles } from './app/app.module';
import { buildCatalog } from './connectors/connector-registry';
import type { Config } from './config/config';
import { WorkerAppModule } from './app/worker-app.module';
import { WorkerProbeServer } from './metrics/worker-probe.server';
import { AppLogger } from './http/app-logger';
import { requestId } from './http/logging';
import { keepRawBodies } from './webhooks/raw-body';
import { dropUnreadBodies } from './http/unread-body';
import { refuseDeepBodies } from './http/body-depth';
import { portInUse } from './http/port-in-use';
import type { WorkerHooks } from './tracing/hooks';
import { withWorkerHooks } from './tracing/worker-hooks.module';

export interface RunningThodare {
  /** The API's base URL when this process serves HTTP. */
  url: string | undefined;
  /** A worker-only process's `/health`, `/ready` and `/metrics` (see `THODARE_WORKER_PORT`). */
  probeUrl?: string | undefined;
  app: INestApplicationContext;
  close(): Promise<void>;
}

export interface StartOptions {
  config: Config;
  databaseUrl: string;
  roles: Roles;
  /** The deployment's own connectors, served next to the builtins; validated here (`InvalidConnectors`). */
  connectors?: readonly unknown[];
  /** Where logs go (tests capture them); stdout by default. */
  logStream?: DestinationStream;
  /** The run worker's lifecycle hooks (see `src/tracing/hooks.ts`); tracing is always on. */
  hooks?: WorkerHooks | readonly WorkerHooks[];
}

/**
 * Builds and starts the API and/or the worker in this process. Migrations must already be
 * applied. (The public `startThodare` in `library.ts` also resolves the database and migrates.)
 */
export async function startApplication(options: StartOptions): Promise<RunningThodare> {
  const { config, databaseUrl, roles } = options;
  const catalog = buildCatalog(config, options.connectors);
  if (!roles.api) {
    const parts = { runs: roles.worker, projections: keepsReadModels(roles, config) };
    const app = await NestFactory.createApplicationContext(withWorkerHooks(WorkerAppModule.register(config, databaseUrl, catalog, parts, options.logStream), options.hooks), { bufferLogs: true });
    app.useLogger(app.get(AppLogger));
    await app.init();
    return { url: undefined, probeUrl: app.get(WorkerProbeServer).url, app, close: () => app.close() };
  }
  const adapter = new FastifyAdapter({
    bodyLimit: config.bodyLimit,
    logger: false, // requests are logged by our own hook (see requestLogger)
    genReqId: (req: { headers: Record<string, string | string[] | undefined> }) => requestId(req.headers['x-request-id']),
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // Per-address limits (sign-in, public token routes) key on request.ip: behind a proxy it must be trusted.
    trustProxy: config.trustProxy,
    ...httpTimeouts(config),
  });
  const app = await NestFactory.create<NestFastifyApplication>(withWorkerHooks(AppModule.register(config, databaseUrl, roles, catalog, options.logStream), options.hooks), adapter, { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(AppLogger));
  // JSON only (README): Nest's form parser is off (bodyParser: false) and Fastify's text/plain one
  // goes, so any other content type is 415 unsupported_media_type rather than a half-read body.
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  keepRawBodies(app.getHttpAdapter().getInstance(), '/hooks/');
  dropUnreadBodies(app.getHttpAdapter().getInstance());
  refuseDeepBodies(app.getHttpAdapter().getInstance());
  app.getHttpAdapter().getInstance().addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  await app.listen(config.port, config.host).catch(async (error: unknown) => {
    // What started before the listen (a worker's claims, the pool, listeners) is shut down first.
    await app.close().catch(() => undefined);
    throw portInUse(error, 'the API', 'PORT');
  });
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return { url: `http://${host}:${port}`, app, close: () => app.close() };
}

/**
 * Slow clients (headers a byte at a time, bodies that never end, idle keep-alives) lose their
 * connection. Node's timeouts cover receiving the request only, never the response: an SSE
 * stream stays open. No socket idle timeout (`connectionTimeout`): an SSE stream is silent
 * between heartbeats. Node checks the timeouts every `connectionsCheckingInterval` (30 s by default).
 */
function httpTimeouts(config: Config) {
  const requestTimeout = config.httpRequestTimeoutMs;
  // Node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(config.httpHeadersTimeoutMs, requestTimeout);
  return {
    requestTimeout,
    keepAliveTimeout: config.httpKeepAliveTimeoutMs,
    http: { headersTimeout, requestTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
  };
}
