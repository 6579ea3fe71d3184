import type { SigningMode } from '../domain/webhook/webhook-params';
import { webhookToken } from './webhook-credentials';
import type { WebhookRow } from './webhook-rows';

/** A webhook as the API shows it; `signingSecret` only in the answer that issued it. */
export interface WebhookView {
  id: string;
  url: string;
  token: string;
  source: 'workflow' | 'api';
  workflowId: string;
  blockId: string | null;
  signing: SigningMode;
  idempotencyKeyPath: string | null;
  /** False for a block's webhook until `POST /api/webhooks/:id/rotate` issues its first secret. */
  secretIssued: boolean;
  createdAt: string;
  signingSecret?: string;
}

export function webhookView(key: Buffer, baseUrl: string, row: WebhookRow): WebhookView {
  const token = webhookToken(key, row.webhook_id);
  return {
    id: row.webhook_id,
    url: `${baseUrl}/hooks/${token}`,
    token,
    source: row.source,
    workflowId: row.workflow_id,
    blockId: row.block_id,
    signing: row.signing,
    idempotencyKeyPath: row.idempotency_key_path,
    secretIssued: row.secret_generation > 0,
    createdAt: row.created_at.toISOString(),
  };
}
