import { Controller, Get, Headers, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { ApiRoute, Public } from '../http/api-route.decorator';
import { NoRateLimit } from '../rate-limit/rate-limit.decorators';
import { metricsAuthorized } from './metrics-token';
import { ThodareMetrics } from './thodare-metrics';

/** Prometheus scrape endpoint; behind `THODARE_METRICS_TOKEN` (Bearer) when it is set. */
@Public()
@NoRateLimit()
@Controller()
export class MetricsController {
  constructor(
    @Inject(ThodareMetrics) private readonly metrics: ThodareMetrics,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Get('metrics')
  @ApiRoute({
    summary: 'Prometheus metrics (text exposition); wants `Authorization: Bearer <THODARE_METRICS_TOKEN>` when that is set',
    tags: ['system'],
    responses: { 200: 'Prometheus text format', 401: 'The metrics token is missing or wrong' },
  })
  async scrape(@Headers('authorization') authorization: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    if (!metricsAuthorized(this.config.metricsToken, authorization)) {
      await reply.status(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: 'A valid metrics token is required' });
      return;
    }
    const { contentType, text } = await this.metrics.scrape();
    await reply.status(200).header('content-type', contentType).send(text);
  }
}
