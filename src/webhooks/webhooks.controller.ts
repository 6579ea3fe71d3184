import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyRequest } from 'fastify';
import { Pool } from 'pg';
import type { z } from 'zod';
import type { Config } from '../config/config';
import { CONFIG } from '../database/database.module';
import { AppError, NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { ApiRoute } from '../http/api-route.decorator';
import { CurrentPrincipal, RequestMeta, type Principal } from '../http/principal';
import { publicBaseUrl } from '../http/public-url';
import { RequireRole } from '../http/require-role.decorator';
import { SecretKeyProvider } from '../secrets/secret-key';
import { getCurrentWorkflow } from '../workflows/workflow-read-model';
import { ReplayDeliveryCommand } from './replay-delivery.command';
import { CreateWebhookCommand, RevokeWebhookCommand, RotateWebhookSecretCommand } from './webhook-commands';
import { listDeliveries, webhookOf, webhooksOfWorkflow } from './webhook-rows';
import { webhookView } from './webhook-view';
import { createWebhookBody, deliveriesQuery, deliveriesResponse, deliveryAnswer, rotateResponse, webhookListResponse, webhookResponse } from './webhooks.schemas';

/** Managing inbound webhooks of the caller's organization (another organization's ids are 404). */
@Controller('api')
export class WebhooksController {
  constructor(
    @Inject(CommandBus) private readonly commands: CommandBus,
    @Inject(Pool) private readonly pool: Pool,
    @Inject(SecretKeyProvider) private readonly keys: SecretKeyProvider,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  @Post('workflows/:id/webhooks')
  @HttpCode(201)
  @RequireRole('member')
  @ApiRoute({
    summary: 'Create an inbound webhook for the workflow (source "api"); its signing secret is shown only here',
    tags: ['webhooks'],
    body: createWebhookBody,
    responses: { 201: webhookResponse },
  })
  async create(
    @CurrentPrincipal() principal: Principal,
    @RequestMeta() meta: EventMetadata,
    @Param('id') workflowId: string,
    @Body() body: z.infer<typeof createWebhookBody> | undefined,
    @Req() request: FastifyRequest,
  ) {
    if (body?.signed === true && body.signing !== undefined && body.signing !== 'standard') {
      throw new AppError('invalid_body', '`signed: true` means signing "standard"; send one of them', { issues: [{ path: 'signed', message: 'conflicts with signing' }] });
    }
    const signing = body?.signing ?? (body?.signed ? 'standard' : 'none');
    const { key } = await this.keys.key();
    const issued = await this.commands.execute(
      new CreateWebhookCommand(principal.organizationId, workflowId, { signing, idempotencyKeyPath: body?.idempotencyKeyPath ?? null }, meta, key),
    );
    const row = await webhookOf(this.pool, principal.organizationId, issued.webhookId);
    if (!row) throw new NotFound('webhook');
    return { ...webhookView(key, publicBaseUrl(this.config, request), row), ...(issued.signingSecret ? { signingSecret: issued.signingSecret } : {}) };
  }

  @Get('workflows/:id/webhooks')
  @RequireRole('viewer')
  @ApiRoute({ summary: "The workflow's live webhooks (its trigger block's and the API's), with URL and token", tags: ['webhooks'], responses: { 200: webhookListResponse } })
  async list(@CurrentPrincipal() principal: Principal, @Param('id') workflowId: string, @Req() request: FastifyRequest) {
    if (!(await getCurrentWorkflow(this.pool, principal.organizationId, workflowId))) throw new NotFound('workflow');
    const { key } = await this.keys.key();
    const rows = await webhooksOfWorkflow(this.pool, principal.organizationId, workflowId);
    return { data: rows.map((row) => webhookView(key, publicBaseUrl(this.config, request), row)), next: null };
  }

  @Delete('webhooks/:id')
  @HttpCode(204)
  @RequireRole('member')
  @ApiRoute({ summary: 'Revoke a webhook: its URL answers 404 from now on (409 owned_by_workflow for a block-defined one)', tags: ['webhooks'], responses: { 204: 'revoked' } })
  async revoke(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('id') id: string) {
    await this.commands.execute(new RevokeWebhookCommand(principal.organizationId, id, meta));
  }

  @Post('webhooks/:id/rotate')
  @HttpCode(200)
  @RequireRole('member')
  @ApiRoute({
    summary: 'Issue the next signing secret (shown only here); the previous one verifies for 24 h more',
    description: "A trigger block's webhook gets its first secret this way.",
    tags: ['webhooks'],
    responses: { 200: rotateResponse },
  })
  async rotate(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('id') id: string) {
    const { key } = await this.keys.key();
    const issued = await this.commands.execute(new RotateWebhookSecretCommand(principal.organizationId, id, meta, key));
    return { id: issued.webhookId, signingSecret: issued.signingSecret };
  }

  @Get('webhooks/:id/deliveries')
  @RequireRole('viewer')
  @ApiRoute({ summary: "The webhook's recorded deliveries, newest first, each with the run it started", tags: ['webhooks'], query: deliveriesQuery, responses: { 200: deliveriesResponse } })
  async deliveries(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: z.infer<typeof deliveriesQuery>) {
    if (!(await webhookOf(this.pool, principal.organizationId, id))) throw new NotFound('webhook');
    return listDeliveries(this.pool, id, { limit: query.limit, ...(query.after ? { after: query.after } : {}) });
  }

  @Post('webhooks/:id/deliveries/:deliveryId/replay')
  @HttpCode(202)
  @RequireRole('member')
  @ApiRoute({ summary: 'Start a new run from a recorded delivery', tags: ['webhooks'], responses: { 202: deliveryAnswer } })
  replay(@CurrentPrincipal() principal: Principal, @RequestMeta() meta: EventMetadata, @Param('id') id: string, @Param('deliveryId') deliveryId: string) {
    return this.commands.execute(new ReplayDeliveryCommand(principal.organizationId, id, deliveryId, meta));
  }
}
