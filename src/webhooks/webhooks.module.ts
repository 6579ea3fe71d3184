import { Module } from '@nestjs/common';
import { DeliveryRecorder } from './delivery-recorder';
import { HooksController } from './hooks.controller';
import { LiveWebhooks } from './live-webhooks';
import { ReceiveDeliveryHandler } from './receive-delivery.command';
import { ReplayDeliveryHandler } from './replay-delivery.command';
import { CreateWebhookHandler, RevokeWebhookHandler, RotateWebhookSecretHandler } from './webhook-commands';
import { WebhooksController } from './webhooks.controller';

/**
 * Inbound webhooks, in API processes: management routes under `/api` and deliveries at
 * `/hooks/:token`. The read model is `webhooksProjection`, listed with the application's projections.
 */
@Module({
  controllers: [WebhooksController, HooksController],
  providers: [DeliveryRecorder, LiveWebhooks, ReceiveDeliveryHandler, ReplayDeliveryHandler, CreateWebhookHandler, RevokeWebhookHandler, RotateWebhookSecretHandler],
})
export class WebhooksModule {}
