import { Controller, Get, Logger, Post, Query, Req, Res } from '@nestjs/common';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ApiRoute } from '../http/api-route.decorator';
import type { AuthenticatedRequest } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { agentOf, initializeOf, sessionIdFor } from './agent-label';
import { buildMcpServer } from './mcp-server';
import { invalidParamsAnswer } from './request-params';
import { restCaller } from './rest-call';

const mcpQuery = z.object({ readonly: z.enum(['1', 'true', '0', 'false']).optional().describe('1: refuse the write tools on this connection') });

const DESCRIPTION = [
  'Model Context Protocol, Streamable HTTP transport, stateless (JSON answers, no server-initiated stream): JSON-RPC requests such as initialize, tools/list and tools/call.',
  'The tools call this API with the same credentials, so tenancy, roles and error codes are those of REST. A viewer, or `?readonly=1`, gets write tools refused (isError, forbidden).',
  'Writes record the caller as actor and the MCP client\'s `name/version` as agent label. Disabled by THODARE_MCP=off (404).',
].join(' ');

/** `/mcp`: the MCP endpoint. The global guards have authenticated (401) and rate-limited the request. */
@Controller('mcp')
export class McpController {
  private readonly log = new Logger('mcp');

  @Post()
  @RequireRole('viewer')
  @ApiRoute({ summary: 'MCP endpoint (Streamable HTTP, stateless)', description: DESCRIPTION, tags: ['mcp'], query: mcpQuery, responses: { 200: 'a JSON-RPC response (202 for notifications)' } })
  async post(@Req() request: AuthenticatedRequest, @Res() reply: FastifyReply, @Query() query: z.infer<typeof mcpQuery>): Promise<void> {
    const invalid = invalidParamsAnswer(request.body);
    if (invalid) return void reply.status(200).send(invalid);
    const readOnly = query.readonly === '1' || query.readonly === 'true' || request.principal?.role === 'viewer';
    const agent = agentOf(request.headers, request.body);
    const server = buildMcpServer(restCaller(request.server, request, agent, readOnly));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    reply.hijack();
    // Headers set so far (x-request-id, rate-limit budget) would be lost with the hijack.
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
    reply.raw.setHeader('x-request-id', String(request.id));
    if (initializeOf(request.body)) reply.raw.setHeader('mcp-session-id', sessionIdFor(agent));
    reply.raw.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (error) {
      this.log.error({ err: error }, 'MCP request failed');
      if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32603, message: 'internal error' }, id: null }));
    }
  }

  @Get()
  @RequireRole('viewer')
  @ApiRoute({ summary: 'MCP: no server-initiated stream on this stateless endpoint (405)', tags: ['mcp'], responses: { 405: 'method not allowed' } })
  get(@Res() reply: FastifyReply): void {
    void reply
      .status(405)
      .header('allow', 'POST')
      .send({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this MCP endpoint is stateless; send POST' }, id: null });
  }
}
