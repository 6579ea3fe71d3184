import type { SigningMode } from '../domain/webhook/webhook-params';
import type { WebhookReceived } from '../domain/webhook/webhook.events';
import type { Queryable } from '../event-store/projection';
import { decodeCursor, toPage } from '../http/keyset';

// Reads of `webhooks` and `webhook_deliveries`, owned by this module (webhooks.projection.ts writes them).

export interface WebhookRow {
  webhook_id: string;
  organization_id: string;
  workflow_id: string;
  source: 'workflow' | 'api';
  block_id: string | null;
  signing: SigningMode;
  idempotency_key_path: string | null;
  secret_generation: number;
  previous_secret_until: Date | null;
  revoked_at: Date | null;
  stream_version: number;
  created_at: Date;
}

const COLUMNS = `webhook_id, organization_id, workflow_id, source, block_id, signing, idempotency_key_path, secret_generation,
  previous_secret_until, revoked_at, stream_version, created_at`;

/** A live webhook by id, in any organization (a delivery's token names it), optionally locked. */
export async function liveWebhook(db: Queryable, webhookId: string, lock = false): Promise<WebhookRow | undefined> {
  const { rows } = await db.query<WebhookRow>({
    name: lock ? 'thodare_webhook_locked' : 'thodare_webhook',
    text: `SELECT ${COLUMNS} FROM webhooks WHERE webhook_id = $1 AND revoked_at IS NULL${lock ? ' FOR UPDATE' : ''}`,
    values: [webhookId],
  });
  return rows[0];
}

/**
 * Which of `webhookIds` are live now (read in the caller's transaction: a delivery checked there
 * commits only if its webhook was live when its transaction began writing).
 */
export async function liveWebhookIds(db: Queryable, webhookIds: readonly string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ webhook_id: string }>({
    name: 'thodare_live_webhook_ids',
    text: 'SELECT webhook_id FROM webhooks WHERE webhook_id = ANY($1::text[]) AND revoked_at IS NULL',
    values: [webhookIds],
  });
  return new Set(rows.map((row) => row.webhook_id));
}

/** The organization's live webhook; undefined for another organization's or a revoked one. */
export async function webhookOf(db: Queryable, organizationId: string, webhookId: string, lock = false): Promise<WebhookRow | undefined> {
  const row = await liveWebhook(db, webhookId, lock);
  return row?.organization_id === organizationId ? row : undefined;
}

export async function webhooksOfWorkflow(db: Queryable, organizationId: string, workflowId: string): Promise<WebhookRow[]> {
  const { rows } = await db.query<WebhookRow>(
    `SELECT ${COLUMNS} FROM webhooks WHERE organization_id = $1 AND workflow_id = $2 AND revoked_at IS NULL ORDER BY created_at, webhook_id`,
    [organizationId, workflowId],
  );
  return rows;
}

/** The run an earlier delivery with this dedupe key started. */
export async function deliveredRun(db: Queryable, webhookId: string, dedupeKey: string): Promise<string | undefined> {
  const { rows } = await db.query<{ run_id: string }>({
    name: 'thodare_delivered_run',
    text: 'SELECT run_id FROM webhook_deliveries WHERE webhook_id = $1 AND dedupe_key = $2',
    values: [webhookId, dedupeKey],
  });
  return rows[0]?.run_id;
}

/** A recorded delivery as the API lists it: the `WebhookReceived` facts. */
export type DeliveryView = Omit<WebhookReceived['data'], 'webhookId'> & { recordedAt: string };

export async function deliveryOf(db: Queryable, webhookId: string, deliveryId: string): Promise<DeliveryView | undefined> {
  const { rows } = await db.query<{ data: WebhookReceived['data']; recorded_at: Date }>(
    `SELECT e.data, e.recorded_at FROM webhook_deliveries d JOIN events e ON e.global_position = d.global_position
     WHERE d.webhook_id = $1 AND d.delivery_id = $2`,
    [webhookId, deliveryId],
  );
  const row = rows[0];
  return row && deliveryView(row.data, row.recorded_at);
}

export async function listDeliveries(db: Queryable, webhookId: string, page: { after?: string; limit: number }): Promise<{ data: DeliveryView[]; next: string | null }> {
  const [after] = page.after ? decodeCursor(page.after, ['number']) : [Number.MAX_SAFE_INTEGER];
  const { rows } = await db.query<{ global_position: string; data: WebhookReceived['data']; recorded_at: Date }>(
    `SELECT d.global_position, e.data, e.recorded_at FROM webhook_deliveries d JOIN events e ON e.global_position = d.global_position
     WHERE d.webhook_id = $1 AND d.global_position < $2 ORDER BY d.global_position DESC LIMIT $3`,
    [webhookId, after, page.limit + 1],
  );
  const { items, next } = toPage(rows, page.limit, (row) => deliveryView(row.data, row.recorded_at), (row) => [Number(row.global_position)]);
  return { data: items, next };
}

function deliveryView(data: WebhookReceived['data'], recordedAt: Date): DeliveryView {
  const { webhookId: _webhook, ...rest } = data;
  return { ...rest, recordedAt: recordedAt.toISOString() };
}
