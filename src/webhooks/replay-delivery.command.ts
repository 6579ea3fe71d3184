import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { Pool } from 'pg';
import { NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { DeliveryRecorder, type DeliveryAnswer } from './delivery-recorder';
import { deliveryOf, webhookOf } from './webhook-rows';

/**
 * `POST /api/webhooks/:id/deliveries/:deliveryId/replay`: a new run from a recorded delivery, with
 * the trigger output it had (its original `receivedAt`), recorded as a new delivery (`replayOf`)
 * that deduplicates nothing — every replay is asked for.
 */
export class ReplayDeliveryCommand extends Command<DeliveryAnswer> {
  constructor(
    readonly organizationId: string,
    readonly webhookId: string,
    readonly deliveryId: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(ReplayDeliveryCommand)
export class ReplayDeliveryHandler implements ICommandHandler<ReplayDeliveryCommand, DeliveryAnswer> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(DeliveryRecorder) private readonly recorder: DeliveryRecorder,
  ) {}

  async execute({ organizationId, webhookId, deliveryId, metadata }: ReplayDeliveryCommand): Promise<DeliveryAnswer> {
    const webhook = await webhookOf(this.pool, organizationId, webhookId);
    const original = webhook && (await deliveryOf(this.pool, webhookId, deliveryId));
    if (!webhook || !original) throw new NotFound('delivery');
    const raw = original.bodyEncoding === 'utf8' ? original.body : Buffer.from(original.body, 'base64').toString('utf8');
    const body = raw.length === 0 ? null : (JSON.parse(raw) as unknown);
    const trigger = { body, headers: original.headers, query: original.query, method: original.method, receivedAt: original.receivedAt };
    const { dedupeKey: _replaysDeduplicateNothing, recordedAt: _recorded, deliveryId: _id, runId: _run, replayOf: _of, ...facts } = original;
    return this.recorder.record(webhook, trigger, { ...facts, dedupeKey: null, replayOf: deliveryId }, metadata);
  }
}
