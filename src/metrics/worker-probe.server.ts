import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Pool } from 'pg';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { portInUse } from '../http/port-in-use';
import { migrationsApplied } from '../database/migrate';
import { packageVersion } from '../database/project-root';
import { metricsAuthorized } from './metrics-token';
import { ThodareMetrics } from './thodare-metrics';

/**
 * A worker-only process has no API: this small server answers `/health`, `/ready` and
 * `/metrics` on `THODARE_WORKER_PORT` (0 = any free port), for orchestrator probes and scrapes.
 */
@Injectable()
export class WorkerProbeServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly log = new Logger('worker-probes');
  private readonly version = packageVersion();
  private server: Server | undefined;
  /** Where it listens, once started. */
  url: string | undefined;

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CONFIG) private readonly config: Config,
    @Inject(ThodareMetrics) private readonly metrics: ThodareMetrics,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error) => reject(portInUse(error, 'the probe server (/health, /ready, /metrics)', 'THODARE_WORKER_PORT')));
      server.listen(this.config.workerPort, this.config.host, () => resolve());
    });
    this.server = server;
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : this.config.workerPort;
    const host = this.config.host === '0.0.0.0' || this.config.host === '::' ? '127.0.0.1' : this.config.host;
    this.url = `http://${host}:${port}`;
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    try {
      const path = (request.url ?? '/').split('?')[0];
      if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, { error: 'method_not_allowed', message: 'Only GET' });
      if (path === '/health') return send(response, 200, { status: 'ok', version: this.version });
      if (path === '/ready') return send(response, ...(await this.ready()));
      if (path === '/metrics') {
        if (!metricsAuthorized(this.config.metricsToken, request.headers.authorization)) {
          response.setHeader('www-authenticate', 'Bearer');
          return send(response, 401, { error: 'unauthorized', message: 'A valid metrics token is required' });
        }
        const { contentType, text } = await this.metrics.scrape();
        response.writeHead(200, { 'content-type': contentType }).end(text);
        return;
      }
      send(response, 404, { error: 'not_found', message: 'Not found' });
    } catch (error) {
      this.log.warn({ err: error }, 'probe request failed');
      if (!response.headersSent) send(response, 500, { error: 'internal', message: 'Internal error' });
      else response.destroy();
    }
  }

  private async ready(): Promise<[number, object]> {
    const database = await this.pool.query('SELECT 1').then(() => true, () => false);
    const migrations = database && (await migrationsApplied((sql, params) => this.pool.query(sql, params), this.config.schema).catch(() => false));
    const ok = database && migrations;
    return [ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', database, migrations }];
  }
}

function send(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
}
