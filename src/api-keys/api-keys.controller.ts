import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { z } from 'zod';
import type { EventMetadata } from '../event-store/event';
import { ApiRoute } from '../http/api-route.decorator';
import { pageQuery } from '../http/keyset';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { orgActor } from '../organizations/org-actor';
import { CreateApiKeyCommand, type CreatedApiKey } from './create-api-key.command';
import { ListApiKeysQuery, type ApiKeyPage } from './list-api-keys.query';

const listPage = pageQuery();
import { RevokeApiKeyCommand } from './revoke-api-key.command';

const role = z.enum(['owner', 'admin', 'member', 'viewer']);
const createBody = z.object({
  name: z.string().trim().min(1).max(100),
  role: role.default('member').describe('the role the key acts with; at most your own (default member)'),
  expiresAt: z.iso.datetime({ offset: true }).nullable().optional().describe('ISO time after which the key is refused; none by default'),
});
const keyView = z.object({ id: z.string(), name: z.string(), prefix: z.string(), role, createdAt: z.string(), expiresAt: z.string().nullable() });
const created = keyView.extend({ key: z.string().describe('the key itself, shown only in this response') });
const listed = keyView.extend({ revokedAt: z.string().nullable(), lastUsedAt: z.string().nullable(), createdBy: z.object({ type: z.string(), id: z.string() }) });
const tags = ['api-keys'];

/** API keys of the caller's organization (admin+): create (the raw key is shown once), list, revoke. */
@Controller('api/api-keys')
@RequireRole('admin')
export class ApiKeysController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @ApiRoute({ summary: 'Create an API key (thd_…); the key is in this response only', tags, body: createBody, responses: { 201: created } })
  create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: z.infer<typeof createBody>,
    @RequestMeta() metadata: EventMetadata,
  ): Promise<CreatedApiKey> {
    const input = { name: body.name, role: body.role, expiresAt: body.expiresAt ? new Date(body.expiresAt) : null };
    return this.commands.execute(new CreateApiKeyCommand(principal.organizationId, orgActor(principal), input, metadata));
  }

  @Get()
  @ApiRoute({
    summary: 'List the API keys (prefixes and last use, never the keys), newest first; keyset pages',
    tags,
    query: listPage,
    responses: { 200: z.object({ data: z.array(listed), next: z.string().nullable() }) },
  })
  list(@CurrentPrincipal() principal: Principal, @Query() query: z.infer<typeof listPage>): Promise<ApiKeyPage> {
    return this.queries.execute(new ListApiKeysQuery(principal.organizationId, query.after, query.limit));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiRoute({ summary: 'Revoke an API key: it is refused from its next request on', tags, responses: { 204: 'revoked' } })
  async revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @RequestMeta() metadata: EventMetadata): Promise<void> {
    await this.commands.execute(new RevokeApiKeyCommand(principal.organizationId, orgActor(principal), id, metadata));
  }
}
