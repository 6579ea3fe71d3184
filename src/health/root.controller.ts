import { Controller, Get } from '@nestjs/common';
import { z } from 'zod';
import { packageVersion } from '../database/project-root';
import { ApiRoute, Public } from '../http/api-route.decorator';
import { NoRateLimit } from '../rate-limit/rate-limit.decorators';

const root = z.object({
  name: z.literal('thodare'),
  version: z.string(),
  links: z.object({ docs: z.string(), openapi: z.string(), api: z.string(), health: z.string(), ready: z.string(), metrics: z.string() }),
});

/** `GET /`: where to go from here, for a person or a client that only knows the host. */
@Public()
@NoRateLimit()
@Controller()
export class RootController {
  private readonly version = packageVersion();

  @Get()
  @ApiRoute({ summary: 'Links to the docs, the API and the probes', tags: ['system'], responses: { 200: root } })
  root(): z.infer<typeof root> {
    return {
      name: 'thodare',
      version: this.version,
      links: { docs: '/docs', openapi: '/openapi.json', api: '/api', health: '/health', ready: '/ready', metrics: '/metrics' },
    };
  }
}
