import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { Pool, type PoolClient } from 'pg';
import { GroupCommit } from '../database/group-commit';
import { inTransaction, type TransactionEnd } from '../database/pool';
import { deliveryStream, type WebhookReceived } from '../domain/webhook/webhook.events';
import type { EventMetadata } from '../event-store/event';
import { AppError, NotFound } from '../errors';
import { EventStore } from '../event-store/event-store';
import { StartRunCommand } from '../runs/start-run.command';
import { StartRunsCommand } from '../runs/start-runs.command';
import { deliveredRun, liveWebhookIds, type WebhookRow } from './webhook-rows';

export interface DeliveryAnswer {
  runId: string;
  deliveryId?: string;
  duplicate?: true;
}

type DeliveryFacts = Omit<WebhookReceived['data'], 'deliveryId' | 'webhookId' | 'runId'>;

interface Pending {
  deliveryId: string;
  webhook: WebhookRow;
  trigger: unknown;
  facts: DeliveryFacts;
  metadata: EventMetadata;
  resolve: (answer: DeliveryAnswer) => void;
  reject: (error: unknown) => void;
}

const UNIQUE_DELIVERY = 'webhook_deliveries_dedupe';
/** Groups in flight at once, and deliveries per group at most. */
const MAX_GROUPS_IN_FLIGHT = 3;
const MAX_GROUP_SIZE = 100;

/**
 * Records a delivery and starts its run in one transaction (a delivery that cannot start its run
 * — workflow not runnable, input too large — records nothing). The delivery's unique
 * (webhook, dedupe key) row is the claim: of concurrent twins one commits, the others roll back
 * and answer its run with `duplicate: true`. Concurrent deliveries share a transaction (group
 * commit: their runs in one statement, their events in one, their rows in one); twins never
 * share one, and when a group fails, its deliveries are recorded one by one, so each gets its
 * own answer (a 422, a duplicate).
 */
@Injectable()
export class DeliveryRecorder {
  private readonly groups = new GroupCommit<Pending>(
    { together: (group) => this.together(group), alone: (d) => this.settle(d) },
    {
      maxInFlight: MAX_GROUPS_IN_FLIGHT,
      maxSize: MAX_GROUP_SIZE,
      keyOf: (d) => (d.facts.dedupeKey === null ? d.deliveryId : `${d.webhook.webhook_id}\u0000${d.facts.dedupeKey}`),
    },
  );

  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
    @Inject(CommandBus) private readonly commands: CommandBus,
  ) {}

  record(webhook: WebhookRow, trigger: unknown, facts: DeliveryFacts, metadata: EventMetadata): Promise<DeliveryAnswer> {
    return new Promise((resolve, reject) => this.groups.submit({ deliveryId: randomUUID(), webhook, trigger, facts, metadata, resolve, reject }));
  }

  private async together(group: Pending[]): Promise<void> {
    const answers = await inTransaction(this.pool, (client, end) => this.recordAll(client, end, group));
    group.forEach((d, i) => {
      const answer = answers[i]!;
      if (answer instanceof AppError) d.reject(answer);
      else d.resolve(answer);
    });
  }

  /**
   * A group's runs and deliveries in the caller's transaction: a delivery whose run is refused
   * (its workflow is not runnable) answers the refusal and records nothing; anything else that
   * cannot be recorded throws.
   */
  private async recordAll(client: PoolClient, end: TransactionEnd, group: Pending[]): Promise<(DeliveryAnswer | AppError)[]> {
    // The webhook rows the deliveries were checked with may be a second old (`LiveWebhooks`):
    // one read here refuses a delivery whose webhook was revoked meanwhile.
    const live = await liveWebhookIds(client, [...new Set(group.map((d) => d.webhook.webhook_id))]);
    const accepted = group.filter((d) => live.has(d.webhook.webhook_id));
    const starts = accepted.map((d) => ({ organizationId: d.webhook.organization_id, workflowId: d.webhook.workflow_id, input: d.trigger, metadata: d.metadata }));
    // This process's worker takes the runs it has room for in the same commit.
    const answers = await this.commands.execute(new StartRunsCommand(starts, client, end));
    const started = new Map(accepted.map((d, i) => [d, answers[i]!]));
    const recorded = accepted.flatMap((d) => {
      const run = started.get(d)!;
      return run instanceof AppError ? [] : [{ d, runId: run.runId }];
    });
    await this.store.appendMany(
      recorded.map(({ d, runId }) => ({
        streamId: deliveryStream(d.deliveryId),
        expectedVersion: 0,
        organizationId: d.webhook.organization_id,
        events: [this.received(d, runId)],
        metadata: d.metadata,
      })),
      { client },
    );
    return group.map((d) => {
      const run = started.get(d) ?? new NotFound('webhook');
      return run instanceof AppError ? run : { runId: run.runId, deliveryId: d.deliveryId };
    });
  }

  /** One delivery in its own transaction; a twin recorded first answers instead. */
  private async settle(d: Pending): Promise<void> {
    try {
      d.resolve(await this.recordOne(d));
    } catch (error) {
      d.reject(error);
    }
  }

  private async recordOne(d: Pending): Promise<DeliveryAnswer> {
    const { webhook, facts, metadata } = d;
    try {
      return await inTransaction(this.pool, async (client) => {
        if (!(await liveWebhookIds(client, [webhook.webhook_id])).has(webhook.webhook_id)) throw new NotFound('webhook');
        const started = await this.commands.execute(new StartRunCommand(webhook.organization_id, webhook.workflow_id, d.trigger, metadata, { client }));
        await this.store.append(deliveryStream(d.deliveryId), 0, [this.received(d, started.runId)], { organizationId: webhook.organization_id, metadata, client });
        return { runId: started.runId, deliveryId: d.deliveryId };
      });
    } catch (error) {
      if ((error as { constraint?: string }).constraint !== UNIQUE_DELIVERY || facts.dedupeKey === null) throw error;
      const earlier = await deliveredRun(this.pool, webhook.webhook_id, facts.dedupeKey);
      if (!earlier) throw error;
      return { runId: earlier, duplicate: true };
    }
  }

  private received(d: Pending, runId: string): WebhookReceived {
    return { type: 'WebhookReceived', data: { deliveryId: d.deliveryId, webhookId: d.webhook.webhook_id, runId, ...d.facts } };
  }
}
