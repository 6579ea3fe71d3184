import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { inTransaction } from '../database/pool';
import { deliveryStream, type WebhookReceived } from '../domain/webhook/webhook.events';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { StartRunCommand } from '../runs/start-run.command';
import { deliveredRun, type WebhookRow } from './webhook-rows';

export interface DeliveryAnswer {
  runId: string;
  deliveryId?: string;
  duplicate?: true;
}

const UNIQUE_DELIVERY = 'webhook_deliveries_dedupe';

/**
 * Records a delivery and starts its run in one transaction (a delivery that cannot start its run
 * — workflow not runnable, input too large — records nothing). The delivery's unique
 * (webhook, dedupe key) row is the claim: of concurrent twins one commits, the others roll back
 * and answer its run with `duplicate: true`.
 */
@Injectable()
export class DeliveryRecorder {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(CommandBus) private readonly commands: CommandBus,
  ) {}

  async record(
    webhook: WebhookRow,
    trigger: unknown,
    facts: Omit<WebhookReceived['data'], 'deliveryId' | 'webhookId' | 'runId'>,
    metadata: EventMetadata,
  ): Promise<DeliveryAnswer> {
    const deliveryId = randomUUID();
    try {
      return await inTransaction(this.pool, async (client) => {
        const started = await this.commands.execute(new StartRunCommand(webhook.organization_id, webhook.workflow_id, trigger, metadata, { client }));
        const event: WebhookReceived = { type: 'WebhookReceived', data: { deliveryId, webhookId: webhook.webhook_id, runId: started.runId, ...facts } };
        await this.store.append(deliveryStream(deliveryId), 0, [event], { organizationId: webhook.organization_id, metadata, client });
        return { runId: started.runId, deliveryId };
      });
    } catch (error) {
      if ((error as { constraint?: string }).constraint !== UNIQUE_DELIVERY || facts.dedupeKey === null) throw error;
      const earlier = await deliveredRun(this.pool, webhook.webhook_id, facts.dedupeKey);
      if (!earlier) throw error;
      return { runId: earlier, duplicate: true };
    }
  }
}
