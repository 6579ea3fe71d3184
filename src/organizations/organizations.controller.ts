import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { z } from 'zod';
import { WithoutOrganization } from '../auth/without-organization.decorator';
import { AppError } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { CreateOrganizationCommand } from './create-organization.command';
import { ListOrganizationsQuery, type OrganizationPage } from './list-organizations.query';
import * as s from './organizations.schemas';

const tags = ['organizations'];

@Controller('api/organizations')
@WithoutOrganization()
export class OrganizationsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly queries: QueryBus,
  ) {}

  @Post()
  @RequireRole('viewer')
  @ApiRoute({ summary: 'Create an organization; you become its owner (sessions only)', tags, body: s.createOrganizationBody, responses: { 201: s.organizationView } })
  async create(
    @CurrentPrincipal() principal: Principal,
    @Body() body: z.infer<typeof s.createOrganizationBody>,
    @RequestMeta() metadata: EventMetadata,
  ): Promise<z.infer<typeof s.organizationView>> {
    if (!principal.userId) throw new AppError('forbidden', 'organizations are created by people (a session), not by API keys');
    const created = await this.commands.execute(new CreateOrganizationCommand(principal.userId, body.name, body.slug, metadata));
    return { ...created, role: 'owner' };
  }

  @Get()
  @ApiRoute({
    summary: 'The organizations you belong to, with your role, in the order you joined; keyset pages (an API key sees its own)',
    tags,
    query: s.listPage,
    responses: { 200: s.organizationList },
  })
  list(@CurrentPrincipal() principal: Principal, @Query() query: z.infer<typeof s.listPage>): Promise<OrganizationPage> {
    return this.queries.execute(new ListOrganizationsQuery(principal, query.after, query.limit));
  }
}
