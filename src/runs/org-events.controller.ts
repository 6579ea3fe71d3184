import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { z } from 'zod';
import type { EventMetadata } from '../event-store/event';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import { RequireRole } from '../http/require-role.decorator';
import { PublishEventCommand } from './publish-event.command';
import { publishBody, publishResponse } from './runs.schemas';

/** `POST /api/events`: organization-wide events that start `trigger_event` workflows and resume `wait_for_event` blocks. */
@Controller('api/events')
export class OrgEventsController {
  constructor(@Inject(CommandBus) private readonly commands: CommandBus) {}

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
