import { Inject, Injectable, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { join } from 'node:path';
import { projectRoot } from '../database/project-root';
import { answerConsole } from './console-answer';
import { loadConsoleAssets } from './console-assets';

/** Where `vite build` puts the console (`console/vite.config.ts`); `files` in package.json ships it. */
export const consoleBuildDir = () => join(projectRoot(), 'dist', 'console');

/**
 * Serves the web console's static files under `/console/` with a fallback to its `index.html`
 * for client-side routes. These are registered on Fastify directly, not as Nest controllers:
 * they are not API routes, so they stay out of the route catalog (`/openapi.json`, the route
 * matrix) and out of the API guards — public, never rate limited, like `/docs`. The console's
 * own data comes from the API with the session cookie, and is guarded there.
 */
@Injectable()
export class ConsoleRoutes implements OnModuleInit {
  private readonly log = new Logger('console');

  constructor(@Inject(HttpAdapterHost) private readonly host: HttpAdapterHost) {}

  onModuleInit(): void {
    const fastify = this.host.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    const dir = consoleBuildDir();
    const files = loadConsoleAssets(dir);
    if (!files) this.log.warn(`the web console is not built (${dir} has no index.html): /console answers 404 until \`npm run build\``);
    fastify.get('/console', (request: FastifyRequest, reply: FastifyReply) => {
      const query = request.url.indexOf('?');
      void reply.redirect(`/console/${query >= 0 ? request.url.slice(query) : ''}`, 301);
    });
    fastify.get('/console/*', (request: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) => {
      const answer = answerConsole(files, request.params['*']);
      void reply.status(answer.status).headers(answer.headers).send(answer.body);
    });
  }
}

@Module({ providers: [ConsoleRoutes] })
export class ConsoleModule {}
