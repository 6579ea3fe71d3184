import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Pool } from 'pg';
import { z } from 'zod';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { migrationsApplied } from '../database/migrate';
import { packageVersion } from '../database/project-root';
import { ApiRoute, Public } from '../http/api-route.decorator';
import { NoRateLimit } from '../rate-limit/rate-limit.decorators';

/** How long `/ready` waits for the database before answering 503. */
const READY_TIMEOUT_MS = 1_500;

const health = z.object({ status: z.literal('ok'), version: z.string() });
const readiness = z.object({ status: z.enum(['ready', 'not_ready']), database: z.boolean(), migrations: z.boolean() });

/** Liveness and readiness probes; never rate-limited, never authenticated. */
@Public()
@NoRateLimit()
@Controller()
export class HealthController {
  private readonly version = packageVersion();

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Get('health')
  @ApiRoute({ summary: 'Liveness: the process answers', tags: ['system'], responses: { 200: health } })
  health(): z.infer<typeof health> {
    return { status: 'ok', version: this.version };
  }

  @Get('ready')
  @ApiRoute({ summary: 'Readiness: the database answers and every migration is applied', tags: ['system'], responses: { 200: readiness, 503: readiness } })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<z.infer<typeof readiness>> {
    // Bounded: a partitioned database must turn the probe 503 quickly, not hang it.
    const check = async () => {
      await this.pool.query('SELECT 1');
      return migrationsApplied((sql, params) => this.pool.query(sql, params), this.config.schema);
    };
    const answer = await within(READY_TIMEOUT_MS, check()).then((migrations) => ({ database: true, migrations }), () => ({ database: false, migrations: false }));
    const { database, migrations } = answer;
    const ok = database && migrations;
    void reply.status(ok ? 200 : 503);
    return { status: ok ? 'ready' : 'not_ready', database, migrations };
  }
}

/** `work`'s result, or a rejection once `ms` have passed (`work` is left to settle unheard). */
function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
