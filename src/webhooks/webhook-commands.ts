import { Inject } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { inTransaction } from '../database/pool';
import type { SigningMode } from '../domain/webhook/webhook-params';
import { webhookStream, type WebhookCreated } from '../domain/webhook/webhook.events';
import { AppError, NotFound } from '../errors';
import type { EventMetadata } from '../event-store/event';
import { EventStore } from '../event-store/event-store';
import { getCurrentWorkflow } from '../workflows/workflow-read-model';
import { signingSecret } from './webhook-credentials';
import { webhookOf } from './webhook-rows';

/** How long the previous signing secret still verifies after a rotation. */
export const ROTATION_GRACE_SECONDS = 24 * 60 * 60;

/** A webhook id and, when one was issued, its signing secret (shown in this answer only). */
export interface IssuedWebhook {
  webhookId: string;
  signingSecret?: string;
}

/** `POST /api/workflows/:id/webhooks`: a webhook of any of the organization's workflows (`source: "api"`). */
export class CreateWebhookCommand extends Command<IssuedWebhook> {
  constructor(
    readonly organizationId: string,
    readonly workflowId: string,
    readonly settings: { signing: SigningMode; idempotencyKeyPath: string | null },
    readonly metadata: EventMetadata,
    readonly key: Buffer,
  ) {
    super();
  }
}

@CommandHandler(CreateWebhookCommand)
export class CreateWebhookHandler implements ICommandHandler<CreateWebhookCommand, IssuedWebhook> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ organizationId, workflowId, settings, metadata, key }: CreateWebhookCommand): Promise<IssuedWebhook> {
    if (!(await getCurrentWorkflow(this.pool, organizationId, workflowId))) throw new AppError('workflow_not_found', `workflow ${workflowId} not found`);
    const webhookId = randomUUID();
    const event: WebhookCreated = { type: 'WebhookCreated', data: { webhookId, workflowId, ...settings } };
    await this.store.append(webhookStream(webhookId), 0, [event], { organizationId, metadata });
    return { webhookId, ...(settings.signing === 'none' ? {} : { signingSecret: signingSecret(key, webhookId, 1) }) };
  }
}

/** `DELETE /api/webhooks/:id`: its token answers 404 from now on. A block's webhook goes with its block. */
export class RevokeWebhookCommand extends Command<void> {
  constructor(
    readonly organizationId: string,
    readonly webhookId: string,
    readonly metadata: EventMetadata,
  ) {
    super();
  }
}

@CommandHandler(RevokeWebhookCommand)
export class RevokeWebhookHandler implements ICommandHandler<RevokeWebhookCommand, void> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ organizationId, webhookId, metadata }: RevokeWebhookCommand): Promise<void> {
    await inTransaction(this.pool, async (client) => {
      const row = await webhookOf(client, organizationId, webhookId, true);
      if (!row) throw new NotFound('webhook');
      if (row.source === 'workflow') {
        throw new AppError('owned_by_workflow', `This webhook is defined by block "${row.block_id}" of workflow ${row.workflow_id}: remove that block to revoke it`, {
          workflowId: row.workflow_id,
          blockId: row.block_id,
        });
      }
      await this.store.append(webhookStream(webhookId), row.stream_version, [{ type: 'WebhookRevoked', data: {} }], { organizationId, metadata, client });
    });
  }
}

/** `POST /api/webhooks/:id/rotate`: issues the next signing secret (shown once); the previous one verifies for 24 h more. */
export class RotateWebhookSecretCommand extends Command<IssuedWebhook> {
  constructor(
    readonly organizationId: string,
    readonly webhookId: string,
    readonly metadata: EventMetadata,
    readonly key: Buffer,
  ) {
    super();
  }
}

@CommandHandler(RotateWebhookSecretCommand)
export class RotateWebhookSecretHandler implements ICommandHandler<RotateWebhookSecretCommand, IssuedWebhook> {
  constructor(
    @Inject(Pool) private readonly pool: Pool,
    @Inject(EventStore) private readonly store: EventStore,
  ) {}

  async execute({ organizationId, webhookId, metadata, key }: RotateWebhookSecretCommand): Promise<IssuedWebhook> {
    const generation = await inTransaction(this.pool, async (client) => {
      const row = await webhookOf(client, organizationId, webhookId, true);
      if (!row) throw new NotFound('webhook');
      const next = row.secret_generation + 1;
      // A block's first secret replaces none: no grace for a generation nobody was ever shown.
      const graceSeconds = row.secret_generation === 0 ? 0 : ROTATION_GRACE_SECONDS;
      await this.store.append(webhookStream(webhookId), row.stream_version, [{ type: 'WebhookSecretRotated', data: { generation: next, graceSeconds } }], {
        organizationId,
        metadata,
        client,
      });
      return next;
    });
    return { webhookId, signingSecret: signingSecret(key, webhookId, generation) };
  }
}
