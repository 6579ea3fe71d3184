import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import type { z } from 'zod';
import type { EventMetadata } from '../event-store/event';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { PublishEventCommand } from './publish-event.command';
import { GetOrgEventQuery, ListOrgEventsQuery } from './list-org-events.query';
import { listOrgEventsQuery, orgEventListResponse, orgEventResponse, publishBody, publishResponse } from './runs.schemas';

/** `POST /api/events`: organization-wide events that start `trigger_event` workflows and resume `wait_for_event` blocks. */
@Controller('api/events')
export class OrgEventsController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(QueryBus) private readonly queries: QueryBus,
  ) {}

  @Get()
  @ApiRoute({
    summary: "The organization's published events within their 24 h retention, newest first (?name= one name): what each started and reached",
    tags: ['runs'],
    query: listOrgEventsQuery,
    responses: { 200: orgEventListResponse },
  })
  list(@CurrentPrincipal() principal: Principal, @Query() query: z.infer<typeof listOrgEventsQuery>) {
    return this.queries.execute(new ListOrgEventsQuery(principal.organizationId, { limit: query.limit, ...(query.name ? { name: query.name } : {}), ...(query.after ? { after: query.after } : {}) }));
  }

  @Get(':id')
  @ApiRoute({ summary: 'One published event: its payload, delivery, and the runs it started (startedRuns) and reached (matchedRuns); 404 once it expired', tags: ['runs'], responses: { 200: orgEventResponse } })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.queries.execute(new GetOrgEventQuery(principal.organizationId, id));
  }

  @Post()
  @HttpCode(202)
  @RequireRole('member')
  @ApiRoute({
    summary: "Publish an event: it starts the workflows whose trigger_event block names it, and reaches this organization's runs waiting (now, or later within 24 h) on its name and correlation key",
    tags: ['runs'],
    body: publishBody,
    responses: { 202: publishResponse },
  })
  publish(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Body() body: z.infer<typeof publishBody>) {
    const { name, correlationKey, payload, idempotencyKey } = body;
    return this.commands.execute(
      new PublishEventCommand(
        principal.organizationId,
        { name, ...(correlationKey !== undefined ? { correlationKey } : {}), ...(payload !== undefined ? { payload } : {}), ...(idempotencyKey ? { idempotencyKey } : {}) },
        meta,
      ),
    );
  }
}
