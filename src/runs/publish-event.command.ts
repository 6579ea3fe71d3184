import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import { inTransaction } from '../database/pool';
import { assertPayloadFits } from '../domain/run/run.bounds';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { requestHash } from '../http/request-hash';
import { claimIdempotencyKey, type IdempotencyScope } from '../idempotency/idempotency-keys';
import { deliverOrgEvent, type Delivery } from './deliver-org-event';
import { EventTriggerStarts } from './event-trigger-starts';
import { orgEventStream, type OrgEventPublished } from './org-event.events';
import { deliveryOf, ORG_EVENT_RETENTION_MS } from './org-events';
import { RunCommands } from './run-commands';

/** The answer to a published event: what its delivery did (see `Delivery`). */
export interface PublishedEvent extends Delivery {
  eventId: string;
  duplicate?: boolean;
}

/**
 * Publishes an organization-wide event: `OrgEventPublished` on its own stream (the inline
 * `org_events` projection keeps it matchable by a `wait_for_event` that begins later within the
 * retention window), then it starts the workflows it triggers and is delivered to this
 * organization's runs waiting on its name and correlation key now. Same idempotency key and body → the first answer; another body → 409
 * `idempotency_conflict`, and nothing is recorded.
 */
export class PublishEventCommand extends Command<PublishedEvent> {
  constructor(
    readonly organizationId: string,
    readonly event: { name: string; correlationKey?: string; payload?: unknown; idempotencyKey?: string },
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

/** An event's key is freed when the publication stops being matchable. */
const ORG_EVENT_KEYS: IdempotencyScope = {
  name: 'org-event',
  retentionMs: ORG_EVENT_RETENTION_MS,
  conflictMessage: 'This idempotency key was already used to publish a different event',
};

@CommandHandler(PublishEventCommand)
export class PublishEventHandler implements ICommandHandler<PublishEventCommand, PublishedEvent> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(RunCommands) private readonly runs: RunCommands,
    @Inject(EventTriggerStarts) private readonly triggers: EventTriggerStarts,
  ) {}

  async execute({ organizationId, event, metadata }: PublishEventCommand): Promise<PublishedEvent> {
    const payload = event.payload ?? null;
    assertPayloadFits('event payload', payload, this.runs.limits);
    const { name, correlationKey, idempotencyKey } = event;
    const published: OrgEventPublished = {
      type: 'OrgEventPublished',
      data: {
        eventId: randomUUID(),
        name,
        ...(correlationKey !== undefined ? { correlationKey } : {}),
        payload,
        ...(idempotencyKey ? { idempotencyKey } : {}),
        requestHash: requestHash({ name, correlationKey: correlationKey ?? null, payload }),
        retentionMs: ORG_EVENT_RETENTION_MS,
      },
    };
    const append = (client?: PoolClient) =>
      this.store.append(orgEventStream(published.data.eventId), 0, [published], { organizationId, metadata, ...(client ? { client } : {}) });
    if (!idempotencyKey) await append();
    else {
      const earlier = await this.appendOnce(organizationId, idempotencyKey, published, append);
      if (earlier) return earlier;
    }
    const { eventId } = published.data;
    const delivery = await deliverOrgEvent(this.pool, this.store, this.runs, this.triggers, { eventId, organizationId, name, correlationKey: correlationKey ?? null, payload }, metadata);
    return { eventId, ...delivery };
  }

  /**
   * Appends unless a live key of this organization was claimed by an earlier publication; then
   * answers that one (its delivery as recorded now), or 409 when its body differed. The key is
   * claimed in the append's transaction: a twin publishing the same key at once waits on it.
   */
  private async appendOnce(
    organizationId: string,
    key: string,
    published: OrgEventPublished,
    append: (client: PoolClient) => Promise<unknown>,
  ): Promise<PublishedEvent | undefined> {
    const { eventId, requestHash: hash } = published.data;
    return inTransaction(this.pool, async (client) => {
      const claim = await claimIdempotencyKey(client, ORG_EVENT_KEYS, { organizationId, key, requestHash: hash }, { eventId });
      if (claim.kind === 'claimed') {
        await append(client);
        return undefined;
      }
      const earlier = claim.result.eventId;
      return { eventId: earlier, ...(await deliveryOf(client, earlier)), duplicate: true };
    });
  }
}
