import { Module } from '@nestjs/common';
import { McpController } from './mcp.controller';

/** `/mcp` in API processes (THODARE_MCP, on by default); its tools call the REST routes in-process. */
@Module({ controllers: [McpController] })
export class McpModule {}
