import { Body, Controller, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiRoute, Public } from '../http/api-route.decorator';
import { requestMetadata } from '../http/principal';
import { WebhookRateLimit } from '../rate-limit/rate-limit.decorators';
import { rawBodyOf } from './raw-body';
import { ReceiveDeliveryCommand } from './receive-delivery.command';
import { deliveryAnswer } from './webhooks.schemas';

/** Inbound deliveries: the token in the URL is the credential (no API key). */
@Controller('hooks')
export class HooksController {
  constructor(@Inject(CommandBus) private readonly commands: CommandBus) {}

  @Post(':token')
  @Public()
  @WebhookRateLimit()
  @HttpCode(202)
  @ApiRoute({
    summary: 'Deliver to an inbound webhook: starts a run of its workflow',
    description:
      '202 {runId, deliveryId}; a repeated webhook-id (standard signing), Idempotency-Key or value at idempotencyKeyPath → 200 {runId, duplicate: true}. ' +
      '401 invalid_signature, 404 unknown or revoked token, 413 payload_too_large, 422 workflow_not_runnable, 429 rate_limited (per webhook, with Retry-After) — none of them creates a run.',
    tags: ['webhooks'],
    responses: { 202: deliveryAnswer, 200: deliveryAnswer },
    headers: ['Idempotency-Key'],
    errors: { 401: 'invalid_signature', 413: 'payload_too_large', 422: 'workflow_not_runnable' },
  })
  async deliver(@Param('token') token: string, @Body() body: unknown, @Query() query: Record<string, string>, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const answer = await this.commands.execute(
      new ReceiveDeliveryCommand({
        token,
        method: request.method,
        rawBody: rawBodyOf(request),
        body: body ?? null,
        headers: request.headers,
        query: { ...query },
        requestId: String(request.id),
        provenance: requestMetadata(request),
        now: new Date(),
      }),
    );
    if (answer.duplicate) void reply.status(200);
    return answer;
  }
}
