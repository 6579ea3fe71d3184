import { Controller, Get, Inject, Query, Req } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { publicBaseUrl } from '../http/public-url';
import { approvalUrl } from './approval-url';
import { inboxQuery, inboxResponse } from './approvals-inbox.schemas';
import { ListApprovalsQuery } from './list-approvals.query';

/**
 * `GET /api/approvals`: the organization's approvals inbox. Unlike `…/approvals/:token` (public,
 * the token is the credential) it needs credentials, and lists this organization's only.
 */
@Controller('api/approvals')
export class ApprovalsInboxController {
  constructor(
    @Inject(QueryBus) private readonly queries: QueryBus,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Get()
  @RequireRole('viewer')
  @ApiRoute({
    summary: "The organization's human approvals of one status (pending by default), oldest request first, with the token and link of each pending one",
    tags: ['runs'],
    query: inboxQuery,
    responses: { 200: inboxResponse },
  })
  async list(@CurrentPrincipal() principal: Principal, @Query() query: z.infer<typeof inboxQuery>, @Req() request: FastifyRequest) {
    const page = await this.queries.execute(new ListApprovalsQuery(principal.organizationId, { status: query.status, limit: query.limit, ...(query.after ? { after: query.after } : {}) }));
    const base = publicBaseUrl(this.config, request);
    return { ...page, data: page.data.map((item) => (item.approvalToken ? { ...item, approvalUrl: approvalUrl(base, item.approvalToken) } : item)) };
  }
}
