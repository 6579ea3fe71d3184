import { Controller, Get, Header, Inject } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { packageVersion } from '../database/project-root';
import { ApiRoute, Public } from './api-route.decorator';
import { buildOpenApi } from './openapi';
import { listRoutes } from './route-catalog';
import { NoRateLimit } from '../rate-limit/rate-limit.decorators';

const swaggerDir = dirname(require.resolve('swagger-ui-dist/package.json'));
const asset = (name: string) => readFileSync(join(swaggerDir, name), 'utf8');

/** `/openapi.json` (generated at first request from every registered route) and `/docs`. */
@Public()
@NoRateLimit()
@Controller()
export class DocsController {
  private document: Record<string, unknown> | undefined;

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(Reflector) private readonly reflector: Reflector,
  ) {}

  @Get('openapi.json')
  @ApiRoute({ summary: 'The HTTP contract as OpenAPI 3.1, generated from the zod schemas', tags: ['system'] })
  openapi(): Record<string, unknown> {
    this.document ??= buildOpenApi(listRoutes(this.discovery, this.scanner, this.reflector), packageVersion());
    return this.document;
  }

  @Get('docs')
  @Header('content-type', 'text/html; charset=utf-8')
  @ApiRoute({ summary: 'Browsable API documentation (Swagger UI, served locally)', tags: ['system'] })
  docs(): string {
    return `<!doctype html><html><head><meta charset="utf-8"><title>Thodare API</title>
<link rel="stylesheet" href="/docs/swagger-ui.css"></head><body><div id="ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script></body></html>`;
  }

  @Get('docs/init.js')
  @Header('content-type', 'application/javascript; charset=utf-8')
  @ApiRoute({ summary: 'Swagger UI start-up script', tags: ['system'] })
  init(): string {
    return `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#ui' });`;
  }

  @Get('docs/swagger-ui.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'public, max-age=86400')
  @ApiRoute({ summary: 'Swagger UI stylesheet', tags: ['system'] })
  css(): string {
    return asset('swagger-ui.css');
  }

  @Get('docs/swagger-ui-bundle.js')
  @Header('content-type', 'application/javascript; charset=utf-8')
  @Header('cache-control', 'public, max-age=86400')
  @ApiRoute({ summary: 'Swagger UI script', tags: ['system'] })
  bundle(): string {
    return asset('swagger-ui-bundle.js');
  }
}
