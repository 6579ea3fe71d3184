import { assertNever } from '../domain/assert-never';
import { webhookTriggerOf } from '../domain/webhook/webhook-params';
import { DELIVERY_STREAM_PREFIX, WEBHOOK_EVENT_TYPES, WEBHOOK_STREAM_PREFIX, type WebhookEvent } from '../domain/webhook/webhook.events';
import type { SerializedWorkflow } from '../domain/workflow/workflow';
import { derivedId } from '../event-store/ids';
import type { RecordedEvent } from '../event-store/event';
import { applyInGroups, type AppendHint, type Projection, type Queryable } from '../event-store/projection';
import { hadNoTrigger } from '../workflows/workflow-append-hint';
import { WORKFLOW_STREAM_PREFIX, workflowIdOf } from '../workflows/workflow.events';

/** The id of the webhook a workflow's trigger block defines: the same on every rebuild. */
export function workflowWebhookId(workflowId: string, blockId: string): string {
  return derivedId('webhook', workflowId, blockId);
}

/**
 * `webhooks` and `webhook_deliveries` (migrations/0010), inline: a webhook answers deliveries as
 * soon as the patch or route that defined it commits, and a delivery's row — whose unique
 * (webhook, dedupe key) index deduplicates — commits with its run. A block's webhook starts at
 * secret generation 0 (none issued: signed deliveries are refused until a rotation issues one).
 */
export const webhooksProjection: Projection = {
  name: 'webhooks',
  mode: 'inline',
  handles: [...WEBHOOK_EVENT_TYPES, 'WorkflowCreated', 'WorkflowPatched', 'WorkflowDeleted'],
  tables: ['webhooks', 'webhook_deliveries'],
  async apply(db, event, hint) {
    if (event.streamId.startsWith(WORKFLOW_STREAM_PREFIX)) return applyWorkflowFact(db, event, hint);
    return applyWebhookFact(db, event);
  },
  /** A group of deliveries' rows in one insert; anything else one event at a time, in order. */
  applyBatch(db, events) {
    return applyInGroups(events, (event) => event.type === 'WebhookReceived', (deliveries) => insertDeliveries(db, deliveries), (event) => webhooksProjection.apply(db, event));
  },
};

/**
 * `WebhookReceived` facts: a row each, in one statement (the unique (webhook, dedupe key) index
 * refuses a twin). Inserted in dedupe-key order: two groups of deliveries in flight that hold
 * the same twins the other way round then wait for each other key by key instead of deadlocking.
 */
async function insertDeliveries(db: Queryable, events: readonly RecordedEvent[]): Promise<void> {
  if (events.length === 0) return;
  const facts = events.map((event) => (event as unknown as Extract<WebhookEvent, { type: 'WebhookReceived' }>).data);
  await db.query(
    `INSERT INTO webhook_deliveries (delivery_id, webhook_id, organization_id, dedupe_key, run_id, replay_of, global_position, received_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::timestamptz[])
       AS d(delivery_id, webhook_id, organization_id, dedupe_key, run_id, replay_of, global_position, received_at)
     ORDER BY d.webhook_id COLLATE "C", d.dedupe_key COLLATE "C"`,
    [
      events.map((event) => event.streamId.slice(DELIVERY_STREAM_PREFIX.length)),
      facts.map((fact) => fact.webhookId),
      events.map((event) => event.organizationId),
      facts.map((fact) => fact.dedupeKey),
      facts.map((fact) => fact.runId),
      facts.map((fact) => fact.replayOf ?? null),
      events.map((event) => event.globalPosition),
      facts.map((fact) => fact.receivedAt),
    ],
  );
}

async function applyWorkflowFact(db: Queryable, event: RecordedEvent, hint: AppendHint | undefined): Promise<void> {
  const workflowId = workflowIdOf(event.streamId);
  const at = event.recordedAt;
  if (event.type === 'WorkflowDeleted') {
    // Every webhook of a deleted workflow stops: a delivery is 404 from here on.
    await db.query('UPDATE webhooks SET revoked_at = $2, updated_at = $2 WHERE workflow_id = $1 AND revoked_at IS NULL', [workflowId, at]);
    return;
  }
  const trigger = webhookTriggerOf((event.data as { workflow: SerializedWorkflow }).workflow);
  // Only a workflow's own events revive a revoked row of its blocks: none to revoke.
  if (!trigger && hadNoTrigger(event, hint, webhookTriggerOf)) return;
  const keepId = trigger ? workflowWebhookId(workflowId, trigger.blockId) : null;
  await db.query(
    `UPDATE webhooks SET revoked_at = $3, updated_at = $3
     WHERE workflow_id = $1 AND source = 'workflow' AND revoked_at IS NULL AND webhook_id IS DISTINCT FROM $2`,
    [workflowId, keepId, at],
  );
  if (!trigger?.settings || !keepId) return;
  // Insert, or update the settings (a block added back is live again, with the secrets it had).
  await db.query(
    `INSERT INTO webhooks (webhook_id, organization_id, workflow_id, source, block_id, signing, idempotency_key_path,
                           secret_generation, stream_version, created_at, updated_at)
     VALUES ($1, $2, $3, 'workflow', $4, $5, $6, 0, 0, $7, $7)
     ON CONFLICT ON CONSTRAINT webhooks_pkey DO UPDATE SET signing = EXCLUDED.signing, idempotency_key_path = EXCLUDED.idempotency_key_path,
       revoked_at = NULL, updated_at = EXCLUDED.updated_at`,
    [keepId, event.organizationId, workflowId, trigger.blockId, trigger.settings.signing, trigger.settings.idempotencyKeyPath, at],
  );
}

async function applyWebhookFact(db: Queryable, event: RecordedEvent): Promise<void> {
  const fact = event as unknown as WebhookEvent;
  const at = event.recordedAt;
  switch (fact.type) {
    case 'WebhookCreated':
      await db.query(
        `INSERT INTO webhooks (webhook_id, organization_id, workflow_id, source, block_id, signing, idempotency_key_path,
                               secret_generation, stream_version, created_at, updated_at)
         VALUES ($1, $2, $3, 'api', NULL, $4, $5, 1, $6, $7, $7)`,
        [fact.data.webhookId, event.organizationId, fact.data.workflowId, fact.data.signing, fact.data.idempotencyKeyPath, event.streamVersion, at],
      );
      return;
    case 'WebhookSecretRotated':
      await db.query(
        `UPDATE webhooks SET secret_generation = $2, previous_secret_until = $3::timestamptz + $4 * interval '1 second',
                stream_version = $5, updated_at = $3
         WHERE webhook_id = $1`,
        [event.streamId.slice(WEBHOOK_STREAM_PREFIX.length), fact.data.generation, at, fact.data.graceSeconds, event.streamVersion],
      );
      return;
    case 'WebhookRevoked':
      await db.query('UPDATE webhooks SET revoked_at = $2, stream_version = $3, updated_at = $2 WHERE webhook_id = $1', [
        event.streamId.slice(WEBHOOK_STREAM_PREFIX.length),
        at,
        event.streamVersion,
      ]);
      return;
    case 'WebhookReceived':
      await insertDeliveries(db, [event]);
      return;
    default:
      return assertNever(fact);
  }
}
